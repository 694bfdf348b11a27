"""Scripted measurement streams with a known truth, for the fusion tests and benchmark.

Each :class:`Scenario` moves a target (and optionally a same-class distractor) along
straight lines at 30 fps and scripts how a tracker and a detector would report them:
constant motion, a 30-frame full occlusion, a distractor crossing the target, a detector
that blinks, a tracker that drifts onto the distractor. The scripted tracker is closed
loop: it answers reseed requests like the real tracker node does (a new track id; it locks
onto whichever object the seed box covers, or onto the next detection of the target class
for an empty request), so loss, reseed and reacquisition can be measured end to end
without any model. :func:`run_scenario` plays one through a
:class:`~samurai_fusion.fusion_filter.FusionFilter` and records every published track.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from samurai_fusion.config import FusionConfig
from samurai_fusion.fusion_filter import FusionFilter, FusionStep, ReseedRequest
from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, Track, TrackState

__all__ = ['SCENARIOS', 'Scenario', 'ScenarioRun', 'ScriptedTracker', 'make_scenario',
           'run_scenario']

TARGET_CLASS = 0
OTHER_CLASS = 2


@dataclass(frozen=True)
class Scenario:
    """One scripted stream; positions in full-frame pixels, times in frames.

    Parameters
    ----------
    name : str
    num_frames : int
    fps : float
    image_size : tuple of int
        ``(width, height)``.
    start, velocity : tuple of float
        Target centre at frame 0 (px) and its velocity (px/frame).
    size : tuple of float
        Target and distractor ``(w, h)`` (px).
    occlusion : tuple of int, optional
        Inclusive frame range in which the target is hidden from both sensors.
    distractor_cross_frame : int, optional
        Frame at which a same-class distractor's centre coincides with the target's.
    distractor_velocity : tuple of float
        Distractor velocity (px/frame).
    max_kf : int
        The tracker runs full inference every ``max_kf``-th frame, predicts in between.
    tracker_noise_px, detector_noise_px : float
        Gaussian box noise (px).
    detector_blink : tuple of int
        ``(period, off)``: the detector misses the target ``off`` frames of every ``period``;
        ``(0, 0)`` never.
    detector_drop : float
        Random per-frame miss probability of the target's detection.
    drift_frame : int, optional
        From this frame the tracker slides onto the distractor over ``drift_frames`` frames
        and follows it, still claiming TRACKED.
    occlusion_lag : int
        Frames the tracker keeps claiming TRACKED after the target disappears.
    tracker_lost_after : int
        Frames of OCCLUDED before the scripted tracker itself says LOST.
    seed : int
        Noise seed.

    """

    name: str
    num_frames: int = 300
    fps: float = 30.0
    image_size: Tuple[int, int] = (640, 480)
    start: Tuple[float, float] = (120.0, 160.0)
    velocity: Tuple[float, float] = (1.4, 0.5)
    size: Tuple[float, float] = (60.0, 90.0)
    occlusion: Optional[Tuple[int, int]] = None
    distractor_cross_frame: Optional[int] = None
    distractor_velocity: Tuple[float, float] = (-1.2, 1.0)
    max_kf: int = 3
    tracker_noise_px: float = 2.0
    detector_noise_px: float = 3.0
    detector_blink: Tuple[int, int] = (0, 0)
    detector_drop: float = 0.0
    drift_frame: Optional[int] = None
    drift_frames: int = 6
    occlusion_lag: int = 1
    tracker_lost_after: int = 8
    seed: int = 0

    def truth(self, index: int) -> Box:
        """Return the true target box at frame ``index``."""
        cx = self.start[0] + self.velocity[0] * index
        cy = self.start[1] + self.velocity[1] * index
        return Box.from_cxcywh(cx, cy, *self.size)

    def visible(self, index: int) -> bool:
        """Whether the target can be seen at frame ``index``."""
        return self.occlusion is None or not self.occlusion[0] <= index <= self.occlusion[1]

    def distractor(self, index: int) -> Optional[Box]:
        """Distractor box at frame ``index`` (None without one)."""
        if self.distractor_cross_frame is None:
            return None
        meet = self.truth(self.distractor_cross_frame)
        steps = index - self.distractor_cross_frame
        return Box.from_cxcywh(meet.cx + self.distractor_velocity[0] * steps,
                               meet.cy + self.distractor_velocity[1] * steps, *self.size)

    def stamp_ns(self, index: int) -> int:
        """Stamp of frame ``index`` (ns)."""
        return int(round(index * 1e9 / self.fps))


def _jitter(rng: np.random.Generator, box: Box, std: float) -> Box:
    noise = rng.normal(0.0, std, 4) if std > 0 else np.zeros(4)
    cx, cy, w, h = box.cxcywh() + noise * np.array([1, 1, 0.5, 0.5])
    return Box.from_cxcywh(cx, cy, max(w, 2.0), max(h, 2.0))


def detect(scenario: Scenario, index: int, rng: np.random.Generator) -> Detections:
    """Return the scripted detector's output at frame ``index`` (all classes)."""
    boxes, scores, classes = [], [], []
    period, off = scenario.detector_blink
    blinked = period > 0 and index % period >= period - off
    dropped = rng.random() < scenario.detector_drop
    if scenario.visible(index) and not blinked and not dropped:
        boxes.append(_jitter(rng, scenario.truth(index), scenario.detector_noise_px).xyxy)
        scores.append(0.7)
        classes.append(TARGET_CLASS)
    distractor = scenario.distractor(index)
    if distractor is not None:
        boxes.append(_jitter(rng, distractor, scenario.detector_noise_px).xyxy)
        scores.append(0.9)  # more confident than the target: the gate must not care
        classes.append(TARGET_CLASS)
    if index % 7 == 0:  # a confident object of another class right on the target
        boxes.append(scenario.truth(index).xyxy)
        scores.append(0.95)
        classes.append(OTHER_CLASS)
    return Detections(np.array(boxes, np.float64).reshape(-1, 4), np.array(scores),
                      np.array(classes, np.int64))


