"""The runtime on the exported random SAM 2.1 tiny models: bad input, max_kf, states."""

import os
import shutil

import numpy as np
import pytest

from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, TrackState
from samurai_tracker.synthetic import SyntheticClip
from samurai_tracker.tracker import (kalman, ModelSetError, open_models, SamuraiModels,
                                     SamuraiTracker, STAGES, TrackerConfig, TrackerInputError)

CLIP = SyntheticClip(num_frames=40, width=320, height=240, object_size=(48, 36), seed=5)


@pytest.fixture(scope='module')
def models(sam2_tiny_models):
    """The five ONNX Runtime sessions, loaded once for this module."""
    return open_models(sam2_tiny_models, 'onnxruntime')


def make(models, **overrides):
    return SamuraiTracker(models, TrackerConfig(crop_size=models.crop).with_overrides(**overrides))


class ScriptedDecoder:
    """The real mask decoder whose object score is pushed down on chosen calls.

    This scripts an occlusion on a random model, as a negative score bias would.
    """

    def __init__(self, backend, hidden_calls):
        self.backend = backend
        self.hidden_calls = set(hidden_calls)
        self.calls = 0
        self.device, self.inputs, self.outputs = backend.device, backend.inputs, backend.outputs

    def run(self, feeds):
        out = dict(self.backend.run(feeds))
        if self.calls in self.hidden_calls:
            out['object_score_logits'] = out['object_score_logits'] - 30.0
        self.calls += 1
        return out


def test_idle_before_seed_and_bad_input_leaves_state_intact(models):
    tracker, twin = make(models), make(models)
    idle = tracker.track(CLIP.frame(0))
    assert idle.state is TrackState.IDLE and idle.box is None and idle.track_id == 0
    tracker.seed(CLIP.frame(0), CLIP.truth(0), 0)
    twin.seed(CLIP.frame(0), CLIP.truth(0), 0)
    frame = CLIP.frame(1)
    bad_frames = [np.zeros((0, 0, 3), np.uint8), np.zeros((1, 1, 3), np.uint8),
                  frame[:, :, 0], frame.astype(np.float32), frame.tolist(),
                  np.zeros((480, 640, 3), np.uint8), frame[:, :, :2]]
    for bad in bad_frames:
        with pytest.raises(TrackerInputError):
            tracker.track(bad)
    with pytest.raises(TrackerInputError, match='grayscale'):
        tracker.track(frame[:, :, 0])
    with pytest.raises(TrackerInputError, match='stamp_ns'):
        tracker.track(frame, stamp_ns=-5)
    for box in ([np.nan, 1, 10, 10], [400, 300, 500, 400], Box.from_xyxy(5, 5, 5, 30),
                [10, 10, 5, 5], 'box'):
        with pytest.raises(TrackerInputError):
            tracker.seed(frame, box)
    with pytest.raises(TrackerInputError, match='uint8'):
        tracker.seed(frame.astype(np.float64), CLIP.truth(1))
    assert tracker.track_id == twin.track_id == 1
    for index in (1, 2):
        got, want = tracker.track(CLIP.frame(index)), twin.track(CLIP.frame(index))
        assert (got.state, got.source, got.confidence, got.track_id) == (
            want.state, want.source, want.confidence, want.track_id)
        np.testing.assert_array_equal(got.box.xyxy, want.box.xyxy)
        np.testing.assert_array_equal(tracker.last_mask, twin.last_mask)


def test_seed_reports_and_reseed_replaces_the_memory(models):
    tracker = make(models)
    first = tracker.seed(CLIP.frame(0), CLIP.truth(0), 0)
    assert (first.state, first.source, first.track_id) == (TrackState.TRACKED,
                                                           BoxSource.FULL_INFERENCE, 1)
    assert first.box is not None and 0.0 <= first.confidence <= 1.0
    mask = tracker.last_mask
    assert mask.shape == (CLIP.height, CLIP.width) and mask.dtype == bool
    for index in (1, 2, 3):
        tracker.track(CLIP.frame(index))
    assert len(tracker.bank) == 3
    again = tracker.seed(CLIP.frame(4), CLIP.truth(4))
    assert (again.state, again.track_id) == (TrackState.REACQUIRED, 2)
    assert len(tracker.bank) == 0 and tracker.step == 1
    assert tracker.selection.kf is None
    assert set(tracker.timings) == set(STAGES) and tracker.timings['image_encoder'] > 0
    tracker.reset()
    assert not tracker.is_seeded and tracker.track(CLIP.frame(5)).state is TrackState.IDLE
    assert tracker.seed(CLIP.frame(5), CLIP.truth(5)).track_id == 3


def test_seed_from_detections_uses_the_policy(models):
    tracker = make(models)
    truth = CLIP.truth(0).xyxy
    dets = Detections(np.array([[0, 0, 30, 30], truth, [200, 150, 260, 200]], float),
                      np.array([0.95, 0.9, 0.99]), np.array([2, 0, 2]))
    assert tracker.seed_from_detections(CLIP.frame(0), dets, target_class=7) is None
    assert not tracker.is_seeded
    track = tracker.seed_from_detections(CLIP.frame(0), dets, target_class=0,
                                         policy=SeedPolicy.MOST_CONFIDENT)
    assert track is not None and tracker.track_id == 1
    np.testing.assert_allclose(tracker._last_box.xyxy, truth)


