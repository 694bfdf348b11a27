"""Stream health: frame rate, drops, reconnects and the age of the last frame.

The numbers an operator needs to tell "camera dead" from "slow" from "flaky network":
frames per second over a sliding window, frames dropped by the bridge, reconnect attempts
and successes, the time since the last frame, and the last error. :class:`StreamHealth`
is fed by the ingest thread and read by the diagnostics timer, so it is thread-safe; all
times are injected (seconds on a monotonic clock) so tests need no sleeping.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import enum
import threading
from typing import Deque, Dict, Optional

__all__ = ['HealthLevel', 'HealthSnapshot', 'StreamHealth']


class HealthLevel(enum.IntEnum):
    """Summary level; the values equal ``diagnostic_msgs/DiagnosticStatus`` levels."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3


@dataclass(frozen=True)
class HealthSnapshot:
    """One reading of the stream's health.

    Parameters
    ----------
    level : HealthLevel
        OK while frames arrive, WARN while reconnecting or slow, ERROR when the watchdog
        fired or the source failed, STALE before the first frame.
    message : str
        Short human-readable summary.
    fps : float
        Frames per second over the sliding window (0 with fewer than two frames).
    frames : int
        Frames delivered since start.
    drops : int
        Frames the bridge dropped (consumer slower than the source).
    reconnects : int
        Reconnect attempts since start (each pipeline restart after a failure).
    last_frame_age_s : float or None
        Seconds since the last frame; None before the first frame.
    last_error : str
        Most recent error text, empty when none.

    """

    level: HealthLevel
    message: str
    fps: float
    frames: int
    drops: int
    reconnects: int
    last_frame_age_s: Optional[float]
    last_error: str

    def as_dict(self) -> Dict[str, str]:
        """Key/value strings for a ``DiagnosticStatus`` (units in the key names)."""
        age = 'none' if self.last_frame_age_s is None else f'{self.last_frame_age_s:.3f}'
        return {
            'fps': f'{self.fps:.2f}',
            'frames': str(self.frames),
            'drops': str(self.drops),
            'reconnects': str(self.reconnects),
            'last_frame_age_s': age,
            'last_error': self.last_error,
        }


class StreamHealth:
    """Thread-safe counters of one stream.

    Parameters
    ----------
    window_s : float
        Length of the sliding window the frame rate is measured over, seconds (> 0).
    stale_after_s : float
        Last-frame age (s, > 0) above which the stream is reported as failing; the same
        value as the ingest watchdog so the two never disagree.

    """

    def __init__(self, window_s: float = 2.0, stale_after_s: float = 5.0) -> None:
        if window_s <= 0:
            raise ValueError(f'window_s must be > 0 s, got {window_s}')
        if stale_after_s <= 0:
            raise ValueError(f'stale_after_s must be > 0 s, got {stale_after_s}')
        self._window_s = window_s
        self._stale_after_s = stale_after_s
        self._lock = threading.Lock()
        self._times: Deque[float] = deque()
        self._frames = 0
        self._drops = 0
        self._reconnects = 0
        self._last_frame: Optional[float] = None
        self._last_error = ''
        self._reconnecting = False
        self._finished = False

    def frame(self, now_s: float) -> None:
        """Count one delivered frame at monotonic time ``now_s``."""
        with self._lock:
            self._frames += 1
            self._last_frame = now_s
            self._times.append(now_s)
            self._trim(now_s)
            self._reconnecting = False

    def drop(self, count: int = 1) -> None:
        """Count ``count`` (>= 0) frames the bridge had to drop."""
        if count < 0:
            raise ValueError(f'drop count must be >= 0, got {count}')
        with self._lock:
            self._drops += count

    def reconnect(self, reason: str) -> None:
        """Count a reconnect attempt, remembering ``reason`` as the last error."""
        with self._lock:
            self._reconnects += 1
            self._reconnecting = True
            self._last_error = reason

    def error(self, reason: str) -> None:
        """Remember an error that did not (yet) cause a reconnect."""
        with self._lock:
            self._last_error = reason

    def finished(self) -> None:
        """Mark a clean end of stream (a file played to its end without looping)."""
        with self._lock:
            self._finished = True

    def _trim(self, now_s: float) -> None:
        while self._times and self._times[0] < now_s - self._window_s:
            self._times.popleft()

    def snapshot(self, now_s: float) -> HealthSnapshot:
        """Read all counters at monotonic time ``now_s``."""
        with self._lock:
            self._trim(now_s)
            fps = 0.0
            if len(self._times) >= 2:
                span = self._times[-1] - self._times[0]
                # Frames counted per elapsed window, not per span, so a stalled stream decays.
                fps = (len(self._times) - 1) / max(span, now_s - self._times[0], 1e-9)
            age = None if self._last_frame is None else max(0.0, now_s - self._last_frame)
            if self._finished:
                level, message = HealthLevel.OK, 'end of stream'
            elif age is None:
                level = HealthLevel.WARN if self._reconnecting else HealthLevel.STALE
                message = 'reconnecting, no frame yet' if self._reconnecting else 'no frame yet'
            elif age > self._stale_after_s:
                level, message = HealthLevel.ERROR, f'no frame for {age:.1f} s'
            elif self._reconnecting:
                level, message = HealthLevel.WARN, 'reconnecting'
            else:
                level, message = HealthLevel.OK, f'streaming at {fps:.1f} fps'
            return HealthSnapshot(level, message, fps, self._frames, self._drops,
                                  self._reconnects, age, self._last_error)
