"""SAMURAI's motion-aware choice among the mask decoder's candidates.

On a tracking frame the decoder proposes three masks (multimask tokens 1..3) with a
predicted IoU each. SAMURAI (``SAM2Base._forward_sam_heads`` in yangchris11/samurai)
chooses among them in three regimes that depend on how long the track has been stable:

1. no Kalman state yet, or the last frame was unstable (``stable_frames == 0``): take
   the highest predicted IoU and (re)start the filter at its box;
2. fewer than ``stable_frames_threshold`` stable frames: predict, take the highest
   predicted IoU, and update the filter with its box when that IoU is above
   ``stable_ious_threshold`` (else the track becomes unstable);
3. stable: predict, score every candidate by
   ``w * IoU(Kalman box, candidate box) + (1 - w) * predicted IoU`` and take the best;
   update the filter unless its predicted IoU is below ``stable_ious_threshold``. Only
   this regime yields a Kalman score (the IoU of the chosen box with the prediction),
   which gates the memory bank.

Two deliberate deviations, both for frames where the chosen mask is empty (the object
score gate blanked it): the reference feeds the box ``[0, 0, 0, 0]`` to the filter
(initiating or updating it at the image corner); here an empty mask is never a
measurement: the filter is left as predicted and the track counts as unstable.

:func:`choose_candidate` is pure: selection state in, selection state out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box
from samurai_tracker.tracker import kalman
from samurai_tracker.tracker.kalman import KalmanState

__all__ = ['Choice', 'SelectionState', 'choose_candidate', 'kalman_scored']


@dataclass(frozen=True)
class SelectionState:
    """What the candidate choice remembers between full inferences.

    Parameters
    ----------
    kf : KalmanState or None
        Box filter in full-frame pixels; None before the first tracking frame.
    stable_frames : int
        Consecutive stable frames (>= 0), SAMURAI's ``stable_frames``.

    """

    kf: Optional[KalmanState] = None
    stable_frames: int = 0

    def __post_init__(self) -> None:
        """Validate the counter."""
        if self.stable_frames < 0:
            raise ValueError(f'stable_frames must be >= 0, got {self.stable_frames}')


@dataclass(frozen=True)
class Choice:
    """The outcome of one choice.

    Parameters
    ----------
    index : int
        Chosen candidate, 0-based among the candidates passed in.
    box : Box or None
        Its box in full-frame pixels, None for an empty mask.
    kf_score : float or None
        IoU of the chosen box with the Kalman prediction (regime 3 only).
    regime : int
        1, 2 or 3 as in the module docstring.
    state : SelectionState
        The state after this frame.

    """

    index: int
    box: Optional[Box]
    kf_score: Optional[float]
    regime: int
    state: SelectionState


def kalman_scored(state: SelectionState, stable_frames_threshold: int) -> bool:
    """Whether the next choice is regime 3 (candidates scored against the Kalman box)."""
    return (state.kf is not None and state.stable_frames > 0
            and state.stable_frames >= stable_frames_threshold)


def choose_candidate(state: SelectionState, ious: npt.ArrayLike,
                     box_of: Callable[[int], Optional[Box]], *,
                     stable_frames_threshold: int, stable_ious_threshold: float,
                     kf_score_weight: float, index: Optional[int] = None) -> Choice:
    """Choose a mask candidate as SAMURAI does and advance the selection state.

    Parameters
    ----------
    state : SelectionState
        State after the previous full inference (already advanced by :func:`kalman.predict`
        for every coasted frame in between).
    ious : array_like, shape (K,)
        Predicted IoU of each candidate, in [0, 1].
    box_of : callable
        ``box_of(i)`` returns candidate ``i``'s box in full-frame pixels, or None when its
        mask is empty. Called lazily: regimes 1 and 2 need only the winner's box.
    stable_frames_threshold, stable_ious_threshold, kf_score_weight : int, float, float
        See :class:`~samurai_tracker.tracker.config.TrackerConfig`.
    index : int, optional
        The candidate this same rule already chose on the device (the fused tracking step
        scores in float32 there); used instead of the host's arg-max so that the memory
        the device encoded and the state advanced here belong to one candidate. The
        Kalman score and the state update are computed here either way.

    Returns
    -------
    Choice

    """
    scores = np.asarray(ious, dtype=np.float64).reshape(-1)
    if scores.size == 0 or not np.all(np.isfinite(scores)):
        raise ValueError(f'ious must be a non-empty finite vector, got {scores}')
    if index is not None and not 0 <= index < scores.size:
        raise ValueError(f'index must be in [0, {scores.size}), got {index}')
    if state.kf is None or state.stable_frames == 0:
        index = int(np.argmax(scores)) if index is None else index
        box = box_of(index)
        if box is None or box.height <= 0:
            return Choice(index, box, None, 1, SelectionState(state.kf, 0))
        return Choice(index, box, None, 1,
                      SelectionState(kalman.initiate(box), state.stable_frames + 1))
    predicted = kalman.predict(state.kf)
    if not kalman_scored(state, stable_frames_threshold):
        index = int(np.argmax(scores)) if index is None else index
        box = box_of(index)
        if scores[index] > stable_ious_threshold and box is not None and box.height > 0:
            return Choice(index, box, None, 2, SelectionState(
                kalman.update(predicted, box), state.stable_frames + 1))
        return Choice(index, box, None, 2, SelectionState(predicted, 0))
    boxes: Sequence[Optional[Box]] = [box_of(i) for i in range(scores.size)]
    prior = kalman.state_box(predicted)
    kf_ious = np.array([0.0 if b is None else prior.iou(b) for b in boxes])
    weighted = kf_score_weight * kf_ious + (1.0 - kf_score_weight) * scores
    index = int(np.argmax(weighted)) if index is None else index
    box = boxes[index]
    kf_score = float(kf_ious[index])
    if scores[index] < stable_ious_threshold or box is None or box.height <= 0:
        return Choice(index, box, kf_score, 3, SelectionState(predicted, 0))
    return Choice(index, box, kf_score, 3,
                  SelectionState(kalman.update(predicted, box), state.stable_frames))
