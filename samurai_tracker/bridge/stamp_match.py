"""Pair each frame with the track (and detections, mask) computed on it, by stamp.

The tracker and the fusion node copy the image's ``header.stamp`` into everything they
publish, so the track of a frame is found by its stamp, not by arrival order: drawing the
newest track on the newest frame would show a box that lags the image by the tracker's
latency. Frames wait in a short queue until their track arrives; a frame whose track does
not come within ``max_wait_s`` (or that is pushed out by ``max_pending`` newer frames) is
released with the newest earlier track marked stale, so the output never stalls when
the tracker is slow, skips frames or is down. Frames always leave in stamp order.

Annotations that arrive before their frame (possible when images come from a topic) are
kept in a bounded table and attached when the frame arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from samurai_tracker.records import Detections, Track

__all__ = ['MatchedFrame', 'StampMatcher']


@dataclass
class MatchedFrame:
    """A frame with what was computed on it.

    Parameters
    ----------
    frame : Any
        The frame payload (a :class:`~samurai_tracker.bridge.frames.Frame` in the node).
    stamp_ns : int
        Its stamp, ns.
    track : Track, optional
        Its track, or the newest earlier one when ``stale``.
    stale : bool
        ``track`` belongs to an earlier frame (none matched this stamp in time).
    detections : Detections, optional
    mask : Any, optional
        Full-frame target mask, (H, W).

    """

    frame: Any
    stamp_ns: int
    track: Optional[Track] = None
    stale: bool = False
    detections: Optional[Detections] = None
    mask: Any = None
    arrived_s: float = field(default=0.0, repr=False)


class StampMatcher:
    """Stamp-keyed pairing of frames with tracks, detections and masks.

    Parameters
    ----------
    max_pending : int
        Frames kept waiting for their track, in [1, 1000]; older ones are released.
    max_wait_s : float
        Longest a frame waits for its track, seconds, in [0, 60].
    tolerance_ns : int
        Largest stamp difference (ns, >= 0) still counted as the same image; 0 = exact.

    """

    def __init__(self, max_pending: int = 30, max_wait_s: float = 0.5,
                 tolerance_ns: int = 0) -> None:
        if not 1 <= max_pending <= 1000:
            raise ValueError(f'max_pending must lie in [1, 1000] frames, got {max_pending}')
        if not 0.0 <= max_wait_s <= 60.0:
            raise ValueError(f'max_wait_s must lie in [0, 60] s, got {max_wait_s}')
        if tolerance_ns < 0:
            raise ValueError(f'tolerance_ns must be >= 0, got {tolerance_ns}')
        self.max_pending = max_pending
        self.max_wait_s = max_wait_s
        self.tolerance_ns = tolerance_ns
        self._pending: 'OrderedDict[int, MatchedFrame]' = OrderedDict()
        self._early: 'OrderedDict[int, Dict[str, Any]]' = OrderedDict()
        self._last_track: Optional[Track] = None
        self._last_released = -1
        self.matched = 0
        self.released_without_track = 0
        self.unmatched_annotations = 0

    @property
    def pending(self) -> int:
        """Frames waiting for their track."""
        return len(self._pending)

    def _find(self, stamp_ns: int) -> Optional[int]:
        if stamp_ns in self._pending:
            return stamp_ns
        if self.tolerance_ns and self._pending:
            best = min(self._pending, key=lambda s: abs(s - stamp_ns))
            if abs(best - stamp_ns) <= self.tolerance_ns:
                return best
        return None

    def add_frame(self, stamp_ns: int, frame: Any, now_s: float) -> List[MatchedFrame]:
        """Queue a frame; return frames released because the queue overflowed.

        A frame whose stamp is not newer than the last released one is released at once
        (it cannot be placed in order any more).
        """
        entry = MatchedFrame(frame, stamp_ns, arrived_s=now_s)
        early = self._early.pop(stamp_ns, None)
        if early is not None:
            entry.detections = early.get('detections')
            entry.mask = early.get('mask')
            track = early.get('track')
            if track is not None:
                entry.track = track
                self.matched += 1
        if stamp_ns <= self._last_released:
            return [self._finish(entry)]
        self._pending[stamp_ns] = entry
        if entry.track is not None:
            return self._release_through(stamp_ns)
        out: List[MatchedFrame] = []
        while len(self._pending) > self.max_pending:
            out += self._release_oldest()
        return out

    def _annotate(self, stamp_ns: int, key: str, value: Any) -> Optional[int]:
        found = self._find(stamp_ns)
        if found is not None:
            setattr(self._pending[found], key, value)
            return found
        if stamp_ns > self._last_released:
            self._early.setdefault(stamp_ns, {})[key] = value
            while len(self._early) > self.max_pending:
                self._early.popitem(last=False)
                self.unmatched_annotations += 1
        else:
            self.unmatched_annotations += 1
        return None

    def add_track(self, stamp_ns: int, track: Track) -> List[MatchedFrame]:
        """Attach ``track`` to its frame; release that frame and all older ones, in order."""
        found = self._annotate(stamp_ns, 'track', track)
        if found is None:
            if stamp_ns <= self._last_released:
                # A late track (its frame already left): newest knowledge for stale frames.
                self._remember(track)
            return []
        self.matched += 1
        return self._release_through(found)

    def add_detections(self, stamp_ns: int, detections: Detections) -> None:
        """Attach detector boxes to their frame (drawn if they arrive before release)."""
        self._annotate(stamp_ns, 'detections', detections)

    def add_mask(self, stamp_ns: int, mask: Any) -> None:
        """Attach a full-frame target mask to its frame."""
        self._annotate(stamp_ns, 'mask', mask)

    def poll(self, now_s: float) -> List[MatchedFrame]:
        """Release frames that waited longer than ``max_wait_s``."""
        out: List[MatchedFrame] = []
        while self._pending:
            oldest = next(iter(self._pending.values()))
            if now_s - oldest.arrived_s < self.max_wait_s:
                break
            out += self._release_oldest()
        return out

    def flush(self) -> List[MatchedFrame]:
        """Release everything (shutdown)."""
        out: List[MatchedFrame] = []
        while self._pending:
            out += self._release_oldest()
        return out

    def _remember(self, track: Track) -> None:
        self._last_track = track

    def _finish(self, entry: MatchedFrame) -> MatchedFrame:
        if entry.track is None:
            self.released_without_track += 1
            entry.track, entry.stale = self._last_track, self._last_track is not None
        else:
            self._remember(entry.track)
        self._last_released = max(self._last_released, entry.stamp_ns)
        return entry

    def _release_oldest(self) -> List[MatchedFrame]:
        _, entry = self._pending.popitem(last=False)
        return [self._finish(entry)]

    def _release_through(self, stamp_ns: int) -> List[MatchedFrame]:
        out: List[MatchedFrame] = []
        while self._pending:
            first: Tuple[int, MatchedFrame] = next(iter(self._pending.items()))
            if first[0] > stamp_ns:
                break
            out += self._release_oldest()
        return out
