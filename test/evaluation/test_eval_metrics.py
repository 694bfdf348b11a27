"""Accuracy metrics against values computed by hand (see the comments for the working)."""

import numpy as np
import pytest

from samurai_tracker.evaluation.metrics import (
    absent_policy_for, CENTRE_THRESHOLDS_PX, frame_errors, mean_accuracy,
    NORM_CENTRE_THRESHOLDS, OVERLAP_THRESHOLDS, sequence_accuracy)
from samurai_tracker.records import Box

NAN4 = [np.nan] * 4

# Truth: a 10 x 10 box at the origin on every frame; frame 6 has the target absent.
TRUE = np.array([[0, 0, 10, 10]] * 7, dtype=np.float64)
PRESENT = np.array([True] * 6 + [False])
PRED = np.array([
    [0, 0, 10, 10],    # 0: IoU 1, error 0
    [0, 0, 10, 10],    # 1: IoU 1, error 0
    [5, 0, 15, 10],    # 2: inter 50, union 150 -> IoU 1/3; error 5 px; norm 5/10 = 0.5
    [20, 0, 30, 10],   # 3: IoU 0; error 20 px (on the 20 px boundary); norm 2.0
    [0, 0, 20, 20],    # 4: inter 100, union 400 -> 0.25; error sqrt(50); norm sqrt(0.5)
    NAN4,              # 5: no prediction -> IoU 0, error inf
    [0, 0, 10, 10],    # 6: target absent: not an error sample
], dtype=np.float64)


def test_thresholds_are_the_toolkit_ones():
    assert OVERLAP_THRESHOLDS.size == 21 and OVERLAP_THRESHOLDS[0] == 0.0
    assert OVERLAP_THRESHOLDS[-1] == 1.0 and OVERLAP_THRESHOLDS[10] == 0.5
    assert CENTRE_THRESHOLDS_PX.tolist() == list(range(51))
    assert NORM_CENTRE_THRESHOLDS.size == 51 and NORM_CENTRE_THRESHOLDS[20] == 0.2


def test_frame_errors_by_hand():
    errors = frame_errors(PRED, TRUE, PRESENT)
    np.testing.assert_allclose(errors.overlap[:6], [1, 1, 1 / 3, 0, 0.25, 0])
    np.testing.assert_allclose(errors.centre_px[:5], [0, 0, 5, 20, np.sqrt(50)])
    np.testing.assert_allclose(errors.centre_norm[:5], [0, 0, 0.5, 2.0, np.sqrt(0.5)])
    assert errors.centre_px[5] == np.inf and errors.centre_norm[5] == np.inf
    assert np.isnan(errors.overlap[6]) and np.isnan(errors.centre_px[6])


def test_success_curve_auc_and_op_by_hand():
    accuracy = sequence_accuracy(frame_errors(PRED, TRUE, PRESENT), 'exclude')
    # overlaps 1, 1, 1/3, 0, 0.25, 0 against "> t": 4 frames for t in {0, .05, .1, .15, .2},
    # 3 for t in {.25, .3} (0.25 > 0.25 is false), 2 for t in .35 ... .95, none at t = 1.
    expected = np.array([4] * 5 + [3] * 2 + [2] * 13 + [0]) / 6
    np.testing.assert_allclose(accuracy.success_curve, expected)
    assert accuracy.auc == pytest.approx((4 * 5 + 3 * 2 + 2 * 13) / (21 * 6))
    assert accuracy.op50 == pytest.approx(2 / 6) and accuracy.op75 == pytest.approx(2 / 6)
    assert accuracy.mean_overlap == pytest.approx((2 + 1 / 3 + 0.25) / 6)
    assert accuracy.frames == 6


def test_precision_curves_by_hand():
    accuracy = sequence_accuracy(frame_errors(PRED, TRUE, PRESENT), 'exclude')
    # centre errors 0, 0, 5, 20, 7.07, inf against "<= t"
    assert accuracy.precision == pytest.approx(5 / 6)            # 20 px boundary counts
    assert accuracy.precision_curve[19] == pytest.approx(4 / 6)
    assert accuracy.precision_curve[5] == pytest.approx(3 / 6)
    assert accuracy.precision_curve[4] == pytest.approx(2 / 6)
    assert accuracy.precision_curve[50] == pytest.approx(5 / 6)  # inf never counts
    # normalised errors 0, 0, 0.5, 2.0, 0.707, inf: 2 frames below 0.5, 3 at 0.5
    assert accuracy.norm_precision == pytest.approx(2 / 6)
    assert accuracy.norm_precision_curve[50] == pytest.approx(3 / 6)
    assert accuracy.norm_precision_auc == pytest.approx((2 * 50 + 3) / (51 * 6))


def test_fail_policy_keeps_absent_frames_in_the_denominator():
    errors = frame_errors(PRED, TRUE, PRESENT)
    fail = sequence_accuracy(errors, 'fail')
    exclude = sequence_accuracy(errors, 'exclude')
    assert fail.frames == 7 and exclude.frames == 6
    np.testing.assert_allclose(fail.success_curve * 7, exclude.success_curve * 6)
    assert fail.precision == pytest.approx(5 / 7)
    assert absent_policy_for('lasot') == 'fail' and absent_policy_for('uav123') == 'fail'
    assert absent_policy_for('otb') == 'exclude' and absent_policy_for('video') == 'exclude'
    assert absent_policy_for('lasot', 'exclude') == 'exclude'
    with pytest.raises(ValueError, match='absent_frames'):
        absent_policy_for('lasot', 'drop')


def test_overlap_matches_the_record_iou_on_random_boxes():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, size=(200, 2, 2))
    pred = np.concatenate([xy[:, 0], xy[:, 0] + rng.uniform(1, 50, (200, 2))], axis=1)
    true = np.concatenate([xy[:, 1], xy[:, 1] + rng.uniform(1, 50, (200, 2))], axis=1)
    errors = frame_errors(pred, true, np.ones(200, bool))
    reference = [Box(p).iou(Box(t)) for p, t in zip(pred, true)]
    np.testing.assert_allclose(errors.overlap, reference, atol=1e-12)
    centre = np.hypot(*((pred[:, :2] + pred[:, 2:]) / 2 - (true[:, :2] + true[:, 2:]) / 2).T)
    np.testing.assert_allclose(errors.centre_px, centre)


def test_overall_is_the_mean_of_sequence_curves():
    perfect = sequence_accuracy(frame_errors(TRUE[:2], TRUE[:2], np.ones(2, bool)))
    # a long bad sequence does not outweigh a short good one: sequences weigh equally
    bad = sequence_accuracy(frame_errors(np.full((50, 4), np.nan), np.tile(TRUE[:1], (50, 1)),
                                         np.ones(50, bool)))
    overall = mean_accuracy([perfect, bad])
    assert perfect.auc == pytest.approx(20 / 21) and bad.auc == 0.0
    assert overall.auc == pytest.approx(10 / 21)
    assert overall.frames == 52
    empty = sequence_accuracy(frame_errors(TRUE[:1], TRUE[:1], np.zeros(1, bool)))
    assert empty.frames == 0 and np.isnan(empty.auc)
    assert mean_accuracy([perfect, empty]).auc == pytest.approx(perfect.auc)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match=r'shape \(N, 4\)'):
        frame_errors(np.zeros((3, 4)), np.zeros((2, 4)), np.ones(3, bool))
    with pytest.raises(ValueError, match='present must have shape'):
        frame_errors(np.zeros((3, 4)), np.zeros((3, 4)), np.ones(2, bool))
