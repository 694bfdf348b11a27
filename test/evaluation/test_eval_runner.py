"""The one-pass runner and scoring, driven by a scripted tracker with known answers."""

import numpy as np
import pytest

from samurai_tracker.evaluation.datasets import load_dataset
from samurai_tracker.evaluation.frames import FrameReadError
from samurai_tracker.evaluation.runner import run_sequence, TrackerLike
from samurai_tracker.evaluation.scoring import score_run, summarise
from samurai_tracker.evaluation.speed import speed_summary
from samurai_tracker.evaluation.synthetic_datasets import write_sequence
from samurai_tracker.evaluation.template_tracker import TemplateTracker
from samurai_tracker.records import Box, BoxSource, Track, TrackState


class ScriptedTracker:
    """Replays a fixed list of (state, box) answers and records how it was called."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.resets = 0
        self._timings = {}

    @property
    def timings(self):
        return dict(self._timings)

    def reset(self):
        self.resets += 1

    def seed(self, frame_rgb, box, stamp_ns=None):
        self.calls.append(('seed', frame_rgb.shape, box, stamp_ns))
        self._timings = {'encoder': 10.0}
        return Track(TrackState.TRACKED, BoxSource.FULL_INFERENCE, box, 1.0, 1)

    def track(self, frame_rgb, stamp_ns=None):
        index = len(self.calls)
        self.calls.append(('track', frame_rgb.shape, None, stamp_ns))
        state, box = self.answers[index]
        self._timings = {'encoder': 4.0, 'decoder': 1.0} if index % 2 else {'decoder': 2.0}
        return Track(state, BoxSource.FULL_INFERENCE, box, 0.5, 1)


@pytest.fixture()
def lasot_spec(tmp_path):
    from samurai_tracker.synthetic import SyntheticClip
    clip = SyntheticClip(num_frames=8, width=96, height=80, object_size=(20, 16),
                         occlusion=(3, 4), seed=2)
    write_sequence(clip, tmp_path, 'lasot', 'cube-1', ext='png')
    (spec,) = load_dataset(tmp_path).sequences
    return clip, spec


def test_scripted_run_is_recorded_and_scored(lasot_spec):
    clip, spec = lasot_spec
    truth = [clip.truth(i) for i in range(8)]
    off = Box.from_xyxy(0, 0, 5, 5)   # far from the object: IoU 0
    answers = {1: (TrackState.TRACKED, truth[1]), 2: (TrackState.TRACKED, off),
               3: (TrackState.TRACKED, truth[3]), 4: (TrackState.LOST, truth[4]),
               5: (TrackState.REACQUIRED, truth[5]), 6: (TrackState.TRACKED, truth[6]),
               7: (TrackState.TRACKED, truth[7])}
    tracker = ScriptedTracker(answers)
    assert isinstance(tracker, TrackerLike)
    run = run_sequence(tracker, spec, progress=False)
    assert tracker.resets == 1
    kind, shape, seed_box, stamp = tracker.calls[0]
    assert kind == 'seed' and shape == (80, 96, 3) and stamp == 0
    np.testing.assert_array_equal(seed_box.xyxy, truth[0].xyxy)
    assert [c[0] for c in tracker.calls[1:]] == ['track'] * 7
    assert tracker.calls[3][3] == int(round(3 * 1e9 / 30))
    assert run.states.tolist() == [2, 2, 2, 2, 4, 5, 2, 2]
    # stage timings: NaN where a stage did not run on that frame
    assert run.stage_ms['encoder'][0] == 10.0 and np.isnan(run.stage_ms['encoder'][2])
    assert run.stage_ms['decoder'].tolist()[1:3] == [1.0, 2.0]
    speed = speed_summary([run])
    assert speed['stages']['encoder']['frames'] == 4           # frames 1, 3, 5, 7
    assert speed['stages']['encoder']['mean_ms'] == 4.0
    assert speed['stages']['decoder']['mean_ms'] == pytest.approx((4 * 1 + 3 * 2) / 7)
    assert speed['stages']['encoder']['fps'] == pytest.approx(250.0)

    result = score_run(spec, run)
    assert result.absent_frames == 'fail'      # LaSOT convention
    # present frames 0,1,2,5,6,7 have IoU 1,1,0,1,1,1; frames 3,4 absent fail; N = 8
    expected_success = np.array([5] * 20 + [0]) / 8
    np.testing.assert_allclose(result.accuracy.success_curve, expected_success)
    assert result.honesty.false_tracked_absent == 1          # frame 3 claimed, absent
    assert result.honesty.false_tracked_off_target == 1      # frame 2
    (event,) = result.honesty.events
    assert (event.first, event.last, event.frames_to_lost, event.frames_to_reacquire) == (
        3, 4, 1, 0)
    overall = summarise([result, result], [])
    assert overall.overall_accuracy.auc == pytest.approx(result.accuracy.auc)
    assert overall.overall_honesty.false_tracked == 4


def test_template_baseline_loses_and_reacquires_honestly(tmp_path):
    from samurai_tracker.synthetic import SyntheticClip
    clip = SyntheticClip(num_frames=12, width=128, height=96, object_size=(24, 20),
                         occlusion=(4, 6), seed=2)
    write_sequence(clip, tmp_path, 'lasot', 'cube-1', ext='png')
    (spec,) = load_dataset(tmp_path).sequences
    result = score_run(spec, run_sequence(TemplateTracker(lost_after=0), spec, progress=False))
    assert result.honesty.false_tracked == 0
    (event,) = result.honesty.events
    assert (event.first, event.last) == (4, 6)
    assert event.frames_to_lost == 0 and event.frames_to_reacquire == 0
    assert result.run.states[7] == TrackState.REACQUIRED


def test_unreadable_frame_raises_with_the_file(lasot_spec, tmp_path):
    _, spec = lasot_spec
    bad = spec.frames.paths[2]
    bad.write_bytes(b'not an image')
    with pytest.raises(FrameReadError, match='00000003.png'):
        run_sequence(TemplateTracker(), spec, progress=False)


def test_speed_separates_amortised_and_per_call_cost():
    from samurai_tracker.evaluation.runner import SequenceRun
    n = 5
    run = SequenceRun(
        'x', np.zeros((n, 4)), np.full(n, 2), np.ones(n), np.array([50.0, 10, 10, 10, 30]),
        np.ones(n), {'encoder': np.array([40.0, 4, 0, 4, 0]),      # coasted frames: 0 ms
                     'decoder': np.array([1.0, np.nan, 1, np.nan, 1])})  # not reported: NaN
    speed = speed_summary([run])
    encoder = speed['stages']['encoder']
    assert encoder['frames'] == 4 and encoder['mean_ms'] == 2.0 and encoder['fps'] == 500.0
    assert encoder['frames_run'] == 2 and encoder['mean_ms_when_run'] == 4.0
    assert speed['stages']['decoder']['frames'] == 2
    assert speed['track_call']['mean_ms'] == 15.0 and speed['track_call']['fps'] == (
        pytest.approx(1000 / 15))
    assert speed['seed_call']['mean_ms'] == 50.0
    with pytest.raises(ValueError, match=r'stage_ms\[encoder\] must have shape'):
        SequenceRun('x', np.zeros((n, 4)), np.full(n, 2), np.ones(n), np.ones(n), np.ones(n),
                    {'encoder': np.ones(3)})