class ScriptedTracker:
    """A closed-loop stand-in for the tracker node (see the module notes)."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self.scenario = scenario
        self.rng = rng
        self.track_id = 1
        self.following = 'target'
        self.unseen = 0
        self.lost = False
        self.waiting_for_detection = False
        self.reseeds: List[ReseedRequest] = []
        self.last_box: Optional[Box] = None
        self.drift_done = False

    def _object_box(self, name: str, index: int) -> Optional[Box]:
        if name == 'target':
            return self.scenario.truth(index) if self.scenario.visible(index) else None
        return self.scenario.distractor(index)

    def _lock_on(self, box: Box, index: int) -> None:
        """Follow whichever object ``box`` covers best (possibly the distractor)."""
        options = {name: self._object_box(name, index) for name in ('target', 'distractor')}
        overlaps = {name: (b.iou(box) if b is not None else 0.0) for name, b in options.items()}
        self.following = max(overlaps, key=lambda name: overlaps[name])
        self.lost = False
        self.unseen = 0

    def reseed(self, request: ReseedRequest, index: int) -> Tuple[bool, int]:
        """Answer a reseed like the tracker node: accepted, with a new track id."""
        self.reseeds.append(request)
        self.track_id += 1
        self.drift_done = True  # a reseed ends the scripted drift
        if request.box is not None:
            self._lock_on(request.box, index)
            self.waiting_for_detection = False
        else:
            self.waiting_for_detection = True
        return True, self.track_id

    def observe(self, index: int, detections: Detections) -> Track:
        """Return the tracker's status for frame ``index``."""
        sc = self.scenario
        if self.waiting_for_detection:
            mine = detections.of_class(TARGET_CLASS)
            best = mine.best(SeedPolicy.MOST_CONFIDENT, *sc.image_size)
            if best is None:
                box = self.last_box or sc.truth(index)
                return Track(TrackState.LOST, BoxSource.PREDICTED, box, 0.0, self.track_id - 1,
                             self.unseen, 'waiting for a detection')
            self._lock_on(mine.box(best), index)
            self.waiting_for_detection = False
            self.last_box = mine.box(best)
            return Track(TrackState.REACQUIRED, BoxSource.DETECTOR, self.last_box, 0.8,
                         self.track_id)
        if sc.drift_frame is not None and index >= sc.drift_frame and not self.drift_done:
            target, other = sc.truth(index), sc.distractor(index)
            assert other is not None, 'a drift scenario needs a distractor'
            t = min((index - sc.drift_frame + 1) / max(sc.drift_frames, 1), 1.0)
            mix = Box((1 - t) * target.xyxy + t * other.xyxy)
            self.last_box = _jitter(self.rng, mix, sc.tracker_noise_px)
            return Track(TrackState.TRACKED, BoxSource.FULL_INFERENCE, self.last_box, 0.9,
                         self.track_id)
        source = BoxSource.FULL_INFERENCE if index % sc.max_kf == 0 else BoxSource.PREDICTED
        seen = self._object_box(self.following, index)
        if seen is not None and not self.lost:
            self.unseen = 0
            std = sc.tracker_noise_px * (1 if source == BoxSource.FULL_INFERENCE else 2)
            self.last_box = _jitter(self.rng, seen, std)
            return Track(TrackState.TRACKED, source, self.last_box, 0.9, self.track_id)
        self.unseen += 1
        # coast on the true path (what a good motion model would predict)
        coast = _jitter(self.rng, sc.truth(index), sc.tracker_noise_px * 2)
        if self.unseen <= sc.occlusion_lag and not self.lost:
            self.last_box = coast
            return Track(TrackState.TRACKED, BoxSource.PREDICTED, coast, 0.7, self.track_id)
        if self.unseen <= sc.occlusion_lag + sc.tracker_lost_after and not self.lost:
            self.last_box = coast
            return Track(TrackState.OCCLUDED, BoxSource.PREDICTED, coast, 0.3, self.track_id,
                         self.unseen)
        self.lost = True
        return Track(TrackState.LOST, BoxSource.PREDICTED, self.last_box or coast, 0.0,
                     self.track_id, self.unseen)


