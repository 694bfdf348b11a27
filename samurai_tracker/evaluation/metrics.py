"""Single-object tracking accuracy as the OTB and LaSOT toolkits define it.

Per frame (boxes in full-frame pixels):

* **overlap**: IoU of the predicted and the true box. Continuous-coordinate IoU equals the
  toolkits' inclusive-pixel formula, because their ``-1``/``+1`` terms cancel.
* **centre error**: Euclidean distance (pixels) between the box centres.
* **normalised centre error** (LaSOT): the centre offset divided per axis by the true
  width and height, then the Euclidean norm (unitless).

Per sequence:

* **success curve**: fraction of frames whose overlap is *strictly greater* than each of
  the 21 thresholds 0, 0.05, ..., 1 (OTB ``0:0.05:1``, LaSOT and pytracking use the same);
  **AUC** is the mean of these 21 values. OP50 and OP75 are the curve at 0.5 and 0.75.
* **precision curve**: fraction of frames whose centre error is ``<=`` each threshold
  0, 1, ..., 50 px; **precision** is its value at 20 px.
* **normalised precision curve**: fraction with normalised error ``<=`` 0, 0.01, ..., 0.5;
  the LaSOT papers (and pytracking) quote its value at 0.2, the LaSOT paper also ranks by
  its area over [0, 0.5]: both are reported.

Overall figures are the mean of the per-sequence curves (every sequence weighs the same),
as in the toolkits. The seed frame counts with the ground-truth box (as in the toolkits,
which overwrite the first prediction with it).

Absent frames (target fully occluded, out of view, or an invalid box) follow one of two
conventions, ``absent_frames``:

* ``'fail'``: absent frames stay in the denominator and count as failures at every
  threshold. pytracking does this for LaSOT (and for UAV123 overlaps), so a tracker gains
  nothing from an absent target.
* ``'exclude'``: absent frames leave numerator and denominator (OTB convention).

``'auto'`` picks ``'fail'`` for LaSOT and UAV123 and ``'exclude'`` otherwise. Either way
the honesty metrics (:mod:`samurai_tracker.evaluation.honesty`) judge the absent frames.
A frame without a predicted box (NaN row) has overlap 0 and an infinite centre error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    'ABSENT_FRAME_POLICIES',
    'Accuracy',
    'CENTRE_THRESHOLDS_PX',
    'FrameErrors',
    'NORM_CENTRE_THRESHOLDS',
    'OVERLAP_THRESHOLDS',
    'absent_policy_for',
    'frame_errors',
    'mean_accuracy',
    'sequence_accuracy',
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

OVERLAP_THRESHOLDS: FloatArray = np.round(np.linspace(0.0, 1.0, 21), 10)
"""Success-plot thresholds 0, 0.05, ..., 1 (21 values), compared with ``overlap > t``."""

CENTRE_THRESHOLDS_PX: FloatArray = np.arange(0, 51, dtype=np.float64)
"""Precision-plot thresholds 0..50 px (51 values), compared with ``error <= t``."""

NORM_CENTRE_THRESHOLDS: FloatArray = np.round(np.arange(0, 51) / 100.0, 10)
"""Normalised-precision thresholds 0, 0.01, ..., 0.5 (51 values), ``error <= t``."""

ABSENT_FRAME_POLICIES = ('auto', 'fail', 'exclude')
"""Ways to treat frames without a visible target in the accuracy metrics."""

_PRECISION_PX = 20
_NORM_PRECISION_INDEX = 20  # threshold 0.20


@dataclass(frozen=True)
class FrameErrors:
    """Per-frame errors of one sequence, shape (N,) each.

    Parameters
    ----------
    overlap : numpy.ndarray, float64
        IoU in [0, 1]; 0 where there is no prediction.
    centre_px : numpy.ndarray, float64
        Centre distance in pixels; ``inf`` where there is no prediction.
    centre_norm : numpy.ndarray, float64
        Size-normalised centre distance; ``inf`` where there is no prediction.
    present : numpy.ndarray, bool
        Where the target is visible with a valid true box; errors on other frames are NaN.

    """

    overlap: FloatArray
    centre_px: FloatArray
    centre_norm: FloatArray
    present: BoolArray


def frame_errors(pred_xyxy: npt.ArrayLike, true_xyxy: npt.ArrayLike,
                 present: npt.ArrayLike) -> FrameErrors:
    """Compute overlap and centre errors per frame.

    Parameters
    ----------
    pred_xyxy : array_like, shape (N, 4)
        Predicted boxes ``[x1, y1, x2, y2]`` pixels; a NaN row means no prediction.
    true_xyxy : array_like, shape (N, 4)
        True boxes, same convention; rows where ``present`` is False are ignored.
    present : array_like, shape (N,), bool
        Where the true box is valid and the target visible.

    Returns
    -------
    FrameErrors

    """
    pred = np.asarray(pred_xyxy, dtype=np.float64)
    true = np.asarray(true_xyxy, dtype=np.float64)
    mask = np.asarray(present, dtype=bool)
    if pred.ndim != 2 or pred.shape[1] != 4 or pred.shape != true.shape:
        raise ValueError(f'pred_xyxy and true_xyxy must both have shape (N, 4), '
                         f'got {pred.shape} and {true.shape}')
    if mask.shape != (pred.shape[0],):
        raise ValueError(f'present must have shape ({pred.shape[0]},), got {mask.shape}')
    has_pred = np.all(np.isfinite(pred), axis=1)
    n = pred.shape[0]
    overlap = np.full(n, np.nan)
    centre_px = np.full(n, np.nan)
    centre_norm = np.full(n, np.nan)
    both = mask & has_pred
    p, t = pred[both], true[both]
    inter_w = np.clip(np.minimum(p[:, 2], t[:, 2]) - np.maximum(p[:, 0], t[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(p[:, 3], t[:, 3]) - np.maximum(p[:, 1], t[:, 1]), 0, None)
    inter = inter_w * inter_h
    union = ((p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
             + (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1]) - inter)
    overlap[both] = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    offset = (p[:, :2] + p[:, 2:]) / 2 - (t[:, :2] + t[:, 2:]) / 2
    centre_px[both] = np.hypot(offset[:, 0], offset[:, 1])
    size = t[:, 2:] - t[:, :2]
    centre_norm[both] = np.hypot(offset[:, 0] / size[:, 0], offset[:, 1] / size[:, 1])
    missing = mask & ~has_pred
    overlap[missing] = 0.0
    centre_px[missing] = np.inf
    centre_norm[missing] = np.inf
    return FrameErrors(overlap, centre_px, centre_norm, mask)


@dataclass(frozen=True)
class Accuracy:
    """Accuracy of one sequence (or the mean over sequences).

    Curves are fractions in [0, 1] over :data:`OVERLAP_THRESHOLDS` (21),
    :data:`CENTRE_THRESHOLDS_PX` (51) and :data:`NORM_CENTRE_THRESHOLDS` (51).
    ``frames`` is the denominator: frames counted (0 makes every figure NaN).
    """

    success_curve: FloatArray
    precision_curve: FloatArray
    norm_precision_curve: FloatArray
    mean_overlap: float
    frames: int

    @property
    def auc(self) -> float:
        """Success AUC: mean of the 21-point success curve, in [0, 1]."""
        return float(np.mean(self.success_curve))

    @property
    def op50(self) -> float:
        """Fraction of frames with overlap > 0.5."""
        return float(self.success_curve[10])

    @property
    def op75(self) -> float:
        """Fraction of frames with overlap > 0.75."""
        return float(self.success_curve[15])

    @property
    def precision(self) -> float:
        """Fraction of frames with centre error <= 20 px."""
        return float(self.precision_curve[_PRECISION_PX])

    @property
    def norm_precision(self) -> float:
        """Fraction of frames with normalised centre error <= 0.2 (LaSOT P_norm)."""
        return float(self.norm_precision_curve[_NORM_PRECISION_INDEX])

    @property
    def norm_precision_auc(self) -> float:
        """Mean of the normalised precision curve over [0, 0.5] (LaSOT paper ranking)."""
        return float(np.mean(self.norm_precision_curve))

    def summary(self) -> Dict[str, float]:
        """Headline figures as a flat dict (fractions in [0, 1])."""
        return {'auc': self.auc, 'precision_20px': self.precision,
                'norm_precision_0.2': self.norm_precision,
                'norm_precision_auc': self.norm_precision_auc, 'op50': self.op50,
                'op75': self.op75, 'mean_overlap': self.mean_overlap,
                'frames': self.frames}


def absent_policy_for(layout: str, requested: str = 'auto') -> str:
    """Resolve ``'auto'`` to the toolkit convention of ``layout`` (see module docstring)."""
    if requested not in ABSENT_FRAME_POLICIES:
        raise ValueError(f'absent_frames must be one of {ABSENT_FRAME_POLICIES}, '
                         f'got {requested!r}')
    if requested != 'auto':
        return requested
    return 'fail' if layout in ('lasot', 'uav123') else 'exclude'


def sequence_accuracy(errors: FrameErrors, absent_frames: str = 'exclude') -> Accuracy:
    """Success, precision and normalised precision curves of one sequence.

    Parameters
    ----------
    errors : FrameErrors
        From :func:`frame_errors`.
    absent_frames : str
        ``'fail'`` or ``'exclude'`` (resolve ``'auto'`` with :func:`absent_policy_for`).

    Returns
    -------
    Accuracy

    """
    if absent_frames not in ('fail', 'exclude'):
        raise ValueError(f"absent_frames must be 'fail' or 'exclude', got {absent_frames!r}")
    present = errors.present
    frames = int(present.size if absent_frames == 'fail' else present.sum())
    overlap = errors.overlap[present]
    centre = errors.centre_px[present]
    norm = errors.centre_norm[present]
    if frames == 0:
        nan21, nan51 = np.full(21, np.nan), np.full(51, np.nan)
        return Accuracy(nan21, nan51, nan51.copy(), float('nan'), 0)
    success = (overlap[:, None] > OVERLAP_THRESHOLDS[None]).sum(0) / frames
    precision = (centre[:, None] <= CENTRE_THRESHOLDS_PX[None]).sum(0) / frames
    norm_precision = (norm[:, None] <= NORM_CENTRE_THRESHOLDS[None]).sum(0) / frames
    mean_overlap = float(overlap.sum() / frames)
    return Accuracy(success.astype(np.float64), precision.astype(np.float64),
                    norm_precision.astype(np.float64), mean_overlap, frames)


def mean_accuracy(per_sequence: Sequence[Accuracy]) -> Accuracy:
    """Average per-sequence curves (sequences weigh equally; empty ones are left out)."""
    counted = [acc for acc in per_sequence if acc.frames > 0]
    if not counted:
        nan21, nan51 = np.full(21, np.nan), np.full(51, np.nan)
        return Accuracy(nan21, nan51, nan51.copy(), float('nan'), 0)
    return Accuracy(
        np.mean([acc.success_curve for acc in counted], axis=0),
        np.mean([acc.precision_curve for acc in counted], axis=0),
        np.mean([acc.norm_precision_curve for acc in counted], axis=0),
        float(np.mean([acc.mean_overlap for acc in counted])),
        int(sum(acc.frames for acc in counted)))
