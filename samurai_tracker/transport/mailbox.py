"""A one-slot, latest-wins hand-off between a fast producer and a slower consumer thread.

Every stage that must work on the newest frame and never build a queue uses it: the camera
bridge between the GStreamer streaming thread and its publisher, the detector and the
tracker between their frame callbacks and their inference workers. A frame replaced before
it was taken counts as a drop, which is exactly what each node reports.
"""

from __future__ import annotations

import threading
from typing import Generic, Optional, TypeVar

__all__ = ['LatestFrameMailbox']

T = TypeVar('T')


class LatestFrameMailbox(Generic[T]):
    """A one-slot, latest-wins hand-off between two threads.

    ``put`` never blocks (so the decoder never stalls on a slow subscriber); a frame that
    is replaced before it was taken counts as a drop. ``take`` waits up to a timeout.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Optional[T] = None
        self._drops = 0
        self._closed = False

    @property
    def drops(self) -> int:
        """Frames replaced before they were taken."""
        with self._cond:
            return self._drops

    def put(self, frame: T) -> None:
        """Offer ``frame``, replacing (and counting as dropped) any frame not yet taken."""
        with self._cond:
            if self._frame is not None:
                self._drops += 1
            self._frame = frame
            self._cond.notify()

    def take(self, timeout_s: float) -> Optional[T]:
        """Return the newest frame, waiting up to ``timeout_s`` s; None on timeout/close."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout_s)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        """Wake any waiting ``take`` (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
