"""Validation of what callers hand the tracker: frames, seed boxes, stamps.

Each check raises :class:`~samurai_tracker.tracker.errors.TrackerInputError` with a
message that says what was expected (and, where there is one, how to convert), *before*
the tracker changes any state.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from samurai_tracker.records import Box
from samurai_tracker.tracker.errors import TrackerInputError

__all__ = ['check_frame', 'check_seed_box', 'check_stamp']


def _device_frame(frame: Any) -> Optional[Tuple[Tuple[int, ...], str]]:
    """``(shape, typestr)`` of a GPU array (``__cuda_array_interface__``), else None."""
    interface = getattr(frame, '__cuda_array_interface__', None)
    if not isinstance(interface, dict):
        return None
    return tuple(int(d) for d in interface.get('shape', ())), str(interface.get('typestr'))


def check_frame(frame: Any, min_side: int, seeded_size: Optional[Tuple[int, int]] = None,
                device_ok: bool = False) -> Tuple[int, int]:
    """Check an RGB frame and return its ``(width, height)`` in pixels.

    Parameters
    ----------
    frame : object
        Must be a numpy array of shape (H, W, 3), dtype uint8, both sides >= ``min_side``;
        with ``device_ok`` also a GPU array of that shape and type (a torch CUDA tensor or
        anything with ``__cuda_array_interface__``).
    min_side : int
        Smallest accepted side in pixels.
    seeded_size : tuple of int, optional
        ``(width, height)`` the track was seeded on; a different size is refused (boxes
        and the Kalman state are in the seeded frame's pixels).
    device_ok : bool
        Whether the runtime can read frames that are already on the GPU.

    """
    device = _device_frame(frame)
    if device is not None:
        if not device_ok:
            raise TrackerInputError('frame is a GPU array but this tracker runs on the CPU; '
                                    'pass a numpy array or use the torch backend on cuda')
        shape, typestr = device
        if len(shape) != 3 or shape[2] != 3 or typestr not in ('|u1', '<u1'):
            raise TrackerInputError(f'a GPU frame must be (H, W, 3) uint8 RGB, got shape '
                                    f'{shape} type {typestr}')
    elif not isinstance(frame, np.ndarray):
        raise TrackerInputError(f'frame must be a numpy array (H, W, 3) uint8 RGB, got '
                                f'{type(frame).__name__}')
    elif frame.ndim != 3 or frame.shape[2] != 3:
        hint = ' (grayscale: np.repeat(gray[:, :, None], 3, axis=2))' if frame.ndim == 2 else ''
        raise TrackerInputError(f'frame must have shape (H, W, 3) RGB, got {frame.shape}{hint}')
    elif frame.dtype != np.uint8:
        raise TrackerInputError(f'frame must be uint8 (0..255), got {frame.dtype}; convert '
                                'with np.clip(x, 0, 255).astype(np.uint8)')
    height, width = (device[0] if device is not None else frame.shape)[:2]
    if width < min_side or height < min_side:
        raise TrackerInputError(f'frame is {width}x{height}; frames need at least '
                                f'{min_side}x{min_side} pixels')
    if seeded_size is not None and seeded_size != (width, height):
        raise TrackerInputError(f'frame is {width}x{height} but the track was seeded on '
                                f'{seeded_size[0]}x{seeded_size[1]}; seed again after a '
                                'resolution change')
    return width, height


def check_stamp(stamp_ns: Any) -> Optional[int]:
    """Return the stamp as an int (nanoseconds >= 0) or None."""
    if stamp_ns is None:
        return None
    if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, (int, np.integer)) or \
            stamp_ns < 0:
        raise TrackerInputError(f'stamp_ns must be a non-negative int (nanoseconds) or None, '
                                f'got {stamp_ns!r}')
    return int(stamp_ns)


def check_seed_box(box: Any, width: int, height: int) -> Box:
    """Return the seed box clipped to a ``width`` x ``height`` frame.

    Accepts a :class:`~samurai_tracker.records.Box` or ``[x1, y1, x2, y2]``; refuses
    non-finite values, an empty box, a box outside the frame, or one covering less than a
    pixel of it.
    """
    if not isinstance(box, Box):
        try:
            box = Box(np.asarray(box, dtype=np.float64))
        except (TypeError, ValueError) as error:
            raise TrackerInputError(f'seed box must be a Box or [x1, y1, x2, y2] of finite '
                                    f'pixels: {error}') from error
    if box.width <= 0 or box.height <= 0:
        raise TrackerInputError(f'seed box must have positive size, got {box.width} x '
                                f'{box.height} px')
    if not box.overlaps_image(width, height):
        raise TrackerInputError(f'seed box {box.xyxy.round(1).tolist()} lies outside the '
                                f'{width}x{height} frame')
    clipped = box.clip(width, height)
    if clipped.width < 1 or clipped.height < 1:
        raise TrackerInputError(f'seed box {box.xyxy.round(1).tolist()} covers less than one '
                                'pixel of the frame')
    return clipped
