"""PNG plots of an evaluation, drawn with matplotlib's Agg backend (no display needed).

* ``success.png``: success curve (fraction with IoU > t against t), overall and per
  sequence, legend with the AUC, as in the OTB/LaSOT papers;
* ``precision.png``: precision curve (fraction with centre error <= t px), legend with
  the value at 20 px;
* ``timelines/<name>.png``: per sequence, IoU against frame with the reported state as a
  coloured band and the frames without the target shaded, so an honest or a dishonest
  loss can be seen at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np

from samurai_tracker.evaluation.metrics import CENTRE_THRESHOLDS_PX, OVERLAP_THRESHOLDS
from samurai_tracker.evaluation.report import file_stem
from samurai_tracker.evaluation.scoring import EvaluationResult, SequenceResult
from samurai_tracker.records import TrackState

__all__ = ['STATE_COLOURS', 'plot_curves', 'plot_timeline', 'write_plots']

STATE_COLOURS: Dict[TrackState, str] = {
    TrackState.IDLE: '#bbbbbb',
    TrackState.INITIALIZING: '#888888',
    TrackState.TRACKED: '#2ca02c',
    TrackState.OCCLUDED: '#ff7f0e',
    TrackState.LOST: '#d62728',
    TrackState.REACQUIRED: '#1f77b4',
}
"""Colour of each reported state in the timeline band."""

_MAX_SEQUENCE_LINES = 30


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib
    except ImportError as error:  # pragma: no cover - declared dependency
        raise ImportError('samurai-eval draws plots with matplotlib: pip install matplotlib '
                          '(or pass --no-plots)') from error
    matplotlib.use('Agg', force=True)
    import matplotlib.pyplot as plt
    return plt


def plot_curves(evaluation: EvaluationResult, output: Path) -> List[Path]:
    """Draw ``success.png`` and ``precision.png`` under ``output``; returns their paths."""
    plt = _pyplot()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    overall = evaluation.overall_accuracy
    written = []
    for kind in ('success', 'precision'):
        figure, axes = plt.subplots(figsize=(6.4, 4.8), dpi=100)
        many = len(evaluation.sequences) > _MAX_SEQUENCE_LINES
        for result in evaluation.sequences if not many else ():
            curve = (result.accuracy.success_curve if kind == 'success'
                     else result.accuracy.precision_curve)
            thresholds = OVERLAP_THRESHOLDS if kind == 'success' else CENTRE_THRESHOLDS_PX
            axes.plot(thresholds, curve, linewidth=0.8, alpha=0.5, label=result.name)
        if kind == 'success':
            axes.plot(OVERLAP_THRESHOLDS, overall.success_curve, 'k-', linewidth=2.2,
                      label=f'overall [AUC {100 * overall.auc:.1f}]')
            axes.set_xlabel('overlap threshold (IoU)')
            axes.set_ylabel('success rate')
            axes.set_title('Success plot of OPE')
            axes.set_xlim(0, 1)
        else:
            axes.plot(CENTRE_THRESHOLDS_PX, overall.precision_curve, 'k-', linewidth=2.2,
                      label=f'overall [P@20px {100 * overall.precision:.1f}]')
            axes.set_xlabel('location error threshold (pixels)')
            axes.set_ylabel('precision')
            axes.set_title('Precision plot of OPE')
            axes.set_xlim(0, 50)
        axes.set_ylim(0, 1.02)
        axes.grid(True, alpha=0.3)
        axes.legend(loc='lower left' if kind == 'success' else 'lower right', fontsize=7)
        path = output / f'{kind}.png'
        figure.tight_layout()
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


def plot_timeline(result: SequenceResult, path: Path) -> Path:
    """Draw the IoU and state timeline of one sequence to ``path`` (PNG)."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(result.run)
    frames = np.arange(n)
    figure, (axes, band) = plt.subplots(
        2, 1, figsize=(8, 3.6), dpi=100, sharex=True,
        gridspec_kw={'height_ratios': [4, 1]})
    absent = ~result.spec.groundtruth.present
    for first, last in _runs(absent):
        axes.axvspan(first - 0.5, last + 0.5, color='#999999', alpha=0.25, linewidth=0)
    axes.plot(frames, result.errors.overlap, '-', color='#1f3b73', linewidth=1.2,
              label='IoU with truth')
    axes.set_ylim(-0.02, 1.02)
    axes.set_ylabel('IoU')
    axes.set_title(f'{result.name}: AUC {100 * result.accuracy.auc:.1f}, '
                   f'false tracked {result.honesty.false_tracked} frames '
                   f'(grey: target absent)', fontsize=9)
    axes.grid(True, alpha=0.3)
    states = result.run.states
    for state, colour in STATE_COLOURS.items():
        for first, last in _runs(states == int(state)):
            band.axvspan(first - 0.5, last + 0.5, color=colour, linewidth=0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour) for colour in STATE_COLOURS.values()]
    figure.legend(handles, [state.name for state in STATE_COLOURS], ncol=6, fontsize=7,
                  loc='lower center', frameon=False)
    band.set_yticks([])
    band.set_ylabel('state', fontsize=8)
    band.set_xlim(-0.5, n - 0.5)
    band.set_xlabel('frame')
    figure.tight_layout(rect=(0.0, 0.07, 1.0, 1.0))
    figure.savefig(path)
    plt.close(figure)
    return path


def _runs(mask: np.ndarray) -> List[tuple]:
    """``(first, last)`` of each run of True in a 1-D mask (inclusive)."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(edges[i]), int(edges[i + 1] - 1)) for i in range(0, edges.size, 2)]


def write_plots(evaluation: EvaluationResult, output: Path) -> Dict[str, object]:
    """Draw all plots under ``output``; returns the relative paths for the report."""
    output = Path(output)
    curves = plot_curves(evaluation, output)
    timelines = [plot_timeline(result, output / 'timelines' / f'{file_stem(result.name)}.png')
                 for result in evaluation.sequences]
    return {'plots': [path.name for path in curves],
            'timelines': [f'timelines/{path.name}' for path in timelines]}
