"""Greedy non-maximum suppression, per class.

YOLO proposes many overlapping boxes per object; NMS keeps the highest-scoring box and
drops every other box of the same class that overlaps it by more than an IoU threshold.
Boxes of different classes never suppress each other (class-aware NMS), so a person
standing in front of a car keeps both boxes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import box_iou_matrix

__all__ = ['batched_nms', 'nms']

IntArray = npt.NDArray[np.int64]


def _check(xyxy: npt.ArrayLike, scores: npt.ArrayLike,
           iou_threshold: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    boxes = np.asarray(xyxy, dtype=np.float64)
    values = np.asarray(scores, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'boxes must have shape (N, 4), got {boxes.shape}')
    if values.shape != (boxes.shape[0],):
        raise ValueError(f'scores must have shape ({boxes.shape[0]},), got {values.shape}')
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f'iou_threshold must lie in [0, 1], got {iou_threshold}')
    return boxes, values


def nms(xyxy: npt.ArrayLike, scores: npt.ArrayLike, iou_threshold: float) -> IntArray:
    """Greedy NMS over one set of boxes, ignoring classes.

    Parameters
    ----------
    xyxy : array_like, shape (N, 4)
        Boxes in pixels.
    scores : array_like, shape (N,)
        Higher is better.
    iou_threshold : float
        A box is dropped when its IoU with a kept, higher-scoring box is above this, in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (K,), int64
        Indices of the kept boxes, highest score first (ties keep the lower index first).

    """
    boxes, values = _check(xyxy, scores, iou_threshold)
    order = np.argsort(-values, kind='stable')
    keep = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        rest = order[1:]
        overlap = box_iou_matrix(boxes[best:best + 1], boxes[rest])[0]
        order = rest[overlap <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(xyxy: npt.ArrayLike, scores: npt.ArrayLike, class_ids: npt.ArrayLike,
                iou_threshold: float) -> IntArray:
    """Class-aware greedy NMS: boxes only suppress boxes of their own class.

    Parameters
    ----------
    xyxy : array_like, shape (N, 4)
        Boxes in pixels.
    scores : array_like, shape (N,)
        Higher is better.
    class_ids : array_like, shape (N,)
        Integer class of each box.
    iou_threshold : float
        IoU in [0, 1] above which a lower-scoring box of the same class is dropped.

    Returns
    -------
    numpy.ndarray, shape (K,), int64
        Indices of the kept boxes, highest score first.

    """
    boxes, values = _check(xyxy, scores, iou_threshold)
    classes = np.asarray(class_ids, dtype=np.int64)
    if classes.shape != values.shape:
        raise ValueError(f'class_ids must have shape {values.shape}, got {classes.shape}')
    if boxes.shape[0] == 0:
        return np.zeros((0,), np.int64)
    # Shift each class into its own region of the plane so one NMS pass never mixes classes.
    span = float(np.max(np.abs(boxes))) + 1.0
    shifted = boxes + (classes.astype(np.float64) * 2 * span)[:, None]
    return nms(shifted, values, iou_threshold)
