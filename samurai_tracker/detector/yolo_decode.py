"""Decode the raw output tensor of an Ultralytics YOLO (v8 / 11) detector.

The exported ONNX model has one output of shape ``[1, 4 + nc, N]``: for each of the N
anchor points, the box centre and size ``cx, cy, w, h`` in *input* pixels (the
letterboxed square), then ``nc`` class scores already passed through a sigmoid. There is no
objectness column (unlike YOLOv5). Decoding keeps each anchor's best class, drops scores
under the confidence threshold, optionally keeps only some classes, runs class-aware NMS and
returns the survivors, still in input pixels (the caller maps them back through the
letterbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

from samurai_tracker.detector.nms import batched_nms
from samurai_tracker.records import Detections

__all__ = ['DecodeConfig', 'check_output_shape', 'decode_yolo_output']


@dataclass(frozen=True)
class DecodeConfig:
    """Thresholds of the decoder.

    Parameters
    ----------
    confidence_threshold : float
        Minimum class score kept, in [0, 1].
    iou_threshold : float
        NMS IoU threshold, in [0, 1].
    class_filter : tuple of int, optional
        Class ids to keep; empty keeps every class.
    max_candidates : int
        At most this many highest-scoring boxes enter NMS (>= 1); bounds the cost when a
        very low threshold lets thousands through.
    max_detections : int
        At most this many boxes are returned (>= 1).

    """

    confidence_threshold: float = 0.25
    iou_threshold: float = 0.45
    class_filter: Sequence[int] = ()
    max_candidates: int = 3000
    max_detections: int = 300

    def __post_init__(self) -> None:
        """Validate ranges."""
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ValueError(f'confidence_threshold must lie in [0, 1], '
                             f'got {self.confidence_threshold}')
        if not 0.0 <= self.iou_threshold <= 1.0:
            raise ValueError(f'iou_threshold must lie in [0, 1], got {self.iou_threshold}')
        classes = tuple(int(c) for c in self.class_filter)
        if any(c < 0 for c in classes):
            raise ValueError(f'class_filter ids must be >= 0, got {list(classes)}')
        object.__setattr__(self, 'class_filter', classes)
        if self.max_candidates < 1 or self.max_detections < 1:
            raise ValueError('max_candidates and max_detections must be >= 1')


def check_output_shape(shape: Sequence[object], num_classes: Optional[int]) -> None:
    """Check that a model output shape follows the ``[1, 4 + nc, N]`` contract.

    Parameters
    ----------
    shape : sequence
        The output shape; dynamic dimensions (str or None) are accepted where they stand.
    num_classes : int, optional
        The number of class names; when given, the second dimension must be ``4 + nc``.

    Raises
    ------
    ValueError
        With the expected and the found shape, and a hint for the usual causes.

    """
    dims = list(shape)
    hint = ('expected an Ultralytics YOLOv8/11 detection output [1, 4 + nc, N] '
            '(export with `yolo export model=yolo11n.pt format=onnx imgsz=640`)')
    if len(dims) != 3:
        raise ValueError(f'{hint}; got shape {dims}')
    batch, channels = dims[0], dims[1]
    if isinstance(batch, int) and batch != 1:
        raise ValueError(f'{hint}; got batch {batch} in shape {dims}')
    if isinstance(channels, int):
        if channels < 5:
            raise ValueError(f'{hint}; got {channels} channels in shape {dims}')
        if num_classes is not None and channels != 4 + num_classes:
            raise ValueError(
                f'the model predicts {channels - 4} classes (shape {dims}) but the class-names '
                f'file lists {num_classes}: pass the names file the model was trained with')


def decode_yolo_output(output: npt.ArrayLike, config: DecodeConfig,
                       num_classes: Optional[int] = None) -> Detections:
    """Turn one raw output tensor into detections in input pixels.

    Parameters
    ----------
    output : array_like, shape (1, 4 + nc, N)
        The model's output: ``cx, cy, w, h`` (input pixels) then ``nc`` class scores.
    config : DecodeConfig
        Thresholds and class filter.
    num_classes : int, optional
        Expected ``nc``; checked when given.

    Returns
    -------
    Detections
        Boxes ``xyxy`` in input pixels, scores in [0, 1], class ids; highest score first.
        Anchors with non-finite values or negative sizes are dropped, never raised on:
        one bad anchor must not lose the whole image.

    Raises
    ------
    ValueError
        If the shape breaks the contract (see :func:`check_output_shape`).

    """
    raw = np.asarray(output)
    check_output_shape(raw.shape, num_classes)
    table = raw[0].astype(np.float64, copy=False).T  # (N, 4 + nc)
    scores_all = table[:, 4:]
    class_ids = np.argmax(scores_all, axis=1) if table.shape[0] else np.zeros(0, np.int64)
    scores = scores_all[np.arange(table.shape[0]), class_ids] if table.shape[0] else \
        np.zeros(0, np.float64)
    cxcywh = table[:, :4]
    keep = np.isfinite(cxcywh).all(axis=1) & np.isfinite(scores)
    keep &= (cxcywh[:, 2] >= 0) & (cxcywh[:, 3] >= 0)
    keep &= scores >= config.confidence_threshold
    if config.class_filter:
        keep &= np.isin(class_ids, np.asarray(config.class_filter, np.int64))
    index = np.flatnonzero(keep)
    if index.size > config.max_candidates:
        top = np.argsort(-scores[index], kind='stable')[:config.max_candidates]
        index = index[top]
    centre = cxcywh[index, :2]
    half = cxcywh[index, 2:] / 2
    xyxy = np.concatenate([centre - half, centre + half], axis=1)
    picked_scores = np.clip(scores[index], 0.0, 1.0)
    picked_classes = class_ids[index].astype(np.int64)
    kept = batched_nms(xyxy, picked_scores, picked_classes, config.iou_threshold)
    kept = kept[:config.max_detections]
    return Detections(xyxy[kept], picked_scores[kept], picked_classes[kept])
