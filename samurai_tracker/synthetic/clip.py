"""A generated clip with a known truth: a textured object moving over a textured scene.

Tests, benchmarks, the evaluation harness and the demo all need video with a target whose
box is known exactly, and nothing may be downloaded. The clip is rendered lazily, one
frame at a time, so a 10 000-frame 1080p clip costs no memory up front.

The object follows a smooth Lissajous path, can be hidden behind an occluder (a band of
scene texture drawn over it) for a frame range, and an optional distractor of the same
look crosses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box

__all__ = ['SyntheticClip']

UInt8Image = npt.NDArray[np.uint8]


def _texture(rng: np.random.Generator, height: int, width: int, cell: int) -> UInt8Image:
    """Blocky random colour texture of shape (height, width, 3), uint8."""
    cells = rng.integers(0, 256, size=(height // cell + 1, width // cell + 1, 3), dtype=np.uint8)
    return np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)[:height, :width]


@dataclass(frozen=True)
class SyntheticClip:
    """Parameters of a generated clip; frames and truth are derived on demand.

    Parameters
    ----------
    num_frames : int
        Number of frames (>= 1).
    width, height : int
        Frame size in pixels (>= 64 each).
    object_size : tuple of int
        Object width and height in pixels.
    occlusion : tuple of int, optional
        ``(first, last)`` frame range (inclusive) during which the object is hidden.
    distractor : bool
        Draw a second object with the same look that crosses the first mid-clip.
    seed : int
        Seed of the textures and the path.
    fps : float
        Nominal frame rate, for timestamps.

    """

    num_frames: int = 60
    width: int = 640
    height: int = 480
    object_size: Tuple[int, int] = (96, 72)
    occlusion: Optional[Tuple[int, int]] = None
    distractor: bool = False
    seed: int = 0
    fps: float = 30.0

    def __post_init__(self) -> None:
        """Validate the parameters."""
        if self.num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {self.num_frames}')
        if self.width < 64 or self.height < 64:
            raise ValueError(f'frame size must be >= 64x64, got {self.width}x{self.height}')
        ow, oh = self.object_size
        if not (4 <= ow <= self.width // 2 and 4 <= oh <= self.height // 2):
            raise ValueError(
                f'object_size must lie in [4, half the frame], got {self.object_size}')
        if self.occlusion is not None and self.occlusion[0] > self.occlusion[1]:
            raise ValueError(f'occlusion must be (first, last) with first <= last, '
                             f'got {self.occlusion}')

    def _centre(self, index: int, phase: float = 0.0) -> Tuple[float, float]:
        ow, oh = self.object_size
        t = 2 * np.pi * index / max(self.num_frames, 2)
        margin_x = ow / 2 + 4
        margin_y = oh / 2 + 4
        cx = self.width / 2 + (self.width / 2 - margin_x) * 0.8 * np.sin(t + phase)
        cy = self.height / 2 + (self.height / 2 - margin_y) * 0.6 * np.sin(2 * t + phase)
        return float(cx), float(cy)

    def visible(self, index: int) -> bool:
        """Whether the object can be seen in frame ``index``."""
        if self.occlusion is None:
            return True
        return not (self.occlusion[0] <= index <= self.occlusion[1])

    def truth(self, index: int) -> Box:
        """Return the true box of the object in frame ``index`` (also while hidden)."""
        self._check_index(index)
        cx, cy = self._centre(index)
        ow, oh = self.object_size
        return Box.from_cxcywh(round(cx), round(cy), ow, oh)

    def truth_xyxy(self) -> npt.NDArray[np.float64]:
        """All true boxes, shape (num_frames, 4), xyxy pixels."""
        return np.stack([self.truth(i).xyxy for i in range(self.num_frames)])

    def stamp_ns(self, index: int) -> int:
        """Nominal timestamp of frame ``index`` in nanoseconds from the clip start."""
        return int(round(index * 1e9 / self.fps))

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.num_frames:
            raise IndexError(f'frame index must lie in [0, {self.num_frames}), got {index}')

    def _assets(self) -> Tuple[UInt8Image, UInt8Image]:
        cache = self.__dict__.get('_cache')
        if cache is None:
            rng = np.random.default_rng(self.seed)
            background = (_texture(rng, self.height, self.width, 16) // 2 + 64).astype(np.uint8)
            ow, oh = self.object_size
            sprite = _texture(rng, oh, ow, 8)
            sprite[:, :, 0] = np.maximum(sprite[:, :, 0], 160)  # a reddish, high-contrast object
            sprite[: max(oh // 8, 1)] = 255
            sprite[-max(oh // 8, 1):] = 0
            cache = (background, sprite)
            object.__setattr__(self, '_cache', cache)
        return cache

    def _paste(self, frame: UInt8Image, sprite: UInt8Image, box: Box) -> None:
        x1, y1 = int(box.xyxy[0]), int(box.xyxy[1])
        h, w = sprite.shape[:2]
        fx1, fy1 = max(x1, 0), max(y1, 0)
        fx2, fy2 = min(x1 + w, self.width), min(y1 + h, self.height)
        if fx2 > fx1 and fy2 > fy1:
            frame[fy1:fy2, fx1:fx2] = sprite[fy1 - y1:fy2 - y1, fx1 - x1:fx2 - x1]

    def distractor_box(self, index: int) -> Optional[Box]:
        """Box of the distractor in frame ``index``, or None without a distractor."""
        if not self.distractor:
            return None
        ow, oh = self.object_size
        cx, cy = self._centre(self.num_frames - 1 - index, phase=np.pi / 3)
        return Box.from_cxcywh(round(cx), round(cy), ow, oh)

    def frame(self, index: int) -> UInt8Image:
        """Render frame ``index`` as an RGB image of shape (height, width, 3), uint8."""
        self._check_index(index)
        background, sprite = self._assets()
        frame = background.copy()
        distractor = self.distractor_box(index)
        if distractor is not None:
            self._paste(frame, sprite, distractor)
        if self.visible(index):
            self._paste(frame, sprite, self.truth(index))
        return frame
