"""Decoding of hand-built ``[1, 4 + nc, N]`` output tensors."""

import numpy as np
import pytest

from samurai_tracker.detector import check_output_shape, DecodeConfig, decode_yolo_output


def _tensor(rows, num_classes):
    """Build an output tensor from rows of (cx, cy, w, h, class, score)."""
    out = np.zeros((1, 4 + num_classes, len(rows)), np.float32)
    for j, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[0, :4, j] = (cx, cy, w, h)
        out[0, 4 + cls, j] = score
    return out


def test_decodes_centre_size_to_corners_and_sorts_by_score():
    out = _tensor([(100, 50, 20, 10, 2, 0.6), (300, 200, 40, 80, 0, 0.9)], num_classes=3)
    found = decode_yolo_output(out, DecodeConfig(confidence_threshold=0.5), num_classes=3)
    np.testing.assert_allclose(found.xyxy, [[280, 160, 320, 240], [90, 45, 110, 55]])
    np.testing.assert_allclose(found.scores, [0.9, 0.6], atol=1e-6)
    assert found.class_ids.tolist() == [0, 2]


def test_best_class_per_anchor_and_confidence_threshold():
    out = _tensor([(10, 10, 4, 4, 0, 0.3)], num_classes=2)
    out[0, 5, 0] = 0.7  # class 1 scores higher on the same anchor
    found = decode_yolo_output(out, DecodeConfig(confidence_threshold=0.5))
    assert found.class_ids.tolist() == [1]
    assert len(decode_yolo_output(out, DecodeConfig(confidence_threshold=0.75))) == 0


def test_class_filter_and_class_aware_nms():
    rows = [(50, 50, 20, 20, 0, 0.9), (51, 50, 20, 20, 0, 0.8), (50, 50, 20, 20, 1, 0.7),
            (200, 200, 10, 10, 2, 0.95)]
    out = _tensor(rows, num_classes=3)
    found = decode_yolo_output(out, DecodeConfig(confidence_threshold=0.1, iou_threshold=0.5))
    # the second class-0 box is suppressed by the first; class 1 on the same spot stays
    assert sorted(zip(found.class_ids.tolist(), np.round(found.scores, 2).tolist())) == \
        [(0, 0.9), (1, 0.7), (2, 0.95)]
    only = decode_yolo_output(out, DecodeConfig(confidence_threshold=0.1, class_filter=(1, 2)))
    assert sorted(only.class_ids.tolist()) == [1, 2]


def test_bad_anchors_are_dropped_not_raised():
    rows = [(50, 50, 20, 20, 0, 0.9), (80, 80, -5, 10, 0, 0.9), (10, 10, 5, 5, 0, 0.9)]
    out = _tensor(rows, num_classes=1)
    out[0, 0, 2] = np.nan
    found = decode_yolo_output(out, DecodeConfig())
    np.testing.assert_allclose(found.xyxy, [[40, 40, 60, 60]])


def test_max_detections_and_empty_output():
    rows = [(i * 50.0, 10, 10, 10, 0, 0.5 + i / 100) for i in range(10)]
    found = decode_yolo_output(_tensor(rows, 1), DecodeConfig(max_detections=3))
    assert len(found) == 3 and found.scores[0] == pytest.approx(0.59)
    assert len(decode_yolo_output(np.zeros((1, 5, 0), np.float32), DecodeConfig())) == 0


@pytest.mark.parametrize('shape,names,match', [
    ((84, 8400), None, 'got shape'),
    ((2, 84, 8400), None, 'batch'),
    ((1, 4, 8400), None, 'channels'),
    ((1, 85, 8400), 80, 'predicts 81 classes'),
])
def test_contract_violations_name_the_expected_shape(shape, names, match):
    with pytest.raises(ValueError, match=match):
        check_output_shape(shape, names)


def test_dynamic_dimensions_are_accepted():
    check_output_shape(('batch', 84, 'anchors'), 80)


@pytest.mark.parametrize('kwargs', [{'confidence_threshold': 1.5}, {'iou_threshold': -0.1},
                                    {'class_filter': (-1,)}, {'max_detections': 0}])
def test_bad_config_is_refused(kwargs):
    with pytest.raises(ValueError):
        DecodeConfig(**kwargs)
