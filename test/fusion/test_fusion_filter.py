"""The fusion filter on scripted measurement streams with a known truth.

Independent expectations come from the scenario script itself (where the target really
is, when it hides and comes back), never from the filter's own output.
"""

import numpy as np
import pytest

from samurai_fusion import FusionConfig, FusionFilter, GateConfig
from samurai_fusion.scenarios import make_scenario, run_scenario, Scenario
from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, Track, TrackState

FPS_NS = 33_333_333


def _tracked_off_target(run):
    return sum(1 for i, step in enumerate(run.steps)
               if step.track.state == TrackState.TRACKED and run.off_target(i))


@pytest.mark.parametrize('seed', range(3))
def test_constant_motion_stays_tracked_and_close(seed):
    run = run_scenario(make_scenario('constant_motion', seed))
    assert set(run.states()) == {TrackState.TRACKED}
    errors = [np.hypot(s.track.box.cx - run.scenario.truth(i).cx,
                       s.track.box.cy - run.scenario.truth(i).cy)
              for i, s in enumerate(run.steps)]
    assert np.median(errors) < 3.0 and max(errors) < 10.0
    assert run.reseeds == []
    assert all(s.track.source == BoxSource.FUSED for s in run.steps)
    assert all(0.0 <= s.track.confidence <= 1.0 for s in run.steps)


@pytest.mark.parametrize('seed', range(3))
def test_full_occlusion_goes_occluded_then_lost_once_then_reacquired(seed):
    scenario = make_scenario('occlusion_30', seed)
    config = FusionConfig(target_class=0, lost_after_frames=10, reacquire_frames=5)
    run = run_scenario(scenario, config)
    hide, back = scenario.occlusion[0], scenario.occlusion[1] + 1
    occluded = run.first(TrackState.OCCLUDED, hide)
    lost = run.first(TrackState.LOST, hide)
    assert occluded is not None and lost is not None and occluded < lost
    assert lost - hide <= 15
    assert all(s == TrackState.OCCLUDED for s in run.states()[occluded:lost])
    # exactly one reseed for the one loss, sent when LOST was declared, empty (no detection)
    assert [(i, r.kind, r.box) for i, r in run.reseeds] == [(lost, 'loss', None)]
    assert run.steps[lost].track.confidence == 0.0
    reacquired = run.first(TrackState.REACQUIRED, back)
    assert reacquired is not None and reacquired - back <= 30
    assert all(s == TrackState.LOST for s in run.states()[lost:reacquired])
    tracked_again = run.first(TrackState.TRACKED, reacquired)
    assert tracked_again - reacquired == config.reacquire_frames
    assert _tracked_off_target(run) <= 0.01 * scenario.num_frames


@pytest.mark.parametrize('seed', range(3))
def test_crossing_distractor_is_gated_out(seed):
    run = run_scenario(make_scenario('distractor_crossing', seed))
    assert set(run.states()) == {TrackState.TRACKED}
    assert not any(run.off_target(i) for i in range(len(run.steps)))
    assert run.reseeds == [] and run.counters['ambiguous_frames'] > 0


@pytest.mark.parametrize('seed', range(3))
def test_blinking_detector_never_breaks_the_track(seed):
    run = run_scenario(make_scenario('blinking_detector', seed))
    assert set(run.states()) == {TrackState.TRACKED}
    assert run.counters['detections_used'] < 0.7 * len(run.steps)
    assert run.reseeds == []


@pytest.mark.parametrize('seed', range(5))
def test_tracker_drifting_onto_the_distractor_is_caught_and_reseeded_once(seed):
    scenario = make_scenario('tracker_drift', seed)
    run = run_scenario(scenario)
    assert _tracked_off_target(run) <= 0.01 * scenario.num_frames
    assert len(run.reseeds) == 1
    frame, request = run.reseeds[0]
    assert request.kind == 'drift' and request.box is not None
    assert request.box.iou(scenario.truth(frame)) > 0.5
    assert scenario.drift_frame < frame <= scenario.drift_frame + 40
    # after the reseed the tracker is back on the target and the track is TRACKED again
    assert run.states()[-1] == TrackState.TRACKED
    assert not any(run.off_target(i) for i in range(frame, scenario.num_frames))


def test_target_that_never_returns_gets_exactly_one_reseed():
    scenario = Scenario('gone', num_frames=400, occlusion=(100, 399))
    run = run_scenario(scenario)
    assert len(run.reseeds) == 1 and run.states()[-1] == TrackState.LOST
    assert run.steps[-1].track.frames_since_measurement > 250


def _track(box, state=TrackState.TRACKED, track_id=1, source=BoxSource.FULL_INFERENCE):
    return Track(state, source, box, 0.9 if box is not None else 0.0, track_id)


