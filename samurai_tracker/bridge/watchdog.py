"""Frame watchdog: notice when a source stops delivering frames without saying so.

A network camera that freezes, a UDP stream whose sender vanished, or an RTSP session
whose TCP connection half-closed often produce no GStreamer error at all: the pipeline
stays in PLAYING and simply goes quiet. The watchdog measures the time since the last
frame (or since the pipeline was (re)started, so a source that never delivers is caught
too) and reports expiry; the ingest supervisor then restarts the source with backoff.
Times are injected (monotonic seconds) so the logic is tested without sleeping.
"""

from __future__ import annotations

from typing import Optional

__all__ = ['Watchdog']


class Watchdog:
    """Expires when no frame has been fed for ``timeout_s`` seconds while armed.

    Parameters
    ----------
    timeout_s : float
        Allowed silence in seconds (> 0). Choose it well above the source's frame
        interval plus its start-up time (RTSP DESCRIBE/SETUP plus the first key frame).

    """

    def __init__(self, timeout_s: float) -> None:
        if not timeout_s > 0:
            raise ValueError(f'watchdog timeout_s must be > 0 s, got {timeout_s}')
        self.timeout_s = float(timeout_s)
        self._since: Optional[float] = None

    @property
    def armed(self) -> bool:
        """Whether the watchdog is counting (between :meth:`arm` and :meth:`disarm`)."""
        return self._since is not None

    def arm(self, now_s: float) -> None:
        """Start counting from ``now_s`` (call when a pipeline starts)."""
        self._since = now_s

    def feed(self, now_s: float) -> None:
        """Record a frame at ``now_s``; ignored while disarmed."""
        if self._since is not None:
            self._since = now_s

    def disarm(self) -> None:
        """Stop counting (clean end of stream, shutdown, waiting out a backoff)."""
        self._since = None

    def silence(self, now_s: float) -> float:
        """Seconds since the last frame or arm time; 0 while disarmed."""
        return 0.0 if self._since is None else max(0.0, now_s - self._since)

    def expired(self, now_s: float) -> bool:
        """Whether the silence exceeds the timeout (only while armed)."""
        return self._since is not None and now_s - self._since > self.timeout_s
