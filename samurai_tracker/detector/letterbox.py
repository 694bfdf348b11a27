"""Letterbox an image into the detector's square input and map boxes back.

Ultralytics YOLO models are trained on square inputs made by scaling the image with one
factor (the aspect ratio is kept) and padding the rest with grey (pixel value 114). The
detector must prepare its input the same way, and its boxes, which come out in input pixels,
must be mapped back through the inverse of exactly that transform to land on the original
image. Both directions live here so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ['LETTERBOX_PAD_VALUE', 'Letterbox', 'letterbox']

LETTERBOX_PAD_VALUE = 114
"""Grey level (0..255) of the padding, as in Ultralytics' training pipeline."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Letterbox:
    """The affine map from original image pixels to letterboxed input pixels.

    ``input = original * scale + (pad_x, pad_y)`` on both corners of a box; one ``scale``
    for both axes, which keeps the aspect ratio.

    Parameters
    ----------
    scale : float
        Input pixels per original pixel (> 0).
    pad_x, pad_y : int
        Grey columns on the left and rows on the top of the input (>= 0).
    image_width, image_height : int
        Size of the original image (pixels, >= 1).
    input_size : int
        Side of the square model input (pixels, >= 1).

    """

    scale: float
    pad_x: int
    pad_y: int
    image_width: int
    image_height: int
    input_size: int

    def __post_init__(self) -> None:
        """Validate the transform."""
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f'Letterbox.scale must be finite and > 0, got {self.scale}')
        if self.pad_x < 0 or self.pad_y < 0:
            raise ValueError(f'Letterbox pads must be >= 0, got ({self.pad_x}, {self.pad_y})')
        if min(self.image_width, self.image_height, self.input_size) < 1:
            raise ValueError('Letterbox image and input sizes must be >= 1')

    @classmethod
    def fit(cls, image_width: int, image_height: int, input_size: int) -> 'Letterbox':
        """Compute the transform that fits a ``image_width`` x ``image_height`` image.

        The scaled image is centred; an odd padding puts the extra pixel right/bottom.
        """
        if min(image_width, image_height, input_size) < 1:
            raise ValueError(f'sizes must be >= 1, got image {image_width}x{image_height}, '
                             f'input {input_size}')
        scale = min(input_size / image_width, input_size / image_height)
        new_w, new_h = cls._scaled_size(image_width, image_height, scale, input_size)
        return cls(scale=scale, pad_x=(input_size - new_w) // 2, pad_y=(input_size - new_h) // 2,
                   image_width=image_width, image_height=image_height, input_size=input_size)

    @staticmethod
    def _scaled_size(width: int, height: int, scale: float, size: int) -> Tuple[int, int]:
        return (min(max(int(round(width * scale)), 1), size),
                min(max(int(round(height * scale)), 1), size))

    @property
    def scaled_size(self) -> Tuple[int, int]:
        """``(width, height)`` of the resized image inside the input (pixels)."""
        return self._scaled_size(self.image_width, self.image_height, self.scale,
                                 self.input_size)

    def to_input(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Map boxes from original to input pixels; shape (N, 4) in, (N, 4) float64 out."""
        boxes = _as_boxes(xyxy)
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float64)
        return boxes * self.scale + offset

    def to_original(self, xyxy: npt.ArrayLike, clip: bool = True) -> FloatArray:
        """Map boxes from input to original pixels; shape (N, 4) in, (N, 4) float64 out.

        With ``clip`` the boxes are clipped to the original image, so a box that spills into
        the grey padding ends at the image border.
        """
        boxes = _as_boxes(xyxy)
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float64)
        out = (boxes - offset) / self.scale
        if clip:
            limits = np.array([self.image_width, self.image_height] * 2, np.float64)
            out = np.clip(out, 0.0, limits)
        return out


def _as_boxes(xyxy: npt.ArrayLike) -> FloatArray:
    boxes = np.asarray(xyxy, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'boxes must have shape (N, 4), got {boxes.shape}')
    return boxes


def letterbox(image: npt.NDArray[np.uint8],
              input_size: int) -> Tuple[npt.NDArray[np.float32], Letterbox]:
    """Make the detector input from an RGB image.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, 3), uint8
        RGB image.
    input_size : int
        Side S of the square model input (pixels), for example 640.

    Returns
    -------
    blob : numpy.ndarray, shape (1, 3, S, S), float32
        RGB in 0..1, channels first, padded with 114 / 255.
    transform : Letterbox
        The map to send the model's boxes back to ``image`` pixels.

    Raises
    ------
    ValueError
        If the image is not (H, W, 3) uint8 or is empty.

    """
    array: npt.NDArray[np.uint8] = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f'image must be an RGB array of shape (H, W, 3) and dtype uint8, '
                         f'got shape {array.shape} dtype {array.dtype}')
    height, width = array.shape[:2]
    if height < 1 or width < 1:
        raise ValueError(f'image must not be empty, got {width}x{height}')
    transform = Letterbox.fit(width, height, input_size)
    new_w, new_h = transform.scaled_size
    if (new_w, new_h) != (width, height):
        # bilinear, as Ultralytics' LetterBox resizes its training and predict inputs
        array = np.asarray(cv2.resize(array, (new_w, new_h), interpolation=cv2.INTER_LINEAR),
                           np.uint8)
    canvas = np.full((input_size, input_size, 3), LETTERBOX_PAD_VALUE, np.uint8)
    top, left = transform.pad_y, transform.pad_x
    canvas[top:top + new_h, left:left + new_w] = array
    blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) * np.float32(1 / 255)
    return np.ascontiguousarray(blob), transform
