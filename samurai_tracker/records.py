"""Validated records shared by every stage: boxes, detections, track states.

All boxes are in image pixels of the full frame (never crop-relative) and stored as
``xyxy`` = ``[x1, y1, x2, y2]`` float64, with ``x2 >= x1`` and ``y2 >= y1``. Records are
frozen dataclasses validated on construction, so a bad value fails where it is made
with an error that names the expected shape or range, not three stages later.

This module never imports rclpy: it is part of the ROS-free core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import enum
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = [
    'Box',
    'BoxSource',
    'Detections',
    'SeedPolicy',
    'TrackState',
    'Track',
    'box_iou_matrix',
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class TrackState(enum.IntEnum):
    """Track state; the values equal the ``STATE_*`` constants of ``TrackStatus.msg``."""

    IDLE = 0
    INITIALIZING = 1
    TRACKED = 2
    OCCLUDED = 3
    LOST = 4
    REACQUIRED = 5


class BoxSource(enum.IntEnum):
    """Origin of a box; the values equal the ``SOURCE_*`` constants of ``TrackStatus.msg``."""

    NONE = 0
    FULL_INFERENCE = 1
    PREDICTED = 2
    DETECTOR = 3
    FUSED = 4


class SeedPolicy(str, enum.Enum):
    """How to choose the seed among detections of the target class."""

    MOST_CONFIDENT = 'most_confident'
    NEAREST_CENTER = 'nearest_center'


def _as_float_vector(value: npt.ArrayLike, name: str, length: int) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (length,):
        raise ValueError(f'{name} must have shape ({length},), got {array.shape}')
    return array


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in full-frame pixels.

    Parameters
    ----------
    xyxy : numpy.ndarray, shape (4,), float64
        ``[x1, y1, x2, y2]`` in pixels; finite, with ``x2 >= x1`` and ``y2 >= y1``.

    Raises
    ------
    ValueError
        If the shape is not (4,), a value is not finite, or a corner pair is inverted.

    """

    xyxy: FloatArray

    def __post_init__(self) -> None:
        """Validate and freeze the coordinate array."""
        xyxy = _as_float_vector(self.xyxy, 'Box.xyxy', 4).copy()
        if not np.all(np.isfinite(xyxy)):
            raise ValueError(f'Box.xyxy must be finite, got {xyxy.tolist()}')
        if xyxy[2] < xyxy[0] or xyxy[3] < xyxy[1]:
            raise ValueError(
                f'Box.xyxy must satisfy x2 >= x1 and y2 >= y1, got {xyxy.tolist()}')
        xyxy.setflags(write=False)
        object.__setattr__(self, 'xyxy', xyxy)

    @classmethod
    def from_xyxy(cls, x1: float, y1: float, x2: float, y2: float) -> 'Box':
        """Make a box from its corners (pixels)."""
        return cls(np.array([x1, y1, x2, y2], dtype=np.float64))

    @classmethod
    def from_cxcywh(cls, cx: float, cy: float, w: float, h: float) -> 'Box':
        """Make a box from its centre and full size (pixels); size must be >= 0."""
        if not (w >= 0 and h >= 0):
            raise ValueError(f'Box size must be >= 0, got w={w}, h={h}')
        return cls(np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float64))

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> 'Box':
        """Make a box from its top-left corner and size (pixels), as in LaSOT/OTB files."""
        if not (w >= 0 and h >= 0):
            raise ValueError(f'Box size must be >= 0, got w={w}, h={h}')
        return cls(np.array([x, y, x + w, y + h], dtype=np.float64))

    @classmethod
    def from_xyah(cls, xyah: npt.ArrayLike) -> 'Box':
        """Make a box from ``[cx, cy, aspect = w / h, h]`` (the SAMURAI Kalman measurement)."""
        cx, cy, a, h = _as_float_vector(xyah, 'xyah', 4)
        return cls.from_cxcywh(cx, cy, a * h, h)

    @property
    def cx(self) -> float:
        """Centre x (pixels)."""
        return float(self.xyxy[0] + self.xyxy[2]) / 2

    @property
    def cy(self) -> float:
        """Centre y (pixels)."""
        return float(self.xyxy[1] + self.xyxy[3]) / 2

    @property
    def width(self) -> float:
        """Full width (pixels)."""
        return float(self.xyxy[2] - self.xyxy[0])

    @property
    def height(self) -> float:
        """Full height (pixels)."""
        return float(self.xyxy[3] - self.xyxy[1])

    @property
    def area(self) -> float:
        """Area (square pixels)."""
        return self.width * self.height

    def cxcywh(self) -> FloatArray:
        """Return ``[cx, cy, w, h]`` (pixels), shape (4,)."""
        return np.array([self.cx, self.cy, self.width, self.height], dtype=np.float64)

    def xywh(self) -> FloatArray:
        """Return ``[x1, y1, w, h]`` (pixels), shape (4,)."""
        return np.array([self.xyxy[0], self.xyxy[1], self.width, self.height], np.float64)

    def xyah(self) -> FloatArray:
        """Return ``[cx, cy, w / h, h]``, shape (4,); h must be > 0."""
        if self.height <= 0:
            raise ValueError('xyah needs a box with positive height')
        return np.array([self.cx, self.cy, self.width / self.height, self.height], np.float64)

    def iou(self, other: 'Box') -> float:
        """Intersection over union with another box, in [0, 1] (0 for two empty boxes)."""
        return float(box_iou_matrix(self.xyxy[None], other.xyxy[None])[0, 0])

    def clip(self, width: int, height: int) -> 'Box':
        """Return the box clipped to an image of ``width`` x ``height`` pixels."""
        limits = np.array([width, height, width, height], dtype=np.float64)
        return Box(np.clip(self.xyxy, 0.0, limits))

    def overlaps_image(self, width: int, height: int) -> bool:
        """Whether the box has a positive-area overlap with a ``width`` x ``height`` image."""
        return self.clip(width, height).area > 0


