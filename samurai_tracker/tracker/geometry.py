"""Where the encoder looks: the window of the frame that is resized to the model input.

A :class:`ViewWindow` is an axis-aligned rectangle of the frame (full-frame pixels,
continuous coordinates: pixel ``i`` covers ``[i, i + 1)``) that is mapped onto the
``S x S`` model input. In crop mode it is a square around the predicted box; in
full-frame mode it is the whole frame (resized without keeping the aspect ratio, as the
reference SAM 2 video predictor does). All boxes the runtime reports go through
:meth:`ViewWindow.to_frame`, so they are always full-frame pixels.

The window may extend past the frame; :meth:`ViewWindow.affine` gives the 2x3 matrix that
maps frame pixel *centres* to input pixel centres (``u + 0.5 = (x + 0.5 - x0) * sx``),
which is what ``cv2.warpAffine`` and the GPU samplers need; the part outside the frame is
filled with the mean colour (zero after normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box

__all__ = ['ViewWindow', 'crop_window', 'full_frame_window', 'mask_box']

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ViewWindow:
    """A frame rectangle mapped onto the square model input.

    Parameters
    ----------
    x0, y0 : float
        Top-left corner in full-frame pixels (may be negative).
    width, height : float
        Size in full-frame pixels (> 0).
    size : int
        Model input side ``S`` in pixels.

    """

    x0: float
    y0: float
    width: float
    height: float
    size: int

    def __post_init__(self) -> None:
        """Validate the window."""
        values = (self.x0, self.y0, self.width, self.height)
        if not all(np.isfinite(v) for v in values) or self.width <= 0 or self.height <= 0:
            raise ValueError(f'ViewWindow needs finite x0, y0 and positive width, height; '
                             f'got {values}')
        if self.size < 1:
            raise ValueError(f'ViewWindow.size must be >= 1, got {self.size}')

    @property
    def scale_x(self) -> float:
        """Input pixels per frame pixel along x."""
        return self.size / self.width

    @property
    def scale_y(self) -> float:
        """Input pixels per frame pixel along y."""
        return self.size / self.height

    def affine(self) -> FloatArray:
        """Return the 2x3 matrix mapping frame pixel centres to input pixel centres.

        ``[u, v] = A @ [x, y, 1]`` with ``u = sx x + (sx - 1) / 2 - sx x0``.
        """
        sx, sy = self.scale_x, self.scale_y
        return np.array([[sx, 0.0, 0.5 * (sx - 1.0) - sx * self.x0],
                         [0.0, sy, 0.5 * (sy - 1.0) - sy * self.y0]], dtype=np.float64)

    def to_input(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Map continuous frame coordinates ``[x1, y1, x2, y2]`` to input pixels."""
        b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        scale = np.array([self.scale_x, self.scale_y] * 2)
        offset = np.array([self.x0, self.y0] * 2)
        return ((b - offset) * scale).reshape(np.shape(xyxy))

    def to_frame(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Map continuous input coordinates ``[x1, y1, x2, y2]`` back to frame pixels."""
        b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        scale = np.array([self.scale_x, self.scale_y] * 2)
        offset = np.array([self.x0, self.y0] * 2)
        return (b / scale + offset).reshape(np.shape(xyxy))


def full_frame_window(frame_width: int, frame_height: int, size: int) -> ViewWindow:
    """Return the window of the whole frame (the reference's resize, aspect not kept)."""
    return ViewWindow(0.0, 0.0, float(frame_width), float(frame_height), size)


def crop_window(box: Box, frame_width: int, frame_height: int, size: int,
                context_factor: float, min_side: float) -> ViewWindow:
    """Return the square window around ``box`` that the encoder sees in crop mode.

    Parameters
    ----------
    box : Box
        Predicted box, full-frame pixels.
    frame_width, frame_height : int
        Frame size in pixels.
    size : int
        Model input side ``S``.
    context_factor : float
        Window side = ``context_factor * max(box width, box height)`` ...
    min_side : float
        ... but at least ``min_side`` pixels, so a tiny box is not magnified without bound,
        and at most the frame's longer side (never more than the whole frame).

    Returns
    -------
    ViewWindow
        Square, centred on the box, then shifted to lie inside the frame where it fits
        (more real context, less padding); along an axis the frame is shorter than the
        window, the window is centred on the frame, so it covers that axis entirely.

    """
    longest = float(max(frame_width, frame_height))
    side = min(max(context_factor * max(box.width, box.height), min_side), longest)
    x0 = box.cx - side / 2
    y0 = box.cy - side / 2
    x0 = min(max(x0, 0.0), frame_width - side) if side <= frame_width else \
        (frame_width - side) / 2
    y0 = min(max(y0, 0.0), frame_height - side) if side <= frame_height else \
        (frame_height - side) / 2
    return ViewWindow(float(x0), float(y0), float(side), float(side), size)


def mask_box(mask: npt.NDArray[np.bool_]) -> FloatArray | None:
    """Bounding box of the true pixels of a 2-D mask, or None when it is empty.

    Parameters
    ----------
    mask : numpy.ndarray, shape (H, W), bool

    Returns
    -------
    numpy.ndarray, shape (4,), float64, or None
        ``[x_min, y_min, x_max + 1, y_max + 1]``: the continuous extent of the pixels
        (the reference reports the inclusive indices ``x_max, y_max``; the +1 makes the
        box cover the last pixel, one pixel wider).

    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D (H, W), got shape {mask.shape}')
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)
