"""The fused tracking step (eager on the CPU) against the generic loop and the host rules.

On a GPU the same two programs are replayed as CUDA graphs; ``test/gpu`` compares the
replay with these eager programs.
"""

from __future__ import annotations

import numpy as np
import pytest

from samurai_tracker.records import Box
from samurai_tracker.tracker import (ModelSetError, open_models, SamuraiTracker, TrackerConfig,
                                     TrackerInputError)
from samurai_tracker.tracker.array_ops import NumpyOps
from samurai_tracker.tracker.selection import choose_candidate, SelectionState

torch = pytest.importorskip('torch')


@pytest.fixture(scope='module')
def cpu_torch_models(sam2_tiny_models):
    return open_models(str(sam2_tiny_models), 'torch', device='cpu')


def _blob_masks(rng: np.random.Generator, count: int, side: int) -> np.ndarray:
    """Logit maps with one random rectangle of positive values each (some empty)."""
    logits = rng.uniform(-5.0, -0.1, size=(count, side, side)).astype(np.float32)
    for k in range(count):
        if rng.random() < 0.15:
            continue  # an empty candidate
        x0, y0 = rng.integers(0, side - 2, size=2)
        x1, y1 = x0 + rng.integers(1, side - x0), y0 + rng.integers(1, side - y0)
        logits[k, y0:y1, x0:x1] = rng.uniform(0.1, 5.0, size=(y1 - y0, x1 - x0))
    return logits


def test_device_choice_matches_the_host_rule():
    from samurai_tracker.tracker.fused_step import score_candidates

    rng = np.random.default_rng(7)
    ops = NumpyOps()
    side = 48
    for trial in range(60):
        logits = _blob_masks(rng, 3, side)
        scores = rng.uniform(0.0, 1.0, size=3).astype(np.float32)
        prior = np.sort(rng.uniform(-5, side + 5, size=(2, 2)), axis=0).T.reshape(-1)
        prior = prior[[0, 2, 1, 3]].astype(np.float32)  # x1, y1, x2, y2
        clip = np.array([rng.uniform(-4, 6), rng.uniform(-4, 6), rng.uniform(30, 52),
                         rng.uniform(30, 52)], np.float32)
        weight = float(rng.choice([0.0, 0.25, 1.0]))
        extents, nonempty, kf_iou, index = score_candidates(
            torch.from_numpy(logits), torch.from_numpy(scores), torch.from_numpy(prior),
            torch.from_numpy(clip), torch.tensor([weight]))
        expected_iou = []
        for k in range(3):
            extent = ops.mask_box(logits[k])
            assert bool(nonempty[k]) == (extent is not None)
            if extent is None:
                expected_iou.append(0.0)
                continue
            assert np.array_equal(extents[k].numpy(), extent)
            box = Box(np.clip(extent, clip[[0, 1, 0, 1]], clip[[2, 3, 2, 3]]))
            usable = box.width > 0 and box.height > 0
            expected_iou.append(box.iou(Box(prior.astype(np.float64))) if usable else 0.0)
        assert np.allclose(kf_iou.numpy(), expected_iou, atol=1e-5), trial
        weighted = weight * np.asarray(expected_iou) + (1 - weight) * scores.astype(np.float64)
        best = weighted.max()
        assert weighted[int(index)] >= best - 1e-5, trial  # the arg-max up to float32 ties


def test_fused_tracker_reproduces_the_generic_loop(cpu_torch_models):
    from samurai_tracker.synthetic.clip import SyntheticClip

    config = TrackerConfig(crop_size=512, stable_frames_threshold=2)
    generic = SamuraiTracker(cpu_torch_models, config, fused=False)
    fused = SamuraiTracker(cpu_torch_models, config, fused=True)
    assert generic.fused is None and fused.fused is not None and not fused.fused.graphs
    clip = SyntheticClip(num_frames=8, width=1280, height=720, object_size=(160, 120), seed=4)
    generic.seed(clip.frame(0), clip.truth(0))
    fused.seed(clip.frame(0), clip.truth(0))
    regimes = set()
    for i in range(1, clip.num_frames):
        frame = clip.frame(i)
        a, b = generic.track(frame, stamp_ns=i), fused.track(frame, stamp_ns=i)
        ca, cb = generic.last_choice, fused.last_choice
        regimes.add(cb.regime)
        expected = (a.state, a.source, ca.index, ca.regime)
        assert expected == (b.state, b.source, cb.index, cb.regime), i
        assert a.box.iou(b.box) >= 0.99 and abs(a.confidence - b.confidence) < 1e-5
        assert (ca.kf_score is None) == (cb.kf_score is None)
        if ca.kf_score is not None:
            assert abs(ca.kf_score - cb.kf_score) < 1e-3
        step = generic.step - 1
        ea, eb = generic.bank._entries[step], fused.bank._entries[step]
        assert np.allclose(np.asarray(ea.maskmem_feat), eb.maskmem_feat.numpy(), atol=1e-4)
        assert np.allclose(np.asarray(ea.obj_ptr), eb.obj_ptr.numpy(), atol=1e-5)
        assert (ea.iou, ea.obj_score) == pytest.approx((eb.iou, eb.obj_score), abs=1e-5)
        assert np.abs(generic.last_mask_logits - fused.last_mask_logits).max() < 1e-3
        assert fused.timings['fused_step'] > 0 and fused.timings['image_encoder'] == 0
    assert generic.bank.steps == fused.bank.steps
    assert regimes >= {1, 2, 3} or regimes >= {2, 3}


