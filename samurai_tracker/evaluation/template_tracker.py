"""A template-matching baseline tracker with an honest state machine.

Not SAMURAI: a normalised cross-correlation (OpenCV ``TM_CCOEFF_NORMED``) of the seed
patch, searched in a window around the last box, with a fixed box size. It exists so that
``samurai-eval`` has a reference to compare the SAMURAI runtime against on the same
sequences, and so the harness can be exercised end to end without any model.

States: ``TRACKED`` while the best match scores at least ``min_score``; on a weaker match
the box is held (source PREDICTED) and the state is ``OCCLUDED`` for up to ``lost_after``
frames, then ``LOST``, when the search widens to the whole frame; the first match scoring
``reacquire_score`` after that is ``REACQUIRED``.
"""

from __future__ import annotations

import time
from typing import Dict, Optional

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box, BoxSource, Track, TrackState

__all__ = ['TemplateTracker']

UInt8Image = npt.NDArray[np.uint8]


def _cv2():  # type: ignore[no-untyped-def]
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - the venv carries it
        raise ImportError('the template baseline needs OpenCV: '
                          'pip install opencv-python-headless') from error
    return cv2


class TemplateTracker:
    """Normalised cross-correlation baseline; fits :class:`~.runner.TrackerLike`.

    Parameters
    ----------
    search_scale : float
        Search window size as a multiple of the box size (> 1) while following.
    min_score : float
        Correlation in [-1, 1] a match needs to count as the target while following.
    reacquire_score : float
        Correlation a full-frame match needs to end ``LOST``.
    lost_after : int
        Frames of ``OCCLUDED`` (>= 0) before the state becomes ``LOST``.

    """

    def __init__(self, search_scale: float = 2.5, min_score: float = 0.75,
                 reacquire_score: float = 0.8, lost_after: int = 3) -> None:
        if search_scale <= 1:
            raise ValueError(f'search_scale must be > 1, got {search_scale}')
        if not (-1 <= min_score <= 1 and -1 <= reacquire_score <= 1):
            raise ValueError('min_score and reacquire_score must lie in [-1, 1]')
        if lost_after < 0:
            raise ValueError(f'lost_after must be >= 0, got {lost_after}')
        self.search_scale = float(search_scale)
        self.min_score = float(min_score)
        self.reacquire_score = float(reacquire_score)
        self.lost_after = int(lost_after)
        self._template: Optional[UInt8Image] = None
        self._box: Optional[Box] = None
        self._state = TrackState.IDLE
        self._track_id = 0
        self._misses = 0
        self._timings: Dict[str, float] = {}

    @property
    def timings(self) -> Dict[str, float]:
        """Stage -> ms of the last call: ``match`` (correlation and state update)."""
        return dict(self._timings)

    def reset(self) -> None:
        """Forget the target (state IDLE); the track id keeps counting."""
        self._template = None
        self._box = None
        self._state = TrackState.IDLE
        self._misses = 0
        self._timings = {}

    def seed(self, frame_rgb: UInt8Image, box: Box, stamp_ns: Optional[int] = None) -> Track:
        """Cut the template from ``box`` (clipped to the frame) and start tracking."""
        start = time.perf_counter()
        gray = self._gray(frame_rgb)
        height, width = gray.shape
        clipped = box.clip(width, height)
        x1, y1, x2, y2 = (int(round(v)) for v in clipped.xyxy)
        if x2 - x1 < 2 or y2 - y1 < 2:
            raise ValueError(f'seed box must overlap the {width}x{height} frame by at least '
                             f'2x2 pixels, got {box.xyxy.tolist()}')
        self._template = gray[y1:y2, x1:x2].copy()
        self._box = Box.from_xyxy(x1, y1, x2, y2)
        self._state = TrackState.TRACKED
        self._track_id += 1
        self._misses = 0
        self._timings = {'match': (time.perf_counter() - start) * 1e3}
        return Track(self._state, BoxSource.FULL_INFERENCE, self._box, 1.0, self._track_id, 0)

    def track(self, frame_rgb: UInt8Image, stamp_ns: Optional[int] = None) -> Track:
        """Match the template in the next frame and update the state."""
        if self._template is None or self._box is None:
            raise RuntimeError('TemplateTracker.track called before seed')
        cv2 = _cv2()
        start = time.perf_counter()
        gray = self._gray(frame_rgb)
        height, width = gray.shape
        th, tw = self._template.shape
        lost = self._state is TrackState.LOST
        if lost:
            x0, y0, window = 0, 0, gray
        else:
            half_w, half_h = tw * self.search_scale / 2, th * self.search_scale / 2
            x0 = int(max(0, round(self._box.cx - half_w)))
            y0 = int(max(0, round(self._box.cy - half_h)))
            x3 = int(min(width, round(self._box.cx + half_w)))
            y3 = int(min(height, round(self._box.cy + half_h)))
            window = gray[y0:y3, x0:x3]
            if window.shape[0] < th or window.shape[1] < tw:
                x0, y0, window = 0, 0, gray
        scores = cv2.matchTemplate(window, self._template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        best = float(best) if np.isfinite(best) else -1.0
        needed = self.reacquire_score if lost else self.min_score
        if best >= needed:
            self._box = Box.from_xyxy(x0 + bx, y0 + by, x0 + bx + tw, y0 + by + th)
            self._state = TrackState.REACQUIRED if lost else TrackState.TRACKED
            self._misses = 0
            source = BoxSource.FULL_INFERENCE
        else:
            self._misses += 1
            self._state = (TrackState.OCCLUDED if self._misses <= self.lost_after
                           else TrackState.LOST)
            source = BoxSource.PREDICTED
        self._timings = {'match': (time.perf_counter() - start) * 1e3}
        return Track(self._state, source, self._box, float(np.clip(best, 0.0, 1.0)),
                     self._track_id, self._misses)

    @staticmethod
    def _gray(frame_rgb: UInt8Image) -> UInt8Image:
        frame = np.asarray(frame_rgb)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f'frame_rgb must be (H, W, 3) uint8, got {frame.shape} '
                             f'{frame.dtype}')
        return _cv2().cvtColor(frame, _cv2().COLOR_RGB2GRAY)