@dataclass
class ScenarioRun:
    """Everything published while playing one scenario.

    Attributes
    ----------
    scenario : Scenario
    steps : list of FusionStep
        One per frame, in order.
    tracker_tracks : list of Track
        The scripted tracker's own status per frame (what a consumer would see without
        fusion).
    reseeds : list of (int, ReseedRequest)
        Frame index and request of every reseed the filter asked for.
    counters : dict
        The filter's counters at the end.

    """

    scenario: Scenario
    steps: List[FusionStep] = field(default_factory=list)
    tracker_tracks: List[Track] = field(default_factory=list)
    reseeds: List[Tuple[int, ReseedRequest]] = field(default_factory=list)
    counters: Dict[str, int] = field(default_factory=dict)

    def states(self) -> List[TrackState]:
        """Return the published state of every frame."""
        return [s.track.state for s in self.steps]

    def first(self, state: TrackState, start: int = 0) -> Optional[int]:
        """First frame at or after ``start`` published in ``state`` (None if never)."""
        for index in range(start, len(self.steps)):
            if self.steps[index].track.state == state:
                return index
        return None

    def off_target(self, index: int, min_iou: float = 0.5) -> bool:
        """Whether frame ``index``'s box is off the true target (or the target is hidden)."""
        box = self.steps[index].track.box
        if box is None or not self.scenario.visible(index):
            return True
        return box.iou(self.scenario.truth(index)) < min_iou


def make_scenario(name: str, seed: int = 0) -> Scenario:
    """Build one of the named scenarios (see :data:`SCENARIOS`)."""
    if name == 'constant_motion':
        return Scenario(name, seed=seed)
    if name == 'occlusion_30':
        return Scenario(name, occlusion=(120, 149), seed=seed)
    if name == 'distractor_crossing':
        return Scenario(name, distractor_cross_frame=150, seed=seed)
    if name == 'blinking_detector':
        return Scenario(name, detector_blink=(12, 6), detector_drop=0.2, seed=seed)
    if name == 'tracker_drift':
        return Scenario(name, distractor_cross_frame=150, drift_frame=150, seed=seed)
    raise ValueError(f'unknown scenario {name!r}; expected one of {list(SCENARIOS)}')


SCENARIOS = ('constant_motion', 'occlusion_30', 'distractor_crossing', 'blinking_detector',
             'tracker_drift')
"""Names accepted by :func:`make_scenario`."""


def run_scenario(scenario: Scenario, config: Optional[FusionConfig] = None,
                 deliver_reseeds: bool = True) -> ScenarioRun:
    """Play ``scenario`` through a fresh fusion filter.

    Reseed requests are answered at once by the scripted tracker; with
    ``deliver_reseeds=False`` they are recorded but never delivered (open loop: the
    tracker-only baseline).
    """
    rng = np.random.default_rng(scenario.seed)
    fusion = FusionFilter(config or FusionConfig(target_class=TARGET_CLASS))
    tracker = ScriptedTracker(scenario, rng)
    run = ScenarioRun(scenario)
    for index in range(scenario.num_frames):
        detections = detect(scenario, index, rng)
        status = tracker.observe(index, detections)
        run.tracker_tracks.append(status)
        step = fusion.step(scenario.stamp_ns(index), status, detections, scenario.image_size)
        run.steps.append(step)
        if step.reseed is not None:
            run.reseeds.append((index, step.reseed))
            if deliver_reseeds:
                tracker.reseed(step.reseed, index)
    run.counters = dict(fusion.counters)
    return run
