"""Where the frames of a sequence come from: an image folder or a video file.

Both sources yield RGB ``uint8`` frames of shape (H, W, 3) one at a time, in order, so a
10 000-frame LaSOT sequence never sits in memory. Their frame count is known before the
run so a mismatch with the ground truth is reported up front instead of after an hour
of tracking. A frame that cannot be decoded raises :class:`FrameReadError` naming the
file or the frame index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__all__ = [
    'FrameReadError',
    'FrameSource',
    'IMAGE_SUFFIXES',
    'ImageFolderFrames',
    'VideoFrames',
    'list_images',
]

UInt8Image = npt.NDArray[np.uint8]

IMAGE_SUFFIXES: Tuple[str, ...] = ('.jpg', '.jpeg', '.png', '.bmp')
"""File suffixes (lower case) taken as frames in an image folder."""


class FrameReadError(RuntimeError):
    """A frame could not be read or decoded; the message names the file or frame."""


class FrameSource(Protocol):
    """An ordered, finite source of RGB frames."""

    @property
    def num_frames(self) -> int:
        """Number of frames the source will yield."""
        ...

    @property
    def fps(self) -> float:
        """Nominal frame rate (frames per second), for timestamps."""
        ...

    @property
    def description(self) -> str:
        """Human-readable origin (a folder or file path) for reports and errors."""
        ...

    def __iter__(self) -> Iterator[UInt8Image]:
        """Yield the frames in order as (H, W, 3) uint8 RGB arrays."""
        ...


def _cv2():  # type: ignore[no-untyped-def]
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - the venv carries it
        raise ImportError('samurai-eval reads images and videos with OpenCV: '
                          'pip install opencv-python-headless') from error
    return cv2


def list_images(folder: Path) -> Tuple[Path, ...]:
    """Return the image files of ``folder`` sorted by name (zero-padded frame numbers)."""
    folder = Path(folder)
    if not folder.is_dir():
        return ()
    return tuple(sorted(path for path in folder.iterdir()
                        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES))


class ImageFolderFrames:
    """Frames stored as one image file each (JPG, PNG, BMP).

    Parameters
    ----------
    paths : sequence of pathlib.Path
        Image files in frame order.
    fps : float
        Nominal frame rate for timestamps (the benchmarks record 30 fps).
    description : str
        Origin for messages; defaults to the folder of the first image.

    """

    def __init__(self, paths: Sequence[Path], fps: float = 30.0, description: str = '') -> None:
        if fps <= 0:
            raise ValueError(f'fps must be > 0, got {fps}')
        self._paths = tuple(Path(path) for path in paths)
        self._fps = float(fps)
        self._description = description or (str(self._paths[0].parent) if self._paths else '')

    @property
    def num_frames(self) -> int:
        """Number of image files."""
        return len(self._paths)

    @property
    def fps(self) -> float:
        """Nominal frame rate (frames per second)."""
        return self._fps

    @property
    def description(self) -> str:
        """Folder the images come from."""
        return self._description

    @property
    def paths(self) -> Tuple[Path, ...]:
        """The image files in frame order."""
        return self._paths

    def __iter__(self) -> Iterator[UInt8Image]:
        """Yield each image decoded to (H, W, 3) uint8 RGB."""
        cv2 = _cv2()
        for path in self._paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise FrameReadError(f'{path}: cannot read or decode the image')
            yield np.ascontiguousarray(image[:, :, ::-1])


class VideoFrames:
    """Frames decoded from a video file with OpenCV (FFmpeg backend).

    Parameters
    ----------
    path : pathlib.Path
        Video file (MP4, AVI, MKV, ... whatever the OpenCV build decodes).
    fps : float, optional
        Override of the container's frame rate (used when it reports none).

    Raises
    ------
    FrameReadError
        If the file is missing or cannot be opened.

    """

    def __init__(self, path: Path, fps: float = 0.0) -> None:
        self._path = Path(path)
        if not self._path.is_file():
            raise FrameReadError(f'{self._path}: video file not found')
        cv2 = _cv2()
        capture = cv2.VideoCapture(str(self._path))
        try:
            if not capture.isOpened():
                raise FrameReadError(f'{self._path}: OpenCV cannot open this video')
            count = int(round(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
            container_fps = float(capture.get(cv2.CAP_PROP_FPS))
        finally:
            capture.release()
        if count <= 0:
            count = self._count_by_decoding()
        self._count = count
        self._fps = float(fps) if fps > 0 else (container_fps if container_fps > 0 else 30.0)

    def _count_by_decoding(self) -> int:
        cv2 = _cv2()
        capture = cv2.VideoCapture(str(self._path))
        count = 0
        try:
            while capture.grab():
                count += 1
        finally:
            capture.release()
        return count

    @property
    def num_frames(self) -> int:
        """Frame count from the container (decoded and counted when it reports none)."""
        return self._count

    @property
    def fps(self) -> float:
        """Frame rate from the container, the override, or 30."""
        return self._fps

    @property
    def description(self) -> str:
        """The video file path."""
        return str(self._path)

    def __iter__(self) -> Iterator[UInt8Image]:
        """Decode and yield the frames as (H, W, 3) uint8 RGB.

        Raises
        ------
        FrameReadError
            If the stream ends before ``num_frames`` frames were decoded.

        """
        cv2 = _cv2()
        capture = cv2.VideoCapture(str(self._path))
        try:
            for index in range(self._count):
                ok, image = capture.read()
                if not ok or image is None:
                    raise FrameReadError(
                        f'{self._path}: stream ended at frame {index} but the container '
                        f'announced {self._count} frames')
                yield np.ascontiguousarray(image[:, :, ::-1])
        finally:
            capture.release()
