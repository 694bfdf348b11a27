"""Turn a recorded run into scores: accuracy, honesty and speed, per sequence and overall.

This module joins the pieces (truth from :mod:`datasets`, reports from :mod:`runner`) and
applies the conventions written down in :mod:`metrics` and :mod:`honesty`; it holds no
maths of its own beyond the seed-frame rule: frame 0 is scored with the true box, as the
toolkits do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Sequence, Tuple

from samurai_tracker.evaluation.datasets import SequenceSpec, SkippedSequence
from samurai_tracker.evaluation.honesty import Honesty, honesty, merge_honesty
from samurai_tracker.evaluation.metrics import (
    absent_policy_for, Accuracy, frame_errors, FrameErrors, mean_accuracy, sequence_accuracy)
from samurai_tracker.evaluation.runner import SequenceRun
from samurai_tracker.evaluation.speed import speed_summary

__all__ = ['EvaluationResult', 'SequenceResult', 'score_run', 'summarise']


@dataclass(frozen=True)
class SequenceResult:
    """Everything known about one evaluated sequence.

    Parameters
    ----------
    spec : SequenceSpec
        The sequence (truth, layout, notes).
    run : SequenceRun
        What the tracker reported.
    errors : FrameErrors
        Per-frame overlap and centre errors (frame 0 scored with the true box).
    accuracy : Accuracy
        Curves and headline figures.
    absent_frames : str
        The resolved absent-frame policy (``'fail'`` or ``'exclude'``).
    honesty : Honesty
        Lost-state honesty counts and events.

    """

    spec: SequenceSpec
    run: SequenceRun
    errors: FrameErrors
    accuracy: Accuracy
    absent_frames: str
    honesty: Honesty

    @property
    def name(self) -> str:
        """Sequence name."""
        return self.spec.name


@dataclass(frozen=True)
class EvaluationResult:
    """A whole run: evaluated and skipped sequences and the overall figures."""

    sequences: Tuple[SequenceResult, ...]
    skipped: Tuple[SkippedSequence, ...]
    overall_accuracy: Accuracy
    overall_honesty: Honesty
    speed: Dict[str, Any]


def score_run(spec: SequenceSpec, run: SequenceRun,
              absent_frames: str = 'auto') -> SequenceResult:
    """Score one run against its truth.

    Parameters
    ----------
    spec : SequenceSpec
    run : SequenceRun
        Must cover the same N frames as ``spec``.
    absent_frames : str
        ``'auto'``, ``'fail'`` or ``'exclude'`` (see :mod:`metrics`).

    """
    if len(run) != len(spec.groundtruth):
        raise ValueError(f'{spec.name}: run has {len(run)} frames, truth has '
                         f'{len(spec.groundtruth)}')
    truth = spec.groundtruth
    pred = run.pred_xyxy.copy()
    pred[0] = truth.xyxy[0]
    errors = frame_errors(pred, truth.xyxy, truth.present)
    policy = absent_policy_for(spec.layout, absent_frames)
    return SequenceResult(spec, run, errors, sequence_accuracy(errors, policy), policy,
                          honesty(run.states, truth.present, errors.overlap))


def summarise(results: Sequence[SequenceResult],
              skipped: Sequence[SkippedSequence]) -> EvaluationResult:
    """Pool per-sequence results into the overall figures (sequence-averaged curves)."""
    return EvaluationResult(
        tuple(results), tuple(skipped),
        mean_accuracy([result.accuracy for result in results]),
        merge_honesty([result.honesty for result in results]),
        speed_summary([result.run for result in results]))
