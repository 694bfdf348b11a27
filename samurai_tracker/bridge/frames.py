"""Frames and the hand-off seam between the GStreamer pipelines and the node.

The ingest pipeline hands each decoded frame to a :class:`FrameConsumer` (a plain
callable); the output pipeline takes frames through :meth:`OutputPipeline.push`. Today a
frame is a host numpy array; a later zero-copy transport (a composed process passing
pointers, or NITROS type adaptation on a Jetson) plugs in here by providing another
consumer and another :class:`Frame` payload, without touching how pipelines are built.

:class:`~samurai_tracker.transport.mailbox.LatestFrameMailbox` (re-exported here)
decouples a fast producer (the GStreamer streaming thread) from a slower consumer (the
publisher): it keeps only the newest frame and counts the ones replaced before anyone
took them, which is exactly the bridge's "drops".
"""

from __future__ import annotations

from dataclasses import dataclass
import enum
from typing import Callable, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.transport.mailbox import LatestFrameMailbox

__all__ = ['Frame', 'FrameConsumer', 'ImageEncoding', 'LatestFrameMailbox']


class ImageEncoding(str, enum.Enum):
    """Pixel layouts the bridge publishes; values are ``sensor_msgs/Image`` encodings."""

    RGB8 = 'rgb8'
    BGR8 = 'bgr8'
    RGBA8 = 'rgba8'
    BGRA8 = 'bgra8'
    MONO8 = 'mono8'

    @property
    def gst_format(self) -> str:
        """The GStreamer ``video/x-raw`` format name of this layout."""
        return {'rgb8': 'RGB', 'bgr8': 'BGR', 'rgba8': 'RGBA', 'bgra8': 'BGRA',
                'mono8': 'GRAY8'}[self.value]

    @property
    def channels(self) -> int:
        """Bytes (channels) per pixel."""
        return {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1}[self.value]

    @classmethod
    def parse(cls, text: str) -> 'ImageEncoding':
        """Return the encoding named ``text``, or raise ValueError listing the choices."""
        try:
            return cls(text)
        except ValueError:
            choices = ', '.join(e.value for e in cls)
            raise ValueError(f'unsupported image encoding {text!r}; use one of {choices}') \
                from None


@dataclass(frozen=True)
class Frame:
    """One decoded image and when it was taken.

    Parameters
    ----------
    image : numpy.ndarray, shape (H, W, C) or (H, W), uint8
        Pixels in ``encoding`` layout, C-contiguous; read-only once made.
    stamp_ns : int
        Capture time in ROS time, ns (>= 0).
    encoding : ImageEncoding
        Pixel layout of ``image``.
    index : int
        Running frame count since the bridge started (>= 0), across loops and reconnects.
    decoded_ns : int
        Monotonic time (``time.monotonic_ns``) when the frame left the decoder, for
        latency measurements; 0 when unknown.

    """

    image: npt.NDArray[np.uint8]
    stamp_ns: int
    encoding: ImageEncoding = ImageEncoding.RGB8
    index: int = 0
    decoded_ns: int = 0

    def __post_init__(self) -> None:
        """Validate the image against the encoding and freeze it."""
        encoding = ImageEncoding(self.encoding)
        object.__setattr__(self, 'encoding', encoding)
        image = np.asarray(self.image)
        expected = '(H, W)' if encoding.channels == 1 else f'(H, W, {encoding.channels})'
        if image.dtype != np.uint8:
            raise ValueError(f'Frame.image must be uint8, got {image.dtype}')
        ok = (image.ndim == 2 and encoding.channels == 1) or (
            image.ndim == 3 and image.shape[2] == encoding.channels)
        if not ok or image.shape[0] < 1 or image.shape[1] < 1:
            raise ValueError(f'Frame.image for {encoding.value} must have shape {expected}, '
                             f'got {image.shape}')
        if self.stamp_ns < 0 or self.index < 0:
            raise ValueError('Frame.stamp_ns and Frame.index must be >= 0')
        if image.flags.writeable:
            image = image.view()
            image.setflags(write=False)
        object.__setattr__(self, 'image', image)

    @property
    def size(self) -> Tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


#: What the ingest pipeline calls for every decoded frame (from its streaming thread).
FrameConsumer = Callable[[Frame], None]
