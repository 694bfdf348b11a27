"""sensor_msgs/Image <-> numpy, with a clear error for every kind of bad image.

The nodes work on RGB ``uint8`` arrays of shape (H, W, 3). Conversion copies at most once
(a BGR or 4-channel image is reordered; an rgb8 image with a tight row stride is viewed
without a copy and then copied once so the message buffer can be released).
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import numpy.typing as npt
from sensor_msgs.msg import Image
from std_msgs.msg import Header

__all__ = ['ImageError', 'SUPPORTED_ENCODINGS', 'image_to_rgb', 'rgb_to_image']

#: encoding -> (channels, index order that turns the pixel into RGB)
_LAYOUTS: Dict[str, Tuple[int, Tuple[int, ...]]] = {
    'rgb8': (3, (0, 1, 2)),
    'bgr8': (3, (2, 1, 0)),
    'rgba8': (4, (0, 1, 2)),
    'bgra8': (4, (2, 1, 0)),
    'mono8': (1, (0, 0, 0)),
}
SUPPORTED_ENCODINGS = tuple(_LAYOUTS)

#: Largest accepted side (pixels); bigger images are refused rather than exhausting memory.
MAX_SIDE = 8192


class ImageError(ValueError):
    """An image message cannot be used; the message says why and what is expected."""


def image_to_rgb(msg: Image, allow_mono: bool = False,
                 min_side: int = 16) -> npt.NDArray[np.uint8]:
    """Convert an image message into an RGB array.

    Parameters
    ----------
    msg : sensor_msgs.msg.Image
        8-bit image in one of ``SUPPORTED_ENCODINGS``.
    allow_mono : bool
        Accept ``mono8`` (replicated into three channels). The tracker refuses grayscale
        because SAM 2.1 was trained on colour; the bridge may allow it.
    min_side : int
        Smallest accepted width or height in pixels.

    Returns
    -------
    numpy.ndarray, shape (H, W, 3), uint8
        A contiguous copy, safe to keep after the message is gone.

    Raises
    ------
    ImageError
        Unsupported encoding, empty or too small or too large image, or a step or data
        size that does not match width, height and encoding.

    """
    encoding = msg.encoding.lower()
    if encoding not in _LAYOUTS or (encoding == 'mono8' and not allow_mono):
        allowed = [e for e in SUPPORTED_ENCODINGS if allow_mono or e != 'mono8']
        raise ImageError(f"unsupported encoding '{msg.encoding}' (expected one of {allowed})")
    width, height = int(msg.width), int(msg.height)
    if width < min_side or height < min_side:
        raise ImageError(f'image of {width}x{height} is too small (min {min_side}x{min_side})')
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(f'image of {width}x{height} is too large (max {MAX_SIDE} per side)')
    channels, order = _LAYOUTS[encoding]
    row_bytes = width * channels
    step = int(msg.step)
    if step < row_bytes:
        raise ImageError(f'step {step} is smaller than width x channels = {row_bytes}')
    data = np.frombuffer(msg.data, dtype=np.uint8) if len(msg.data) else np.zeros(0, np.uint8)
    if data.size < step * (height - 1) + row_bytes:
        raise ImageError(f'data has {data.size} bytes, expected {step * height} '
                         f'({height} rows of step {step})')
    rows = np.lib.stride_tricks.as_strided(
        data, shape=(height, width, channels), strides=(step, channels, 1), writeable=False)
    if channels == 1:
        return np.ascontiguousarray(np.repeat(rows, 3, axis=2))
    if order == (0, 1, 2) and channels == 3:
        return np.array(rows, dtype=np.uint8, copy=True)
    return np.ascontiguousarray(rows[:, :, list(order)])


def rgb_to_image(rgb: npt.NDArray[np.uint8], header: Header,
                 encoding: str = 'rgb8') -> Image:
    """Wrap an RGB array into an image message.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (H, W, 3), uint8
    header : std_msgs.msg.Header
        Stamp and frame of the image.
    encoding : str
        ``rgb8``, ``bgr8`` or ``mono8`` (luma, BT.601 weights).

    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(f'expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}')
    if encoding == 'rgb8':
        pixels = np.ascontiguousarray(rgb)
    elif encoding == 'bgr8':
        pixels = np.ascontiguousarray(rgb[:, :, ::-1])
    elif encoding == 'mono8':
        luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        pixels = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    else:
        raise ImageError(f"cannot publish encoding '{encoding}' (use rgb8, bgr8 or mono8)")
    msg = Image()
    msg.header = header
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(pixels.strides[0])
    msg.data = pixels.tobytes()
    return msg
