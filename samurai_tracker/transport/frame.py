"""The frame record that travels between nodes by reference in composed mode.

A frame is pixels plus the stamp and frame id of the image they came from. The pixels are
a host array (numpy, shape (H, W, 3), uint8, RGB) or a device array: anything with
``__cuda_array_interface__`` (CuPy, torch, a NITROS view) of the same shape and dtype, so
that a GPU pipeline can hand frames over without a copy to the host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

import numpy as np
import numpy.typing as npt

__all__ = ['Frame', 'to_host']


def _shape_of(pixels: Any) -> Tuple[int, ...]:
    if isinstance(pixels, np.ndarray):
        return tuple(pixels.shape)
    interface = getattr(pixels, '__cuda_array_interface__', None)
    if interface is None:
        raise TypeError('Frame.pixels must be a numpy array or expose __cuda_array_interface__,'
                        f' got {type(pixels).__name__}')
    return tuple(int(d) for d in interface['shape'])


@dataclass(frozen=True)
class Frame:
    """One image handed between nodes.

    Parameters
    ----------
    pixels : numpy.ndarray or device array, shape (H, W, 3), uint8
        RGB pixels; never modified by a receiver (treat as read-only).
    stamp_ns : int
        Stamp of the image (ROS time, nanoseconds, >= 0).
    frame_id : str
        Coordinate frame of the camera.

    """

    pixels: Any
    stamp_ns: int
    frame_id: str = ''

    def __post_init__(self) -> None:
        """Check the pixel shape and the stamp."""
        shape = _shape_of(self.pixels)
        if len(shape) != 3 or shape[2] != 3 or shape[0] < 1 or shape[1] < 1:
            raise ValueError(f'Frame.pixels must have shape (H, W, 3), got {shape}')
        if self.stamp_ns < 0:
            raise ValueError(f'Frame.stamp_ns must be >= 0, got {self.stamp_ns}')

    @property
    def on_device(self) -> bool:
        """Whether the pixels live in GPU memory."""
        return not isinstance(self.pixels, np.ndarray)

    @property
    def size(self) -> Tuple[int, int]:
        """``(width, height)`` in pixels."""
        shape = _shape_of(self.pixels)
        return shape[1], shape[0]


def to_host(frame: Frame) -> npt.NDArray[np.uint8]:
    """Return the pixels as a numpy array, copying from the GPU only when they live there.

    Raises
    ------
    RuntimeError
        If the pixels are on the GPU and neither CuPy nor torch is installed to copy them.

    """
    if not frame.on_device:
        return np.asarray(frame.pixels)
    try:
        import cupy
        return np.ascontiguousarray(cupy.asnumpy(cupy.asarray(frame.pixels)))
    except ImportError:
        pass
    try:
        import torch
        return torch.as_tensor(frame.pixels, device='cuda').cpu().numpy()
    except ImportError as error:
        raise RuntimeError('a GPU frame reached a CPU consumer and neither cupy nor torch is '
                           'installed to copy it: pip install cupy-cuda12x') from error
