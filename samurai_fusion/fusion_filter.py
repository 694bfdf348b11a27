"""The fusion filter: one fused, honest track from the tracker's box and the detector's boxes.

Per image stamp (see :meth:`FusionFilter.step`):

1. **Predict** the master constant-velocity Kalman filter (:mod:`samurai_fusion.kalman`)
   to the stamp.
2. **Tracker box** (primary): used when the tracker reports TRACKED, REACQUIRED or
   INITIALIZING with a box whose centre lies in the pixel gate around the prediction.
   A box that is the tracker's own prediction (source PREDICTED, max_kf coasting) gets a
   larger measurement noise than a full-inference box.
3. **Detection** (secondary): of the detections of ``target_class`` above
   ``min_detection_score`` whose centre lies in the gate, the one nearest the prediction.
   Nearest, not most confident: inside the gate the question is *which* object is ours,
   and a same-class distractor can easily score higher.
4. **Look-alikes**: with two or more target-class detections in the gate (a distractor
   crossing) the association is ambiguous, and this is exactly where trackers drift. The
   detection is then chosen by motion alone: nearest the *anchor*, the state from before
   the encounter predicted without any update (for at most ``ambiguity_max_frames``),
   and the tracker box must overlap it by ``ambiguity_agree_iou`` to count.
5. **Disagreement**: when the tracker box and the chosen detection overlap by less than
   ``agree_iou``, only the one nearer the prediction (the anchor, among look-alikes) is
   used. This keeps the fused box on the target when the tracker drifts onto a crossing
   distractor: the motion says where the target should be, the detector confirms it.
6. **State**: a frame with at least one used measurement is *good*. OCCLUDED while
   coasting, LOST after ``lost_after_frames`` frames without a good one; then a reseed
   request (the best detection of the target class by ``seed_policy``, or an empty request
   so the tracker takes the next one) is emitted exactly once for that loss. The LOST box
   is the last fused box, frozen, with confidence 0. The track comes back only when the
   tracker reports a good box under a *new* track id (a reseed took effect): REACQUIRED
   for ``reacquire_frames`` consecutive good frames, then TRACKED.
7. **Drift**: when the detector holds the target for ``drift_reseed_frames`` frames while
   the tracker's box is rejected, the tracker is reseeded once on the fused box.

Confidence (in [0, 1]) is a heuristic, not a calibration: on a good frame ``1 - prod(1 -
c_i)`` over the used measurements (tracker confidence, detection score x 0.9, since a
detection says "an object of this class", not "this object"), x 0.8 while REACQUIRED;
while coasting the last good value times ``coast_confidence_decay`` per frame; 0 when
LOST or IDLE.

ROS-free; :mod:`samurai_fusion.fusion_node` feeds it from topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from samurai_fusion.config import FusionConfig
from samurai_fusion.gating import centre_distance, in_gate
from samurai_fusion.kalman import initiate, KalmanState, predict, update
from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, Track, \
    TrackState

__all__ = ['FusionFilter', 'FusionStep', 'ReseedRequest', 'GOOD_TRACKER_STATES']

GOOD_TRACKER_STATES = (TrackState.TRACKED, TrackState.REACQUIRED, TrackState.INITIALIZING)
"""Tracker states whose box is a measurement of the target (OCCLUDED / LOST boxes are not)."""


@dataclass(frozen=True)
class ReseedRequest:
    """What the tracker's ``~/reseed`` service should be asked (mirrors ``Reseed.srv``).

    Parameters
    ----------
    kind : str
        ``'loss'`` (the track was declared LOST) or ``'drift'`` (the tracker left the target
        the detector still sees).
    box : Box or None
        Seed box in full-frame pixels; None asks the tracker to take the next detection of
        ``class_id`` by its own seed policy.
    class_id : str
        Detector class id as a string; empty means the tracker's configured class.
    stamp_ns : int
        Stamp of the image ``box`` was measured on (>= 0).
    reason : str
        Why, for the tracker's log.
    event : int
        Number of the loss or drift event (>= 1); one request per event.

    """

    kind: str
    box: Optional[Box]
    class_id: str
    stamp_ns: int
    reason: str
    event: int

    def __post_init__(self) -> None:
        """Validate the kind and the stamp."""
        if self.kind not in ('loss', 'drift'):
            raise ValueError(f"ReseedRequest.kind must be 'loss' or 'drift', got {self.kind!r}")
        if self.stamp_ns < 0 or self.event < 1:
            raise ValueError('ReseedRequest.stamp_ns must be >= 0 and event >= 1')

    @property
    def use_box(self) -> bool:
        """Whether the request carries a box (``Reseed.srv`` ``use_box``)."""
        return self.box is not None


@dataclass(frozen=True)
class FusionStep:
    """The result of one image stamp.

    Parameters
    ----------
    stamp_ns : int
        The image stamp (ns).
    track : Track
        The fused track: source FUSED (NONE while IDLE), box in full-frame pixels.
    reseed : ReseedRequest or None
        A reseed to send now (at most one per loss or drift event).
    tracker_used, detection_used : bool
        Which measurements updated the filter on this stamp.
    detection_box : Box or None
        The detection that was used, if any.
    note : str
        Why a measurement was refused, or empty.

    """

    stamp_ns: int
    track: Track
    reseed: Optional[ReseedRequest] = None
    tracker_used: bool = False
    detection_used: bool = False
    detection_box: Optional[Box] = None
    note: str = ''


class FusionFilter:
    """Fuse tracker and detector measurements into one track with an honest state.

    Parameters
    ----------
    config : FusionConfig, optional
        All knobs; defaults suit 30 fps video.

    Notes
    -----
    Not thread-safe; call from one thread. Stamps passed to :meth:`step` must increase
    (:class:`samurai_fusion.frame_sync.FrameSync` orders them); an older or equal stamp
    is counted in ``counters['stale_steps']`` and ignored.

    """

    def __init__(self, config: Optional[FusionConfig] = None) -> None:
        self.config = config or FusionConfig()
        self.counters: Dict[str, int] = {
            'steps': 0, 'stale_steps': 0, 'tracker_used': 0, 'tracker_rejected': 0,
            'detections_used': 0, 'disagreements': 0, 'ambiguous_frames': 0, 'loss_events': 0,
            'drift_events': 0,
            'reseeds_requested': 0, 'reacquisitions': 0}
        self.reset()

    def reset(self) -> None:
        """Forget the track (back to IDLE); counters are kept."""
        self._kf: Optional[KalmanState] = None
        self._state = TrackState.IDLE
        self._last_stamp: Optional[int] = None
        self._last_box: Optional[Box] = None
        self._tracker_id = 0
        self._lost_tracker_id: Optional[int] = None
        self._frames_since = 0
        self._good_streak = 0
        self._confirming = False
        self._confidence = 0.0
        self._good_confidence = 0.0
        self._drift_streak = 0
        self._drift_reseeded_id: Optional[int] = None
        self._anchor: Optional[KalmanState] = None
        self._anchor_age = 0
        self._event = 0

    @property
    def state(self) -> TrackState:
        """The current fused state."""
        return self._state

    @property
    def kalman_state(self) -> Optional[KalmanState]:
        """The master filter's state (None while IDLE or LOST)."""
        return self._kf

    # ---- measurements -----------------------------------------------------------------
    def _tracker_measurement(self, tracker: Optional[Track]) -> Tuple[Optional[Box], float]:
        cfg = self.config
        if tracker is None or tracker.box is None or tracker.state not in GOOD_TRACKER_STATES:
            return None, 0.0
        if tracker.box.width <= 0 or tracker.box.height <= 0:
            return None, 0.0
        std = (cfg.tracker_predicted_std_px if tracker.source == BoxSource.PREDICTED
               else cfg.tracker_full_std_px)
        return tracker.box, std

    def _target_detections(self, detections: Optional[Detections]) -> Detections:
        if detections is None:
            return Detections()
        cfg = self.config
        chosen = detections.of_class(None if cfg.target_class < 0 else cfg.target_class)
        chosen = chosen.select(chosen.scores >= cfg.min_detection_score)
        size = (chosen.xyxy[:, 2] - chosen.xyxy[:, 0]) * (chosen.xyxy[:, 3] - chosen.xyxy[:, 1])
        return chosen.select(size > 0)

    # ---- the step ---------------------------------------------------------------------
    def step(self, stamp_ns: int, tracker: Optional[Track], detections: Optional[Detections],
             image_size: Optional[Tuple[int, int]] = None) -> FusionStep:
        """Advance to one image stamp and fuse what was measured on it.

        Parameters
        ----------
        stamp_ns : int
            Image stamp (ns), larger than the previous one.
        tracker : Track or None
            The tracker's status for this image (None: the tracker skipped it).
        detections : Detections or None
            The detector's boxes for this image, all classes (None: not run on it).
        image_size : tuple of int, optional
            ``(width, height)`` in pixels, for the ``nearest_center`` seed policy.

        Returns
        -------
        FusionStep

        """
        if self._last_stamp is not None and stamp_ns <= self._last_stamp:
            self.counters['stale_steps'] += 1
            return FusionStep(stamp_ns, self._published(), note='ignored: stamp not newer')
        dt = 0.0 if self._last_stamp is None else (stamp_ns - self._last_stamp) * 1e-9
        dt = min(dt, self.config.max_dt_s)
        self._last_stamp = stamp_ns
        self.counters['steps'] += 1
        tracker_box, tracker_std = self._tracker_measurement(tracker)
        targets = self._target_detections(detections)
        new_id = tracker is not None and tracker.track_id > 0 and \
            tracker.track_id != self._tracker_id

        if self._kf is None or (tracker_box is not None and new_id):
            return self._start_or_wait(stamp_ns, tracker, tracker_box, tracker_std, targets,
                                       image_size)
        return self._fuse(stamp_ns, dt, tracker, tracker_box, tracker_std, targets,
                          image_size)

    def _start_or_wait(self, stamp_ns: int, tracker: Optional[Track],
                       tracker_box: Optional[Box], tracker_std: float, targets: Detections,
                       image_size: Optional[Tuple[int, int]]) -> FusionStep:
        """(Re)start on a tracker box, or keep publishing IDLE / LOST."""
        lost = self._state == TrackState.LOST
        restart_allowed = tracker_box is not None and tracker is not None and (
            not lost or tracker.track_id != self._lost_tracker_id)
        if not restart_allowed or tracker is None or tracker_box is None:
            if lost:
                self._frames_since += 1
            return FusionStep(stamp_ns, self._published(),
                              note='lost: waiting for a reseeded track' if lost else '')
        first = self._state == TrackState.IDLE
        self._kf = initiate(tracker_box, tracker_std, self.config.initial_velocity_std)
        self._tracker_id = tracker.track_id
        self._lost_tracker_id = None
        self._frames_since = 0
        self._good_streak = 1
        self._drift_streak = 0
        self.counters['tracker_used'] += 1
        if first:
            self._state = TrackState.TRACKED
            self._confirming = False
        else:
            self.counters['reacquisitions'] += 1
            self._confirming = True
            self._state = TrackState.REACQUIRED
        self._set_good_confidence(tracker.confidence, None)
        self._last_box = self._kf.box()
        return FusionStep(stamp_ns, self._published(), tracker_used=True,
                          note='started on the tracker box' if first else
                          f'reacquired: tracker track {tracker.track_id}')

    def _fuse(self, stamp_ns: int, dt: float, tracker: Optional[Track],
              tracker_box: Optional[Box], tracker_std: float, targets: Detections,
              image_size: Optional[Tuple[int, int]]) -> FusionStep:
        cfg = self.config
        assert self._kf is not None
        prior = predict(self._kf, dt, cfg.centre_accel_std, cfg.size_accel_std)
        notes = []
        tracker_ok = tracker_box is not None and in_gate(
            cfg.gate, prior, tracker_box, tracker_std, self._frames_since)
        if tracker_box is not None and not tracker_ok:
            self.counters['tracker_rejected'] += 1
            notes.append('tracker box outside the gate')
        # Target-class detections inside the gate, nearest the prediction first.
        gated = sorted((i for i in range(len(targets))
                        if in_gate(cfg.gate, prior, targets.box(i), cfg.detector_std_px,
                                   self._frames_since)),
                       key=lambda i: centre_distance(prior, targets.box(i)))
        # Two look-alikes inside the gate: which one is ours cannot be told from this frame,
        # and this is exactly where a tracker drifts. Associate against the motion alone:
        # the state from before the encounter, predicted without any update ("anchor").
        reference = prior
        agree_iou = cfg.agree_iou
        if len(gated) >= 2:
            self.counters['ambiguous_frames'] += 1
            if self._anchor is None or self._anchor_age >= cfg.ambiguity_max_frames:
                self._anchor, self._anchor_age = self._kf, 0
            self._anchor = predict(self._anchor, dt, cfg.centre_accel_std, cfg.size_accel_std)
            self._anchor_age += 1
            reference = self._anchor
            agree_iou = max(cfg.agree_iou, cfg.ambiguity_agree_iou)
            notes.append('look-alikes in the gate: associating by motion')
        else:
            self._anchor = None
        det_box: Optional[Box] = None
        det_score = 0.0
        if gated:
            best = min(gated, key=lambda i: centre_distance(reference, targets.box(i)))
            det_box = targets.box(best)
            det_score = float(targets.scores[best])
        if tracker_ok and det_box is not None and tracker_box is not None and \
                tracker_box.iou(det_box) < agree_iou:
            self.counters['disagreements'] += 1
            if centre_distance(reference, det_box) < centre_distance(reference, tracker_box):
                tracker_ok = False
                self.counters['tracker_rejected'] += 1
                notes.append('tracker box disagrees with the detector; detector nearer')
            else:
                det_box = None
                notes.append('detection disagrees with the tracker; tracker nearer')
        posterior = prior
        if tracker_ok and tracker_box is not None:
            posterior = update(posterior, tracker_box, tracker_std)
            self.counters['tracker_used'] += 1
        if det_box is not None:
            posterior = update(posterior, det_box, cfg.detector_std_px)
            self.counters['detections_used'] += 1
        self._kf = posterior
        good = tracker_ok or det_box is not None
        reseed = self._drift_check(stamp_ns, tracker, tracker_ok, det_box is not None)
        if good:
            self._frames_since = 0
            self._good_streak += 1
            if self._confirming and self._good_streak > cfg.reacquire_frames:
                self._confirming = False
            self._state = TrackState.REACQUIRED if self._confirming else TrackState.TRACKED
            self._set_good_confidence(
                tracker.confidence if tracker_ok and tracker is not None else None,
                det_score if det_box is not None else None)
            self._last_box = posterior.box()
        else:
            self._frames_since += 1
            self._good_streak = 0
            self._confidence = self._good_confidence * \
                cfg.coast_confidence_decay ** self._frames_since
            self._last_box = posterior.box()
            if self._frames_since >= cfg.lost_after_frames:
                reseed = self._declare_lost(stamp_ns, targets, image_size)
            else:
                self._state = TrackState.OCCLUDED
        return FusionStep(stamp_ns, self._published(), reseed=reseed, tracker_used=tracker_ok,
                          detection_used=det_box is not None, detection_box=det_box,
                          note='; '.join(notes))

    # ---- events -----------------------------------------------------------------------
    def _drift_check(self, stamp_ns: int, tracker: Optional[Track], tracker_ok: bool,
                     detection_ok: bool) -> Optional[ReseedRequest]:
        if not detection_ok or tracker_ok:
            self._drift_streak = 0
            return None
        self._drift_streak += 1
        if self._drift_streak < self.config.drift_reseed_frames or \
                self._drift_reseeded_id == self._tracker_id or self._kf is None:
            return None
        self._drift_reseeded_id = self._tracker_id
        self._event += 1
        self.counters['drift_events'] += 1
        self.counters['reseeds_requested'] += 1
        return ReseedRequest(
            kind='drift', box=self._kf.box(), class_id=self._class_text(), stamp_ns=stamp_ns,
            reason=f'fusion: tracker off the detected target for {self._drift_streak} frames',
            event=self._event)

    def _declare_lost(self, stamp_ns: int, targets: Detections,
                      image_size: Optional[Tuple[int, int]]) -> ReseedRequest:
        cfg = self.config
        self._state = TrackState.LOST
        self._lost_tracker_id = self._tracker_id
        self._kf = None
        self._confirming = False
        self._confidence = 0.0
        self._event += 1
        self.counters['loss_events'] += 1
        self.counters['reseeds_requested'] += 1
        # nearest_center needs the image size; without it fall back to the most confident
        policy = cfg.seed_policy if image_size is not None else SeedPolicy.MOST_CONFIDENT
        width, height = image_size if image_size is not None else (0, 0)
        index = targets.best(policy, width, height)
        box = targets.box(index) if index is not None else None
        return ReseedRequest(
            kind='loss', box=box, class_id=self._class_text(),
            stamp_ns=stamp_ns if box is not None else 0,
            reason=f'fusion: lost for {self._frames_since} frames', event=self._event)

    def _class_text(self) -> str:
        return '' if self.config.target_class < 0 else str(self.config.target_class)

    def _set_good_confidence(self, tracker_conf: Optional[float],
                             detection_score: Optional[float]) -> None:
        miss = 1.0
        if tracker_conf is not None:
            miss *= 1.0 - float(np.clip(tracker_conf, 0.0, 1.0))
        if detection_score is not None:
            miss *= 1.0 - 0.9 * float(np.clip(detection_score, 0.0, 1.0))
        value = 1.0 - miss
        if self._confirming:
            value *= 0.8
        self._good_confidence = float(np.clip(value, 0.0, 1.0))
        self._confidence = self._good_confidence

    def _published(self) -> Track:
        if self._state == TrackState.IDLE or self._last_box is None:
            return Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, self._tracker_id,
                         0, 'waiting for the tracker to lock on')
        confidence = 0.0 if self._state == TrackState.LOST else self._confidence
        message = 'lost: reseed requested' if self._state == TrackState.LOST else ''
        return Track(self._state, BoxSource.FUSED, self._last_box,
                     float(np.clip(confidence, 0.0, 1.0)), self._tracker_id,
                     self._frames_since, message)