def box_iou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Pairwise IoU of two sets of xyxy boxes.

    Parameters
    ----------
    a : array_like, shape (N, 4)
    b : array_like, shape (M, 4)

    Returns
    -------
    numpy.ndarray, shape (N, M), float64
        IoU in [0, 1]; 0 where the union is empty.

    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return iou.astype(np.float64)


@dataclass(frozen=True)
class Detections:
    """The detections of one image, in full-frame pixels.

    Parameters
    ----------
    xyxy : numpy.ndarray, shape (N, 4), float64
        Boxes; finite with non-negative size.
    scores : numpy.ndarray, shape (N,), float64
        Confidences in [0, 1].
    class_ids : numpy.ndarray, shape (N,), int64
        Class indices (>= 0) into the detector's class list.

    """

    xyxy: FloatArray = field(default_factory=lambda: np.zeros((0, 4), np.float64))
    scores: FloatArray = field(default_factory=lambda: np.zeros((0,), np.float64))
    class_ids: IntArray = field(default_factory=lambda: np.zeros((0,), np.int64))

    def __post_init__(self) -> None:
        """Validate shapes and ranges, and freeze the arrays."""
        xyxy = np.asarray(self.xyxy, dtype=np.float64).copy()
        scores = np.asarray(self.scores, dtype=np.float64).copy()
        class_ids = np.asarray(self.class_ids, dtype=np.int64).copy()
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f'Detections.xyxy must have shape (N, 4), got {xyxy.shape}')
        n = xyxy.shape[0]
        if scores.shape != (n,):
            raise ValueError(f'Detections.scores must have shape ({n},), got {scores.shape}')
        if class_ids.shape != (n,):
            raise ValueError(
                f'Detections.class_ids must have shape ({n},), got {class_ids.shape}')
        if not np.all(np.isfinite(xyxy)):
            raise ValueError('Detections.xyxy must be finite')
        if np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1]):
            raise ValueError('Detections.xyxy must satisfy x2 >= x1 and y2 >= y1')
        if not np.all((scores >= 0) & (scores <= 1)):
            raise ValueError('Detections.scores must lie in [0, 1]')
        if np.any(class_ids < 0):
            raise ValueError('Detections.class_ids must be >= 0')
        for name, array in (('xyxy', xyxy), ('scores', scores), ('class_ids', class_ids)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        """Return the number of detections."""
        return int(self.xyxy.shape[0])

    def box(self, index: int) -> Box:
        """Return detection ``index`` as a :class:`Box`."""
        return Box(self.xyxy[index])

    def select(self, mask: npt.ArrayLike) -> 'Detections':
        """Return the detections where the boolean ``mask`` (shape (N,)) is true."""
        keep = np.asarray(mask, dtype=bool)
        return Detections(self.xyxy[keep], self.scores[keep], self.class_ids[keep])

    def of_class(self, class_id: Optional[int]) -> 'Detections':
        """Return the detections of ``class_id`` (all of them when it is None)."""
        if class_id is None:
            return self
        return self.select(self.class_ids == class_id)

    def best(self, policy: SeedPolicy, image_width: int, image_height: int) -> Optional[int]:
        """Index of the best detection under ``policy``, or None when there is none.

        ``NEAREST_CENTER`` picks the detection whose centre is closest to the image centre
        (ties broken by score); ``MOST_CONFIDENT`` the highest score.
        """
        if len(self) == 0:
            return None
        if SeedPolicy(policy) is SeedPolicy.MOST_CONFIDENT:
            return int(np.argmax(self.scores))
        centres = (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2
        target = np.array([image_width / 2, image_height / 2])
        distance = np.linalg.norm(centres - target, axis=1)
        order = np.lexsort((-self.scores, distance))
        return int(order[0])


@dataclass(frozen=True)
class Track:
    """One published estimate of the followed object.

    Parameters
    ----------
    state : TrackState
    source : BoxSource
    box : Box or None
        Full-frame pixels; None only when ``state`` is IDLE or INITIALIZING.
    confidence : float
        Calibrated probability in [0, 1] that ``box`` is on the target.
    track_id : int
        >= 0; changes on every (re)seed; 0 means never seeded.
    frames_since_measurement : int
        >= 0; consecutive frames without a good measurement.
    message : str
        Human-readable note, empty when all is well.

    """

    state: TrackState
    source: BoxSource
    box: Optional[Box]
    confidence: float
    track_id: int
    frames_since_measurement: int = 0
    message: str = ''

    def __post_init__(self) -> None:
        """Validate ranges."""
        object.__setattr__(self, 'state', TrackState(self.state))
        object.__setattr__(self, 'source', BoxSource(self.source))
        if not (0.0 <= self.confidence <= 1.0):
            raise ValueError(f'Track.confidence must lie in [0, 1], got {self.confidence}')
        if self.track_id < 0 or self.frames_since_measurement < 0:
            raise ValueError('Track.track_id and frames_since_measurement must be >= 0')
        if self.box is None and self.state not in (TrackState.IDLE, TrackState.INITIALIZING):
            raise ValueError(f'Track in state {self.state.name} needs a box')
