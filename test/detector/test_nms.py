"""Class-aware NMS against a brute-force reference written independently."""

import numpy as np
import pytest

from samurai_tracker.detector import batched_nms, nms


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference(boxes, scores, classes, threshold):
    """Keep box i iff no higher-ranked kept box of its class overlaps it above threshold."""
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in ranked:
        if all(classes[k] != classes[i] or _iou(boxes[k], boxes[i]) <= threshold
               for k in kept):
            kept.append(i)
    return kept


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('threshold', [0.0, 0.3, 0.5, 0.9])
def test_batched_nms_matches_brute_force(seed, threshold):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    corner = rng.uniform(0, 200, size=(n, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(5, 60, size=(n, 2))], axis=1)
    scores = rng.uniform(0, 1, size=n).round(2)  # rounding makes ties happen
    classes = rng.integers(0, 3, size=n)
    got = batched_nms(boxes, scores, classes, threshold).tolist()
    assert got == _reference(boxes.tolist(), scores.tolist(), classes.tolist(), threshold)


def test_same_box_of_two_classes_survives_twice():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10]], np.float64)
    kept = batched_nms(boxes, [0.9, 0.8, 0.7], [0, 1, 0], 0.5)
    assert sorted(kept.tolist()) == [0, 1]
    assert nms(boxes, [0.9, 0.8, 0.7], 0.5).tolist() == [0]


def test_empty_and_bad_input():
    assert batched_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).shape == (0,)
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        nms(np.zeros((3, 3)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        nms(np.zeros((1, 4)), np.zeros(1), 1.5)
