"""In-process frame bus: composed mode hands frames to subscribers by reference.

All nodes of a composed pipeline live in one process; the bus maps a fully qualified topic
name to the callbacks of the nodes that want its frames. Publishing calls each callback
with the same :class:`~samurai_tracker.transport.frame.Frame` object: no serialisation, no
copy, whatever the image size. Callbacks must be cheap (store the frame and return), as the
nodes' newest-frame workers are.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, List

from samurai_tracker.transport.frame import Frame

__all__ = ['FrameBus', 'FRAME_BUS']

FrameCallback = Callable[[Frame], None]


class FrameBus:
    """A thread-safe topic -> callbacks registry for frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: Dict[str, List[FrameCallback]] = {}

    def subscribe(self, topic: str, callback: FrameCallback) -> Callable[[], None]:
        """Register ``callback`` for ``topic``; returns a function that unregisters it."""
        with self._lock:
            self._callbacks.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                callbacks = self._callbacks.get(topic, [])
                if callback in callbacks:
                    callbacks.remove(callback)
        return unsubscribe

    def subscriber_count(self, topic: str) -> int:
        """Count the in-process subscribers of ``topic``."""
        with self._lock:
            return len(self._callbacks.get(topic, []))

    def publish(self, topic: str, frame: Frame) -> int:
        """Hand ``frame`` to every subscriber of ``topic``; returns how many got it."""
        with self._lock:
            callbacks = list(self._callbacks.get(topic, []))
        for callback in callbacks:
            callback(frame)
        return len(callbacks)


FRAME_BUS = FrameBus()
"""The process-wide bus every composed node uses."""
