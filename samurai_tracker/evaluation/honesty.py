"""Lost-state honesty: whether and how fast the tracker says it has lost the target.

The benchmarks' accuracy metrics never ask whether a tracker that sits on the wrong object
*claims* to be tracking. A downstream consumer (a gimbal, an autopilot) acts on the
claim, so these metrics judge the reported :class:`~samurai_tracker.records.TrackState`
against the truth:

* **false tracked**: a frame reported ``TRACKED`` or ``REACQUIRED`` while the target is
  absent (occluded, out of view) or the reported box does not overlap the true box at all
  (IoU == 0). Counted per frame, also as a fraction of all claimed frames.
* **absence events**: maximal runs of frames without the target. For each one,
  ``frames_to_lost`` is the number of frames from the first absent frame to the first
  frame reported ``LOST`` within the run (0 = declared on the first absent frame;
  None = never declared while the target was away). ``frames_to_not_tracked`` does the
  same for ``OCCLUDED`` or ``LOST``, the first honest signal.
* **returns**: the frame after an absence run, when the target is back.
  ``frames_to_reacquire`` counts frames from there to the first frame reported
  ``TRACKED``/``REACQUIRED`` with IoU > 0 (on the target), before the next absence;
  None = not reacquired.

Frame 0 is the seed and is not judged. All counts are frames, not seconds: divide by the
frame rate to get time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import TrackState

__all__ = ['AbsenceEvent', 'Honesty', 'absence_runs', 'honesty', 'merge_honesty']

_CLAIMED = (int(TrackState.TRACKED), int(TrackState.REACQUIRED))
_NOT_TRACKED = (int(TrackState.OCCLUDED), int(TrackState.LOST))


@dataclass(frozen=True)
class AbsenceEvent:
    """One run of frames without the target, and the tracker's reaction.

    Parameters
    ----------
    first, last : int
        First and last absent frame (inclusive, 0-based).
    frames_to_not_tracked : int or None
        Frames from ``first`` to the first OCCLUDED/LOST report within the run.
    frames_to_lost : int or None
        Frames from ``first`` to the first LOST report within the run.
    returns_at : int or None
        Frame where the target is visible again (None: absent to the end).
    frames_to_reacquire : int or None
        Frames from ``returns_at`` to the first on-target TRACKED/REACQUIRED report.

    """

    first: int
    last: int
    frames_to_not_tracked: Optional[int]
    frames_to_lost: Optional[int]
    returns_at: Optional[int]
    frames_to_reacquire: Optional[int]

    @property
    def length(self) -> int:
        """Number of absent frames in the run."""
        return self.last - self.first + 1


@dataclass(frozen=True)
class Honesty:
    """Honesty counts of one sequence (or summed over sequences).

    Parameters
    ----------
    judged_frames : int
        Frames judged (all but the seed frame).
    claimed_frames : int
        Frames reported TRACKED or REACQUIRED.
    false_tracked_absent : int
        Claimed frames while the target is absent.
    false_tracked_off_target : int
        Claimed frames with the target present but IoU == 0.
    absent_frames : int
        Judged frames without the target.
    absent_frames_flagged : int
        Absent frames reported OCCLUDED or LOST (the honest answer).
    events : tuple of AbsenceEvent

    """

    judged_frames: int
    claimed_frames: int
    false_tracked_absent: int
    false_tracked_off_target: int
    absent_frames: int
    absent_frames_flagged: int
    events: Tuple[AbsenceEvent, ...]

    @property
    def false_tracked(self) -> int:
        """Claimed frames that are wrong (absent target or IoU == 0)."""
        return self.false_tracked_absent + self.false_tracked_off_target

    @property
    def false_tracked_rate(self) -> float:
        """Wrong claims per claimed frame, in [0, 1] (NaN without claims)."""
        return self.false_tracked / self.claimed_frames if self.claimed_frames else float('nan')

    def summary(self) -> Dict[str, Any]:
        """Flat dict of the counts, rates and delay statistics (frames)."""
        def stats(values: Sequence[Optional[int]]) -> Dict[str, Any]:
            done = [value for value in values if value is not None]
            return {'events': len(values), 'missed': len(values) - len(done),
                    'mean': float(np.mean(done)) if done else None,
                    'median': float(np.median(done)) if done else None,
                    'max': int(max(done)) if done else None}
        returns = [event.frames_to_reacquire for event in self.events
                   if event.returns_at is not None]
        return {
            'judged_frames': self.judged_frames,
            'claimed_frames': self.claimed_frames,
            'false_tracked': self.false_tracked,
            'false_tracked_absent': self.false_tracked_absent,
            'false_tracked_off_target': self.false_tracked_off_target,
            'false_tracked_rate': self.false_tracked_rate,
            'absent_frames': self.absent_frames,
            'absent_frames_flagged': self.absent_frames_flagged,
            'delay_to_not_tracked': stats([e.frames_to_not_tracked for e in self.events]),
            'delay_to_lost': stats([e.frames_to_lost for e in self.events]),
            'delay_to_reacquire': stats(returns),
            'events': [dict(asdict(event), length=event.length) for event in self.events],
        }


def absence_runs(present: npt.ArrayLike, start: int = 1) -> List[Tuple[int, int]]:
    """Return ``(first, last)`` of each run of False in ``present[start:]`` (inclusive)."""
    mask = np.asarray(present, dtype=bool)
    runs = []
    index = start
    while index < mask.size:
        if mask[index]:
            index += 1
            continue
        first = index
        while index < mask.size and not mask[index]:
            index += 1
        runs.append((first, index - 1))
    return runs


def _first(condition: npt.NDArray[np.bool_], begin: int, end: int) -> Optional[int]:
    """Offset from ``begin`` of the first True in ``condition[begin:end]``, or None."""
    hits = np.flatnonzero(condition[begin:end])
    return int(hits[0]) if hits.size else None


def honesty(states: npt.ArrayLike, present: npt.ArrayLike,
            overlap: npt.ArrayLike) -> Honesty:
    """Judge reported states against the truth of one sequence.

    Parameters
    ----------
    states : array_like, shape (N,), int
        Reported :class:`TrackState` value per frame.
    present : array_like, shape (N,), bool
        Where the target is visible.
    overlap : array_like, shape (N,), float
        IoU per frame (ignored where the target is absent).

    Returns
    -------
    Honesty

    """
    state = np.asarray(states, dtype=np.int64)
    visible = np.asarray(present, dtype=bool)
    iou = np.asarray(overlap, dtype=np.float64)
    if not (state.shape == visible.shape == iou.shape and state.ndim == 1):
        raise ValueError(f'states, present and overlap must share one (N,) shape, got '
                         f'{state.shape}, {visible.shape}, {iou.shape}')
    judged = np.arange(state.size) >= 1
    claimed = np.isin(state, _CLAIMED) & judged
    flagged = np.isin(state, _NOT_TRACKED)
    on_target = visible & (np.nan_to_num(iou, nan=0.0) > 0)
    events = []
    runs = absence_runs(visible)
    for number, (first, last) in enumerate(runs):
        returns_at = last + 1 if last + 1 < state.size else None
        reacquire = None
        if returns_at is not None:
            window_end = runs[number + 1][0] if number + 1 < len(runs) else state.size
            reacquire = _first(claimed & on_target, returns_at, window_end)
        events.append(AbsenceEvent(
            first, last, _first(flagged, first, last + 1),
            _first(state == int(TrackState.LOST), first, last + 1), returns_at, reacquire))
    absent = ~visible & judged
    return Honesty(
        judged_frames=int(judged.sum()),
        claimed_frames=int(claimed.sum()),
        false_tracked_absent=int((claimed & ~visible).sum()),
        false_tracked_off_target=int((claimed & visible & ~on_target).sum()),
        absent_frames=int(absent.sum()),
        absent_frames_flagged=int((absent & flagged).sum()),
        events=tuple(events))


def merge_honesty(parts: Sequence[Honesty]) -> Honesty:
    """Sum the counts of several sequences and pool their events (for the overall row)."""
    return Honesty(
        judged_frames=sum(part.judged_frames for part in parts),
        claimed_frames=sum(part.claimed_frames for part in parts),
        false_tracked_absent=sum(part.false_tracked_absent for part in parts),
        false_tracked_off_target=sum(part.false_tracked_off_target for part in parts),
        absent_frames=sum(part.absent_frames for part in parts),
        absent_frames_flagged=sum(part.absent_frames_flagged for part in parts),
        events=tuple(event for part in parts for event in part.events))
