"""Match the tracker's and the detector's messages by image stamp, in a bounded buffer.

The tracker and the detector work on the same images in parallel and publish in any
order; either may skip images (the tracker drops frames it has no time for, the detector
may be throttled), messages may arrive late, twice, or with a broken clock. The fusion
filter needs, per image stamp and in increasing stamp order, "what the tracker said" and
"what the detector saw" (each possibly absent). :class:`FrameSync` provides exactly that:

* a frame is released when both parts are in; or when the other stream has moved past its
  stamp (so that part will never come); or when ``max_lag_frames`` newer tracker stamps
  arrived; or when the other stream has been silent for ``stream_timeout_ns`` (a stream
  never heard from is waited for only during the first ``stream_timeout_ns``);
* frames leave strictly in stamp order; a message for a stamp at or before the last
  released one is *late* and dropped; the same stamp twice on one stream is a *duplicate*
  (the first is kept); a stamp more than ``max_future_ns`` ahead of the newest is
  *future* and dropped; ``capacity`` bounds the buffer (the oldest frame is forced out);
* after ``resync_after`` consecutive messages rejected as far past or far future, the
  source clock is taken to have jumped (a bag looping, a camera restarting): the buffer is
  cleared and :attr:`Admission.RESYNC` tells the caller to reset its filter.

Every rejection is counted in :attr:`FrameSync.counters`; nothing raises on bad stamps.
"""

from __future__ import annotations

from dataclasses import dataclass
import enum
import numbers
from typing import Dict, List, Optional

from samurai_tracker.records import Detections, Track

__all__ = ['Admission', 'FrameSync', 'SyncedFrame']


class Admission(str, enum.Enum):
    """What happened to one offered message."""

    ACCEPTED = 'accepted'
    DUPLICATE = 'duplicate'
    LATE = 'late'
    FUTURE = 'future'
    INVALID = 'invalid'
    RESYNC = 'resync'


@dataclass(frozen=True)
class SyncedFrame:
    """What is known about one image stamp.

    Parameters
    ----------
    stamp_ns : int
        Image stamp (ns).
    track : Track or None
        The tracker's status for the image; None if it never came.
    detections : Detections or None
        The detector's boxes for the image; None if it never came.

    """

    stamp_ns: int
    track: Optional[Track]
    detections: Optional[Detections]


class _Entry:
    __slots__ = ('track', 'detections', 'has_track', 'has_detections')

    def __init__(self) -> None:
        self.track: Optional[Track] = None
        self.detections: Optional[Detections] = None
        self.has_track = False
        self.has_detections = False