def test_max_kf_coasts_on_the_kalman_prediction(models):
    tracker = make(models, max_kf=2, coast_min_confidence=0.5)
    tracker.seed(CLIP.frame(0), CLIP.truth(0))
    sources = []
    for index in range(1, 8):
        before = tracker.selection.kf
        track = tracker.track(CLIP.frame(index), CLIP.stamp_ns(index))
        sources.append(track.source)
        if track.source is BoxSource.PREDICTED:
            expected = kalman.state_box(kalman.predict(before)).clip(CLIP.width, CLIP.height)
            np.testing.assert_allclose(track.box.xyxy, expected.xyxy)
            assert tracker.last_mask is None and tracker.timings['image_encoder'] == 0.0
            assert track.state is TrackState.TRACKED
    full, pred = BoxSource.FULL_INFERENCE, BoxSource.PREDICTED
    # frame 1 starts the Kalman filter (nothing to coast on before it)
    assert sources == [full, pred, pred, full, pred, pred, full]
    assert tracker.step == 4  # seed + three full inferences
    low = make(models, max_kf=2, coast_min_confidence=1.0)  # never confident enough
    low.seed(CLIP.frame(0), CLIP.truth(0))
    assert {low.track(CLIP.frame(i)).source for i in range(1, 4)} == {full}


def test_scripted_occlusion_goes_occluded_lost_reacquired_tracked(models):
    hidden = {2, 3, 4, 5}  # decoder calls: 0 = seed, 1 = frame 1, ...
    decoder = ScriptedDecoder(models.mask_decoder, hidden)
    scripted = SamuraiModels(models.image_encoder, models.prompt_encoder, decoder,
                             models.memory_encoder, models.memory_attention, models.constants)
    tracker = make(scripted, lost_after_frames=3, reacquire_frames=2)
    tracker.seed(CLIP.frame(0), CLIP.truth(0))
    states, sources, windows = [], [], []
    for index in range(1, 9):
        track = tracker.track(CLIP.frame(index))
        states.append(track.state)
        sources.append(track.source)
        windows.append(tracker.last_window)
    T, O, L, R = (TrackState.TRACKED, TrackState.OCCLUDED, TrackState.LOST,
                  TrackState.REACQUIRED)
    assert states == [T, O, O, L, L, R, T, T]
    assert sources[1:5] == [BoxSource.PREDICTED] * 4
    # absent frames carry the no-object pointer, exactly (fixed_no_obj_ptr)
    no_obj_ptr = models.constants['no_obj_ptr']
    for step in (2, 3, 4, 5):
        assert tracker.bank._entries[step].obj_score < 0
        np.testing.assert_allclose(tracker.bank._entries[step].obj_ptr, no_obj_ptr, atol=1e-6)
    # while LOST the encoder looks at the whole frame (square view centred on it)
    lost_window = windows[4]
    assert lost_window.width == max(CLIP.width, CLIP.height)
    assert windows[0].width < lost_window.width


def test_torch_ops_give_the_same_track_as_numpy(sam2_tiny_models, models):
    """The device-resident path (TorchOps + torch tensors between models) on the CPU."""
    torch = pytest.importorskip('torch')
    from samurai_tracker.tracker.array_ops import TorchOps
    from samurai_tracker.tracker.glue import FrameGlue

    class TensorOut:
        """An ONNX Runtime model that takes and returns torch tensors (as on a GPU)."""

        def __init__(self, backend):
            self.backend = backend
            self.device, self.inputs, self.outputs = 'cpu', backend.inputs, backend.outputs

        def run(self, feeds):
            host = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in feeds.items()}
            return {k: torch.from_numpy(v) for k, v in self.backend.run(host).items()}

    wrapped = SamuraiModels(*(TensorOut(getattr(models, n)) for n in (
        'image_encoder', 'prompt_encoder', 'mask_decoder', 'memory_encoder',
        'memory_attention')), models.constants)
    reference, tracker = make(models), make(wrapped)
    tracker.ops = TorchOps('cpu')
    tracker.glue = FrameGlue(models.constants, tracker.ops)
    for t in (tracker, reference):
        t.seed(CLIP.frame(0), CLIP.truth(0))
    for index in (1, 2, 3):
        got, want = tracker.track(CLIP.frame(index)), reference.track(CLIP.frame(index))
        assert got.state == want.state and got.source == want.source
        assert got.box.iou(want.box) > 0.98
        agree = (tracker.last_mask == reference.last_mask).mean()
        assert agree > 0.97  # torch vs OpenCV resampling of the crop differ slightly


def test_model_directory_errors_name_the_file_and_the_command(sam2_tiny_models, tmp_path,
                                                              models):
    partial = tmp_path / 'partial'
    partial.mkdir()
    for name in os.listdir(sam2_tiny_models):
        if name != 'memory_encoder.onnx':
            os.symlink(os.path.join(sam2_tiny_models, name), partial / name)
    with pytest.raises(ModelSetError, match=r'memory_encoder\.onnx.*samurai-export'):
        open_models(str(partial))
    with pytest.raises(ModelSetError, match=r'image_encoder\.engine.*samurai-build-engines'):
        open_models(sam2_tiny_models, 'tensorrt')
    with pytest.raises(ModelSetError, match='unknown backend'):
        open_models(sam2_tiny_models, 'tflite')
    with pytest.raises(ModelSetError, match='does not exist'):
        open_models(str(tmp_path / 'nowhere'))
    no_constants = tmp_path / 'no_constants'
    shutil.copytree(partial, no_constants, symlinks=True)
    os.symlink(os.path.join(sam2_tiny_models, 'memory_encoder.onnx'),
               no_constants / 'memory_encoder.onnx')
    os.remove(no_constants / 'samurai_constants.npz')
    with pytest.raises(ModelSetError, match='samurai_constants.npz'):
        open_models(str(no_constants))
    with pytest.raises(TrackerInputError, match='crop_size'):
        SamuraiTracker(models, TrackerConfig(crop_size=1024))
