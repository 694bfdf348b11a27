"""Speed of a run: milliseconds and frames per second per tracker stage.

Two sources, kept apart because they answer different questions:

* the tracker's own ``timings`` (stage name -> ms per frame, for example image encoder,
  memory attention, mask decoder), which say where the time goes. A stage missing from a
  frame's timings (NaN) is left out. A stage reported as exactly 0 ms (the SAMURAI
  runtime does so for the model stages on frames coasted on the Kalman prediction,
  ``max_kf``) counts in ``mean_ms`` -- the amortised cost per frame, whose inverse is the
  stage's ``fps`` -- but not in ``mean_ms_when_run`` / ``frames_run``, the cost of one
  call and how often it was made;
* the harness's wall clock around each ``track`` call, which says what a caller gets,
  all overheads included.

The seed frame is reported on its own: it builds the first memory and would bias the
steady-state mean of a short sequence. Frame reading and decoding is not tracker time.
"""

from __future__ import annotations

from typing import Any, Dict, Sequence

import numpy as np
import numpy.typing as npt

from samurai_tracker.evaluation.runner import SequenceRun

__all__ = ['speed_summary']


def _stats(values: npt.NDArray[np.float64]) -> Dict[str, Any]:
    finite = values[np.isfinite(values)]
    ran = finite[finite > 0]
    if finite.size == 0:
        return {'frames': 0, 'mean_ms': None, 'p50_ms': None, 'p95_ms': None, 'fps': None,
                'frames_run': 0, 'mean_ms_when_run': None}
    mean = float(finite.mean())
    return {'frames': int(finite.size), 'mean_ms': mean,
            'p50_ms': float(np.percentile(finite, 50)),
            'p95_ms': float(np.percentile(finite, 95)),
            'fps': 1e3 / mean if mean > 0 else None,
            'frames_run': int(ran.size),
            'mean_ms_when_run': float(ran.mean()) if ran.size else None}


def speed_summary(runs: Sequence[SequenceRun]) -> Dict[str, Any]:
    """Pool the frames of one or more runs into speed statistics.

    Parameters
    ----------
    runs : sequence of SequenceRun

    Returns
    -------
    dict
        ``track_call`` (harness wall clock of ``track``, frames 1..N-1), ``seed_call``
        (frame 0), ``frame_read`` and ``stages`` (stage -> stats of the tracker's own
        timings, frames 1..N-1); each stats dict has ``frames``, ``mean_ms``, ``p50_ms``,
        ``p95_ms``, ``fps = 1000 / mean_ms``, ``frames_run`` and ``mean_ms_when_run``.
        ``fps`` of a stage is what the pipeline would reach if that stage were the only
        work.

    """
    def pooled(getter) -> npt.NDArray[np.float64]:  # type: ignore[no-untyped-def]
        parts = [np.asarray(getter(run), dtype=np.float64) for run in runs]
        return np.concatenate(parts) if parts else np.zeros(0)

    stage_names = list(dict.fromkeys(name for run in runs for name in run.stage_ms))
    stages = {name: _stats(pooled(lambda run, name=name: run.stage_ms[name][1:]
                                  if name in run.stage_ms else np.zeros(0)))
              for name in stage_names}
    return {
        'track_call': _stats(pooled(lambda run: run.call_ms[1:])),
        'seed_call': _stats(pooled(lambda run: run.call_ms[:1])),
        'frame_read': _stats(pooled(lambda run: run.read_ms)),
        'stages': stages,
    }