class FrameSync:
    """Bounded, stamp-ordered pairing of tracker statuses and detections.

    Parameters
    ----------
    capacity : int
        Most stamps held at once (>= 2).
    max_lag_frames : int
        Release a tracker-only frame once this many newer tracker stamps arrived (>= 1).
    max_future_ns : int
        Stamps this far (ns) ahead of the newest accepted one are rejected.
    max_past_ns : int
        Late stamps this far (ns) behind the newest count towards a resync.
    stream_timeout_ns : int
        Do not wait for a stream silent this long (ns, measured in stamps of the other).
    resync_after : int
        Consecutive far-past or far-future messages that trigger a resync (>= 1).

    """

    def __init__(self, capacity: int = 64, max_lag_frames: int = 3,
                 max_future_ns: int = 10_000_000_000, max_past_ns: int = 10_000_000_000,
                 stream_timeout_ns: int = 1_000_000_000, resync_after: int = 30) -> None:
        if capacity < 2 or max_lag_frames < 1 or resync_after < 1:
            raise ValueError('FrameSync needs capacity >= 2, max_lag_frames >= 1 and '
                             'resync_after >= 1')
        if min(max_future_ns, max_past_ns, stream_timeout_ns) <= 0:
            raise ValueError('FrameSync time limits must be > 0 ns')
        self.capacity = capacity
        self.max_lag_frames = max_lag_frames
        self.max_future_ns = max_future_ns
        self.max_past_ns = max_past_ns
        self.stream_timeout_ns = stream_timeout_ns
        self.resync_after = resync_after
        self.counters: Dict[str, int] = {
            'accepted': 0, 'duplicate': 0, 'late': 0, 'future': 0, 'invalid': 0,
            'resync': 0, 'overflow': 0, 'released': 0}
        self._clear()

    def _clear(self) -> None:
        self._entries: Dict[int, _Entry] = {}
        self._last_released: Optional[int] = None
        self._newest: Optional[int] = None
        self._newest_track: Optional[int] = None
        self._newest_detections: Optional[int] = None
        self._suspect = 0
        self._first: Optional[int] = None

    def __len__(self) -> int:
        """Return the number of stamps waiting."""
        return len(self._entries)

    # ---- intake -------------------------------------------------------------------------
    def add_track(self, stamp_ns: int, track: Track) -> Admission:
        """Offer the tracker's status for image ``stamp_ns``."""
        verdict = self._admit(stamp_ns, 'track')
        if verdict in (Admission.ACCEPTED, Admission.RESYNC):
            entry = self._entries.setdefault(stamp_ns, _Entry())
            entry.track, entry.has_track = track, True
            self._newest_track = max(self._newest_track or stamp_ns, stamp_ns)
        return verdict

    def add_detections(self, stamp_ns: int, detections: Detections) -> Admission:
        """Offer the detector's boxes for image ``stamp_ns``."""
        verdict = self._admit(stamp_ns, 'detections')
        if verdict in (Admission.ACCEPTED, Admission.RESYNC):
            entry = self._entries.setdefault(stamp_ns, _Entry())
            entry.detections, entry.has_detections = detections, True
            self._newest_detections = max(self._newest_detections or stamp_ns, stamp_ns)
        return verdict

    def _count(self, verdict: Admission) -> Admission:
        self.counters[verdict.value] += 1
        return verdict

    def _admit(self, stamp_ns: int, stream: str) -> Admission:
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, numbers.Integral) \
                or stamp_ns < 0:
            return self._count(Admission.INVALID)
        far_past = self._newest is not None and stamp_ns < self._newest - self.max_past_ns
        far_future = self._newest is not None and stamp_ns > self._newest + self.max_future_ns
        late = self._last_released is not None and stamp_ns <= self._last_released
        if far_past or far_future:
            self._suspect += 1
            if self._suspect >= self.resync_after:
                self._clear()
                self._newest = stamp_ns
                self._count(Admission.ACCEPTED)
                return self._count(Admission.RESYNC)
            return self._count(Admission.FUTURE if far_future else Admission.LATE)
        if late:
            return self._count(Admission.LATE)
        entry = self._entries.get(stamp_ns)
        if entry is not None and (entry.has_track if stream == 'track' else
                                  entry.has_detections):
            return self._count(Admission.DUPLICATE)
        self._suspect = 0
        self._newest = stamp_ns if self._newest is None else max(self._newest, stamp_ns)
        self._first = stamp_ns if self._first is None else min(self._first, stamp_ns)
        return self._count(Admission.ACCEPTED)

    # ---- release ------------------------------------------------------------------------
    def _stream_active(self, newest_own: Optional[int], newest_other: Optional[int]) -> bool:
        """Whether a stream has spoken recently enough (in the other's stamps) to wait for."""
        if newest_other is None:
            return True
        if newest_own is None:  # never heard: wait for it only at start-up
            newest_own = self._first if self._first is not None else newest_other
        return newest_other - newest_own <= self.stream_timeout_ns

    def _ready(self, stamp: int, entry: _Entry) -> bool:
        if entry.has_track and entry.has_detections:
            return True
        if entry.has_track:
            if not self._stream_active(self._newest_detections, self._newest_track):
                return True
            if self._newest_detections is not None and self._newest_detections > stamp:
                return True
            newer = sum(1 for s, e in self._entries.items() if s > stamp and e.has_track)
            return newer >= self.max_lag_frames
        if not self._stream_active(self._newest_track, self._newest_detections):
            return True
        return self._newest_track is not None and self._newest_track > stamp

    def _release(self, stamp: int) -> SyncedFrame:
        entry = self._entries.pop(stamp)
        self._last_released = stamp
        self.counters['released'] += 1
        return SyncedFrame(stamp, entry.track, entry.detections)

    def pop_ready(self) -> List[SyncedFrame]:
        """Release, oldest first, every frame that is complete or will not be completed."""
        out: List[SyncedFrame] = []
        while self._entries:
            stamp = min(self._entries)
            if not self._ready(stamp, self._entries[stamp]):
                break
            out.append(self._release(stamp))
        while len(self._entries) > self.capacity:
            self.counters['overflow'] += 1
            out.append(self._release(min(self._entries)))
        return out

    def flush(self, detections_only: bool = True) -> List[SyncedFrame]:
        """Release waiting frames, oldest first, when the streams have stalled.

        Parameters
        ----------
        detections_only : bool
            Also release frames that have detections but no tracker status yet. False
            keeps them waiting for a slow tracker (they are released, in order, behind the
            first frame that must wait).

        """
        out: List[SyncedFrame] = []
        for stamp in sorted(self._entries):
            if not detections_only and not self._entries[stamp].has_track:
                break
            out.append(self._release(stamp))
        return out
