"""Run a tracker over one sequence in the one-pass evaluation (OPE) protocol.

OPE: seed the tracker once with the first ground-truth box, then call it on every later
frame without any help (no re-seeding from the truth), and record what it reports.

The harness knows the tracker only through :class:`TrackerLike` (seed, track, timings), so
the SAMURAI runtime on any backend, in crop or full-frame mode and with any ``max_kf``,
the template-matching baseline, or any other tracker with those three members fits.
"""

from __future__ import annotations

from dataclasses import dataclass
import time
from typing import Dict, List, Mapping, Optional, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from samurai_tracker.evaluation.datasets import SequenceSpec
from samurai_tracker.records import Box, Track, TrackState

__all__ = ['SequenceRun', 'TrackerLike', 'run_sequence']

FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class TrackerLike(Protocol):
    """What the harness needs of a tracker (``SamuraiTracker`` fits it).

    ``seed`` starts a new track on ``box`` in ``frame_rgb`` ((H, W, 3) uint8 RGB, box in
    full-frame pixels); ``track`` follows it into the next frame; ``timings`` maps stage
    name -> milliseconds spent on the last frame (may be empty).
    """

    def seed(self, frame_rgb: npt.NDArray[np.uint8], box: Box,
             stamp_ns: Optional[int] = None) -> Track:
        """Start a track on ``box``; returns the track of the seed frame."""
        ...

    def track(self, frame_rgb: npt.NDArray[np.uint8],
              stamp_ns: Optional[int] = None) -> Track:
        """Follow the target into ``frame_rgb``; returns its track."""
        ...

    @property
    def timings(self) -> Mapping[str, float]:
        """Stage name -> milliseconds of the last ``seed``/``track`` call."""
        ...


@dataclass(frozen=True)
class SequenceRun:
    """What a tracker reported on every frame of one sequence.

    Parameters
    ----------
    name : str
        Sequence name.
    pred_xyxy : numpy.ndarray, shape (N, 4), float64
        Reported boxes in full-frame pixels; NaN rows where no box was reported.
    states : numpy.ndarray, shape (N,), int64
        Reported :class:`TrackState` values.
    confidences : numpy.ndarray, shape (N,), float64
        Reported confidences in [0, 1].
    call_ms : numpy.ndarray, shape (N,), float64
        Wall-clock milliseconds of each ``seed``/``track`` call, measured by the harness.
    read_ms : numpy.ndarray, shape (N,), float64
        Milliseconds spent reading and decoding each frame (not part of tracker speed).
    stage_ms : dict of str to numpy.ndarray, shape (N,), float64
        The tracker's own per-stage timings in the order the tracker reports them; NaN on
        frames whose ``timings`` did not name the stage (the SAMURAI runtime reports 0 ms
        for model stages on frames coasted by ``max_kf``, see :mod:`.speed`).

    """

    name: str
    pred_xyxy: FloatArray
    states: npt.NDArray[np.int64]
    confidences: FloatArray
    call_ms: FloatArray
    read_ms: FloatArray
    stage_ms: Dict[str, FloatArray]

    def __post_init__(self) -> None:
        """Check that every per-frame array has the same length N."""
        n = self.states.shape[0]
        shapes = {'pred_xyxy': (self.pred_xyxy.shape, (n, 4)),
                  'confidences': (self.confidences.shape, (n,)),
                  'call_ms': (self.call_ms.shape, (n,)), 'read_ms': (self.read_ms.shape, (n,))}
        shapes.update({f'stage_ms[{k}]': (v.shape, (n,)) for k, v in self.stage_ms.items()})
        for label, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f'SequenceRun.{label} must have shape {want}, got {got}')

    def __len__(self) -> int:
        """Return the number of frames N."""
        return int(self.states.shape[0])


def run_sequence(tracker: TrackerLike, spec: SequenceSpec, progress: bool = True,
                 position: int = 0) -> SequenceRun:
    """Seed on frame 0 with the true box and track every later frame.

    Parameters
    ----------
    tracker : TrackerLike
        Reset (``reset()`` when it has one) before seeding.
    spec : SequenceSpec
        Frames and truth; only the first true box is shown to the tracker.
    progress : bool
        Show a tqdm progress bar (frames, rate, reported state) on stderr.
    position : int
        tqdm bar position, for nesting under a per-dataset bar.

    Returns
    -------
    SequenceRun

    Raises
    ------
    FrameReadError
        If a frame cannot be decoded (the caller reports the sequence as failed).

    """
    n = len(spec.groundtruth)
    pred = np.full((n, 4), np.nan)
    states = np.zeros(n, dtype=np.int64)
    confidences = np.zeros(n)
    call_ms = np.full(n, np.nan)
    read_ms = np.full(n, np.nan)
    stage_rows: List[Mapping[str, float]] = []
    reset = getattr(tracker, 'reset', None)
    if callable(reset):
        reset()
    seed_box = Box.from_xywh(*spec.groundtruth.xywh[0])
    bar = _progress_bar(n, spec.name, progress, position)
    frames = iter(spec.frames)
    try:
        for index in range(n):
            start = time.perf_counter()
            frame = next(frames)
            read_ms[index] = (time.perf_counter() - start) * 1e3
            stamp_ns = int(round(index * 1e9 / spec.frames.fps))
            start = time.perf_counter()
            if index == 0:
                track = tracker.seed(frame, seed_box, stamp_ns=stamp_ns)
            else:
                track = tracker.track(frame, stamp_ns=stamp_ns)
            call_ms[index] = (time.perf_counter() - start) * 1e3
            stage_rows.append(dict(tracker.timings))
            if track.box is not None:
                pred[index] = track.box.xyxy
            states[index] = int(track.state)
            confidences[index] = track.confidence
            if bar is not None:
                bar.update(1)
                bar.set_postfix(state=TrackState(track.state).name, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    stage_names = list(dict.fromkeys(name for row in stage_rows for name in row))
    stage_ms = {name: np.array([float(row.get(name, np.nan)) for row in stage_rows])
                for name in stage_names}
    return SequenceRun(spec.name, pred, states, confidences, call_ms, read_ms, stage_ms)


def _progress_bar(total: int, name: str, enabled: bool, position: int):  # type: ignore
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a declared dependency
        return None
    return tqdm(total=total, desc=name, unit='frame', position=position, leave=False,
                dynamic_ncols=True)
