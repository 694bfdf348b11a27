"""Track state and confidence: TRACKED, OCCLUDED, LOST, REACQUIRED, honestly.

Confidence of a full inference is a logistic of a weighted sum of the two things SAM 2.1
says about its answer::

    confidence = sigmoid(a * object_score_logit + b * (predicted_iou - c))

with ``a = 1`` (the object-score head is itself trained as a presence logit), ``b = 10``
and ``c = 0.5`` (a mask whose predicted IoU is 0.5 neither adds nor removes belief; 0.98
adds 4.8 logits, 0.3 removes 2). The coefficients are :class:`TrackerConfig` fields; the
benchmark measures the calibration (expected calibration error against the truth of
generated clips). A frame coasted on the Kalman filter multiplies the last confidence by
``coast_confidence_decay``.

States (:class:`LifeState` is state-in/state-out, like the filters):

- a first seed starts TRACKED; a reseed starts REACQUIRED (probation);
- a good measurement (confidence >= ``min_confidence`` and a non-empty mask) keeps or
  makes the track TRACKED, except on probation, where it stays REACQUIRED until
  ``reacquire_frames`` good frames in a row;
- a bad one makes it OCCLUDED (the box coasts on the Kalman prediction), and LOST once
  ``lost_after_frames`` frames (or ``lost_after_seconds``, when stamps are given) passed
  without a good measurement; leaving LOST puts the track on probation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Optional

from samurai_tracker.records import TrackState
from samurai_tracker.tracker.config import TrackerConfig

__all__ = ['LifeState', 'after_coast', 'after_measurement', 'after_seed', 'confidence']


def confidence(object_score: float, iou: float, config: TrackerConfig) -> float:
    """Return ``sigmoid(a * object_score + b * (iou - c))`` in [0, 1] (see module doc)."""
    logit = (config.confidence_obj_weight * float(object_score)
             + config.confidence_iou_weight * (float(iou) - config.confidence_iou_center))
    if not math.isfinite(logit):
        return 0.0 if logit != logit or logit < 0 else 1.0
    logit = max(min(logit, 60.0), -60.0)
    return 1.0 / (1.0 + math.exp(-logit))


@dataclass(frozen=True)
class LifeState:
    """Where a track stands between frames.

    Parameters
    ----------
    state : TrackState
    confidence : float
        In [0, 1], the last reported confidence.
    frames_since_measurement : int
        Frames (coasted or inferred) since the last good measurement.
    good_run : int
        Consecutive good measurements while on probation.
    probation : bool
        True after a reseed or a loss until ``reacquire_frames`` good frames.
    last_good_stamp_ns : int or None
        Stamp of the last good measurement, when stamps are given.

    """

    state: TrackState = TrackState.IDLE
    confidence: float = 0.0
    frames_since_measurement: int = 0
    good_run: int = 0
    probation: bool = False
    last_good_stamp_ns: Optional[int] = None


def after_seed(reseed: bool, conf: float, stamp_ns: Optional[int],
               config: TrackerConfig) -> LifeState:
    """State right after a (re)seed: TRACKED for the first, REACQUIRED for a reseed."""
    if reseed and config.reacquire_frames > 1:
        return LifeState(TrackState.REACQUIRED, conf, 0, 1, True, stamp_ns)
    return LifeState(TrackState.TRACKED, conf, 0, 0, False, stamp_ns)


def _lost(life: LifeState, frames: int, stamp_ns: Optional[int],
          config: TrackerConfig) -> bool:
    if frames >= config.lost_after_frames:
        return True
    if config.lost_after_seconds > 0 and stamp_ns is not None and \
            life.last_good_stamp_ns is not None:
        return (stamp_ns - life.last_good_stamp_ns) >= config.lost_after_seconds * 1e9
    return False


def after_measurement(life: LifeState, good: bool, conf: float, stamp_ns: Optional[int],
                      config: TrackerConfig) -> LifeState:
    """Advance the state after a full inference judged ``good`` (or not)."""
    if good:
        if life.probation or life.state is TrackState.LOST:
            run = life.good_run + 1
            if run >= config.reacquire_frames:
                return LifeState(TrackState.TRACKED, conf, 0, 0, False, stamp_ns)
            return LifeState(TrackState.REACQUIRED, conf, 0, run, True, stamp_ns)
        return LifeState(TrackState.TRACKED, conf, 0, 0, False, stamp_ns)
    frames = life.frames_since_measurement + 1
    if life.state is TrackState.LOST or _lost(life, frames, stamp_ns, config):
        return replace(life, state=TrackState.LOST, confidence=conf,
                       frames_since_measurement=frames, good_run=0, probation=True)
    return replace(life, state=TrackState.OCCLUDED, confidence=conf,
                   frames_since_measurement=frames, good_run=0)


def after_coast(life: LifeState, stamp_ns: Optional[int], config: TrackerConfig) -> LifeState:
    """Advance the state over a frame coasted on the Kalman prediction (no measurement)."""
    frames = life.frames_since_measurement + 1
    conf = life.confidence * config.coast_confidence_decay
    if _lost(life, frames, stamp_ns, config):
        return replace(life, state=TrackState.LOST, confidence=conf,
                       frames_since_measurement=frames, good_run=0, probation=True)
    return replace(life, confidence=conf, frames_since_measurement=frames)