def test_reseed_starts_a_new_ring(cpu_torch_models):
    from samurai_tracker.synthetic.clip import SyntheticClip

    tracker = SamuraiTracker(cpu_torch_models, TrackerConfig(crop_size=512), fused=True)
    clip = SyntheticClip(num_frames=4, width=640, height=360, object_size=(80, 60), seed=2)
    with pytest.raises(RuntimeError, match='before store_conditioning'):
        tracker.fused.run(np.zeros((1, 3, 512, 512), np.float32), [(0, 0)], [], 1, [],
                          np.zeros(4), np.zeros(4), 0.0, -1.0)
    tracker.seed(clip.frame(0), clip.truth(0))
    tracker.track(clip.frame(1))
    first = tracker.track(clip.frame(2))
    again = tracker.seed(clip.frame(2), clip.truth(2))
    assert again.track_id == first.track_id + 1 and tracker.bank.steps == []
    after = tracker.track(clip.frame(3))
    assert after.box is not None and tracker.bank.steps == [1]


def test_fused_step_refuses_backends_other_than_torch(sam2_tiny_models):
    models = open_models(str(sam2_tiny_models), 'onnxruntime')
    with pytest.raises(ModelSetError, match='needs the torch backend'):
        SamuraiTracker(models, fused=True)
    assert SamuraiTracker(models).fused is None  # the default picks it only for torch on CUDA


class _DeviceFrame:
    """A frame that presents itself as GPU memory (as a CuPy array or CUDA tensor does)."""

    def __init__(self, shape, typestr='|u1'):
        self.__cuda_array_interface__ = {'shape': shape, 'typestr': typestr,
                                         'data': (0, False), 'version': 3}


def test_device_frames_need_a_gpu_runtime(cpu_torch_models):
    from samurai_tracker.tracker.inputs import check_frame

    with pytest.raises(TrackerInputError, match='GPU array but this tracker runs on the CPU'):
        check_frame(_DeviceFrame((720, 1280, 3)), 16)
    assert check_frame(_DeviceFrame((720, 1280, 3)), 16, device_ok=True) == (1280, 720)
    with pytest.raises(TrackerInputError, match=r'\(H, W, 3\) uint8'):
        check_frame(_DeviceFrame((720, 1280, 3), '<f4'), 16, device_ok=True)
    with pytest.raises(TrackerInputError, match=r'\(H, W, 3\) uint8'):
        check_frame(_DeviceFrame((720, 1280)), 16, device_ok=True)
    tracker = SamuraiTracker(cpu_torch_models, TrackerConfig(crop_size=512))
    with pytest.raises(TrackerInputError, match='GPU array'):
        tracker.seed(_DeviceFrame((720, 1280, 3)), Box(np.array([10.0, 10, 50, 50])))


def test_choose_candidate_takes_the_device_choice():
    state = SelectionState()
    boxes = [Box(np.array([0.0, 0, 10, 10])), Box(np.array([5.0, 5, 20, 20]))]
    host = choose_candidate(state, [0.9, 0.5], lambda i: boxes[i], stable_frames_threshold=15,
                            stable_ious_threshold=0.3, kf_score_weight=0.25)
    device = choose_candidate(state, [0.9, 0.5], lambda i: boxes[i],
                              stable_frames_threshold=15, stable_ious_threshold=0.3,
                              kf_score_weight=0.25, index=1)
    assert host.index == 0 and device.index == 1 and device.box is boxes[1]
    with pytest.raises(ValueError, match=r'index must be in \[0, 2\)'):
        choose_candidate(state, [0.9, 0.5], lambda i: boxes[i], stable_frames_threshold=15,
                         stable_ious_threshold=0.3, kf_score_weight=0.25, index=2)
