"""Draw the track (and optionally detections and the mask) onto an RGB frame.

The overlay is what an operator watching the output stream sees, so it encodes the
track's honesty at a glance: the box colour is the track state (green TRACKED, orange
OCCLUDED = predicted not measured, red LOST = last known position, cyan REACQUIRED,
yellow INITIALIZING), the label gives the track id, state and calibrated confidence.
A box drawn from an older frame's track (no track matched this frame's stamp) is drawn
thin, so a lagging tracker is visible instead of hidden.

Pure numpy/OpenCV on an ``(H, W, 3)`` uint8 RGB array; returns a new array.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box, Detections, Track, TrackState

__all__ = ['DETECTION_COLOUR', 'STATE_COLOURS', 'draw_overlay', 'track_label']

RGB = Tuple[int, int, int]

#: Box colour per track state, RGB.
STATE_COLOURS: Dict[TrackState, RGB] = {
    TrackState.IDLE: (160, 160, 160),
    TrackState.INITIALIZING: (255, 255, 0),
    TrackState.TRACKED: (0, 255, 0),
    TrackState.OCCLUDED: (255, 160, 0),
    TrackState.LOST: (255, 0, 0),
    TrackState.REACQUIRED: (0, 255, 255),
}

#: Colour of detector boxes, RGB.
DETECTION_COLOUR: RGB = (80, 140, 255)

_MASK_ALPHA = 0.35


def track_label(track: Track) -> str:
    """Text drawn next to the box, e.g. ``'#3 TRACKED 0.87'``."""
    return f'#{track.track_id} {track.state.name} {track.confidence:.2f}'


def _corners(box: Box, width: int, height: int) -> Optional[Tuple[int, int, int, int]]:
    clipped = box.clip(width - 1, height - 1)
    if clipped.width <= 0 and clipped.height <= 0:
        return None
    x1, y1, x2, y2 = (int(round(v)) for v in clipped.xyxy)
    return x1, y1, x2, y2


def draw_overlay(image: npt.NDArray[np.uint8], track: Optional[Track] = None,
                 detections: Optional[Detections] = None,
                 mask: Optional[npt.NDArray[np.generic]] = None, *, thickness: int = 3,
                 stale: bool = False) -> npt.NDArray[np.uint8]:
    """Return a copy of ``image`` with the overlay drawn.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, 3), uint8
        The frame, RGB.
    track : Track, optional
        The track of this frame; its box is drawn in :data:`STATE_COLOURS` with a label.
        Nothing is drawn for a track without a box (IDLE).
    detections : Detections, optional
        Detector boxes, drawn 1 px wide in :data:`DETECTION_COLOUR` under the track.
    mask : numpy.ndarray, shape (H, W), optional
        Target mask (bool or any numeric; non-zero = target), tinted in the state colour.
    thickness : int
        Track box line width in pixels, in [1, 20].
    stale : bool
        The track belongs to an earlier frame: drawn 1 px wide, label marked ``(old)``.

    Raises
    ------
    ValueError
        When the image is not (H, W, 3) uint8 or the mask's shape differs from (H, W).

    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'overlay needs an (H, W, 3) uint8 RGB image, got {image.shape} '
                         f'{image.dtype}')
    if not 1 <= thickness <= 20:
        raise ValueError(f'overlay thickness must lie in [1, 20] px, got {thickness}')
    height, width = image.shape[:2]
    out = np.ascontiguousarray(image).copy()
    colour = STATE_COLOURS[track.state] if track is not None else STATE_COLOURS[TrackState.IDLE]
    if mask is not None:
        if mask.shape != (height, width):
            raise ValueError(f'overlay mask must have shape ({height}, {width}), '
                             f'got {mask.shape}')
        on = np.asarray(mask) != 0
        tint = np.array(colour, dtype=np.float32)
        out[on] = (out[on] * (1 - _MASK_ALPHA) + tint * _MASK_ALPHA).astype(np.uint8)
    if detections is not None:
        for index in range(len(detections)):
            corners = _corners(detections.box(index), width, height)
            if corners is not None:
                cv2.rectangle(out, corners[:2], corners[2:], DETECTION_COLOUR, 1)
    if track is not None and track.box is not None:
        corners = _corners(track.box, width, height)
        if corners is not None:
            line = 1 if stale else thickness
            cv2.rectangle(out, corners[:2], corners[2:], colour, line)
            label = track_label(track) + (' (old)' if stale else '')
            scale = max(0.35, min(1.0, height / 720))
            (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            x1, y1 = corners[0], corners[1]
            top = y1 - th - base - 2 if y1 - th - base - 2 >= 0 else corners[3] + 1
            top = min(max(top, 0), max(height - th - base - 2, 0))
            cv2.rectangle(out, (x1, top), (min(x1 + tw + 4, width - 1), top + th + base + 2),
                          colour, -1)
            cv2.putText(out, label, (x1 + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (0, 0, 0), 1, cv2.LINE_AA)
    return out
