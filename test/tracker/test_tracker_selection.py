"""SAMURAI's three candidate-selection regimes."""

import numpy as np
import pytest

from samurai_tracker.records import Box
from samurai_tracker.tracker import kalman
from samurai_tracker.tracker.selection import choose_candidate, SelectionState

KW = {'stable_frames_threshold': 15, 'stable_ious_threshold': 0.3, 'kf_score_weight': 0.25}


def boxes_fn(boxes):
    calls = []

    def box_of(i):
        calls.append(i)
        return boxes[i]
    return box_of, calls


def test_regime_one_takes_best_iou_and_starts_the_filter():
    box_of, calls = boxes_fn([Box.from_xyxy(0, 0, 10, 10), Box.from_xyxy(50, 50, 70, 90), None])
    choice = choose_candidate(SelectionState(), [0.2, 0.9, 0.5], box_of, **KW)
    assert (choice.index, choice.regime, choice.kf_score) == (1, 1, None)
    assert calls == [1]  # only the winner's box is computed
    np.testing.assert_allclose(choice.state.kf.mean[:4], Box.from_xyxy(50, 50, 70, 90).xyah())
    assert choice.state.stable_frames == 1


def test_regime_two_updates_only_above_the_stable_iou():
    kf = kalman.initiate(Box.from_xyxy(0, 0, 10, 10))
    start = SelectionState(kf, 3)
    target = Box.from_xyxy(2, 0, 12, 10)
    box_of, _ = boxes_fn([None, target, None])
    good = choose_candidate(start, [0.1, 0.8, 0.2], box_of, **KW)
    expected = kalman.update(kalman.predict(kf), target)
    np.testing.assert_allclose(good.state.kf.mean, expected.mean)
    assert (good.regime, good.state.stable_frames) == (2, 4)
    bad = choose_candidate(start, [0.1, 0.3, 0.2], box_of, **KW)  # 0.3 is not > 0.3
    np.testing.assert_allclose(bad.state.kf.mean, kalman.predict(kf).mean)
    assert bad.state.stable_frames == 0


def test_regime_three_weighs_motion_against_predicted_iou():
    kf = kalman.initiate(Box.from_xyxy(100, 100, 140, 140))
    near = Box.from_xyxy(100, 100, 140, 140)   # on the prediction (kf IoU 1)
    far = Box.from_xyxy(300, 300, 340, 340)    # far away (kf IoU 0)
    box_of, calls = boxes_fn([far, near, None])
    # score: far 0.75*0.9 = 0.675; near 0.25*1 + 0.75*0.7 = 0.775 -> near wins
    choice = choose_candidate(SelectionState(kf, 15), [0.9, 0.7, 0.1], box_of, **KW)
    assert (choice.index, choice.regime) == (1, 3)
    assert choice.kf_score == pytest.approx(near.iou(kalman.state_box(kalman.predict(kf))))
    assert sorted(calls) == [0, 1, 2]
    assert choice.state.stable_frames == 15
    # without motion weight the highest predicted IoU wins
    plain = choose_candidate(SelectionState(kf, 15), [0.9, 0.7, 0.1], box_of,
                             **{**KW, 'kf_score_weight': 0.0})
    assert plain.index == 0
    # a low predicted IoU on the winner makes the track unstable, filter only predicted
    low = choose_candidate(SelectionState(kf, 15), [0.2, 0.25, 0.1], box_of, **KW)
    assert low.state.stable_frames == 0
    np.testing.assert_allclose(low.state.kf.mean, kalman.predict(kf).mean)


def test_empty_mask_is_never_a_measurement():
    kf = kalman.initiate(Box.from_xyxy(0, 0, 10, 10))
    box_of, _ = boxes_fn([None, None, None])
    first = choose_candidate(SelectionState(), [0.9, 0.1, 0.1], box_of, **KW)
    assert first.state.kf is None and first.state.stable_frames == 0
    second = choose_candidate(SelectionState(kf, 5), [0.9, 0.1, 0.1], box_of, **KW)
    assert second.state.stable_frames == 0
    np.testing.assert_allclose(second.state.kf.mean, kalman.predict(kf).mean)


def test_bad_scores_raise():
    with pytest.raises(ValueError, match='finite'):
        choose_candidate(SelectionState(), [np.nan, 0.2], lambda i: None, **KW)