def _coast_to_loss(fusion, start_ns, frames, detections=None, size=(640, 480)):
    step = None
    for k in range(frames):
        step = fusion.step(start_ns + k * FPS_NS, None, detections, size)
        if step.reseed is not None:
            return k, step
    return frames, step


@pytest.mark.parametrize('policy,expected_cx', [(SeedPolicy.MOST_CONFIDENT, 600.0),
                                                (SeedPolicy.NEAREST_CENTER, 330.0)])
def test_loss_reseed_names_the_best_detection_by_policy(policy, expected_cx):
    fusion = FusionFilter(FusionConfig(target_class=0, seed_policy=policy, lost_after_frames=3))
    fusion.step(0, _track(Box.from_cxcywh(50, 50, 20, 20)), None, (640, 480))
    far = Detections(np.array([[590, 400, 610, 420], [320, 230, 340, 250], [300, 220, 360, 260]],
                              float), np.array([0.9, 0.5, 0.99]), np.array([0, 0, 7]))
    frames, step = _coast_to_loss(fusion, FPS_NS, 10, far)
    assert frames == 2 and step.track.state == TrackState.LOST
    assert step.reseed.box.cx == pytest.approx(expected_cx)
    assert step.reseed.stamp_ns == step.stamp_ns and step.reseed.class_id == '0'


def test_lost_needs_a_new_track_id_to_come_back():
    fusion = FusionFilter(FusionConfig(target_class=0, lost_after_frames=3, reacquire_frames=2))
    box = Box.from_cxcywh(100, 100, 30, 30)
    fusion.step(0, _track(box), None)
    _coast_to_loss(fusion, FPS_NS, 5)
    assert fusion.state == TrackState.LOST
    # the old track comes back claiming TRACKED: not trusted until a reseed took effect
    for k in range(10, 20):
        step = fusion.step(k * FPS_NS, _track(box, track_id=1), None)
        assert step.track.state == TrackState.LOST and step.reseed is None
    states = [fusion.step(k * FPS_NS, _track(box, track_id=2), None).track.state
              for k in range(20, 25)]
    assert states == [TrackState.REACQUIRED, TrackState.REACQUIRED, TrackState.TRACKED,
                      TrackState.TRACKED, TrackState.TRACKED]


def test_predicted_tracker_boxes_pull_less_than_full_inference():
    results = {}
    for source in (BoxSource.FULL_INFERENCE, BoxSource.PREDICTED):
        fusion = FusionFilter(FusionConfig(target_class=0))
        for k in range(10):
            fusion.step(k * FPS_NS, _track(Box.from_cxcywh(100, 100, 30, 30)), None)
        step = fusion.step(10 * FPS_NS, _track(Box.from_cxcywh(130, 100, 30, 30),
                                               source=source), None)
        results[source] = step.track.box.cx
    assert 100 < results[BoxSource.PREDICTED] < results[BoxSource.FULL_INFERENCE] < 130


def test_unknown_classes_low_scores_and_empty_detections_are_ignored():
    fusion = FusionFilter(FusionConfig(target_class=0, lost_after_frames=50))
    fusion.step(0, _track(Box.from_cxcywh(100, 100, 30, 30)), None)
    junk = Detections(np.array([[90, 90, 110, 110], [90, 90, 110, 110]], float),
                      np.array([0.99, 0.05]), np.array([999, 0]))
    for k in range(1, 6):
        step = fusion.step(k * FPS_NS, None, junk if k % 2 else Detections())
        assert not step.detection_used and step.track.state == TrackState.OCCLUDED
    assert fusion.counters['detections_used'] == 0


def test_stale_stamps_are_counted_and_change_nothing():
    fusion = FusionFilter()
    box = Box.from_cxcywh(100, 100, 30, 30)
    first = fusion.step(10 * FPS_NS, _track(box), None)
    again = fusion.step(10 * FPS_NS, _track(Box.from_cxcywh(300, 300, 30, 30)), None)
    older = fusion.step(5 * FPS_NS, _track(Box.from_cxcywh(300, 300, 30, 30)), None)
    assert fusion.counters['stale_steps'] == 2
    np.testing.assert_allclose(again.track.box.xyxy, first.track.box.xyxy)
    np.testing.assert_allclose(older.track.box.xyxy, first.track.box.xyxy)


def test_mahalanobis_gate_option_runs_the_scenarios():
    config = FusionConfig(target_class=0, gate=GateConfig(use_mahalanobis=True))
    run = run_scenario(make_scenario('constant_motion'), config)
    assert run.states().count(TrackState.TRACKED) > 0.9 * len(run.steps)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match='lost_after_frames'):
        FusionConfig(lost_after_frames=0)
    with pytest.raises(ValueError, match='agree_iou'):
        FusionConfig(agree_iou=2.0)
    with pytest.raises(ValueError):
        FusionConfig(seed_policy='biggest')
