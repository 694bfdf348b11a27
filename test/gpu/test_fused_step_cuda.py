"""The fused tracking step replayed as CUDA graphs against the same programs run eagerly.

Skipped without a CUDA device (the CI has none); run on a GPU machine with
``pytest test/gpu``. The CPU tests in ``test/tracker/test_fused_step.py`` check the
programs against the generic model-by-model loop.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='no CUDA device: the CUDA-graph tests need one')


@pytest.fixture(scope='module')
def cuda_models():
    pytest.importorskip('sam2')
    from samurai_tracker.backends.torch_backend import TorchBackend
    from samurai_tracker.engines.constants import gather_constants, SamuraiConstants
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2
    from samurai_tracker.engines.wrappers import build_wrappers
    from samurai_tracker.tracker.models import SamuraiModels

    model, _ = build_sam2('tiny', 512, seed=0, offsets=BiasOffsets(10.0, 4.0))
    arrays, scalars = gather_constants(model, 512)
    backends = {name: TorchBackend(name, module, 512, device='cuda', precision='fp32')
                for name, module in build_wrappers(model, 512).items()}
    return SamuraiModels(constants=SamuraiConstants(arrays, scalars), backend='torch',
                         **backends)


def _clip():
    from samurai_tracker.synthetic.clip import SyntheticClip

    return SyntheticClip(num_frames=24, width=1280, height=720, object_size=(160, 120),
                         seed=5)


def test_graph_replay_matches_eager_programs_over_a_full_bank(cuda_models):
    from samurai_tracker.tracker.config import TrackerConfig
    from samurai_tracker.tracker.fused_step import FusedTrackingStep
    from samurai_tracker.tracker.runtime import SamuraiTracker

    config = TrackerConfig(crop_size=512, stable_frames_threshold=3)
    graphed = SamuraiTracker(cuda_models, config)
    assert graphed.fused is not None and graphed.fused.graphs
    eager = SamuraiTracker(cuda_models, config)
    eager.fused = FusedTrackingStep(cuda_models, graphs=False)
    clip = _clip()
    frames = [torch.from_numpy(clip.frame(i)).cuda() for i in range(clip.num_frames)]
    graphed.seed(frames[0], clip.truth(0))
    eager.seed(frames[0], clip.truth(0))
    for i in range(1, clip.num_frames):  # > 16 steps: both the masked and the full bank
        a, b = graphed.track(frames[i]), eager.track(frames[i])
        assert a.state == b.state and graphed.last_choice.index == eager.last_choice.index
        assert np.allclose(a.box.xyxy, b.box.xyxy, atol=1e-3)
        assert abs(a.confidence - b.confidence) < 1e-4
        step = graphed.step - 1
        feat_a = graphed.bank._entries[step].maskmem_feat
        feat_b = eager.bank._entries[step].maskmem_feat
        assert torch.allclose(feat_a, feat_b, atol=1e-3, rtol=1e-3)
    assert graphed.fused.captures == 2  # one pair per bank mask mode, captured up front


def test_fused_tracker_follows_the_generic_loop_on_cuda(cuda_models):
    from samurai_tracker.tracker.config import TrackerConfig
    from samurai_tracker.tracker.runtime import SamuraiTracker

    config = TrackerConfig(crop_size=512, stable_frames_threshold=3)
    fused = SamuraiTracker(cuda_models, config)
    generic = SamuraiTracker(cuda_models, config, fused=False)
    clip = _clip()
    fused.seed(clip.frame(0), clip.truth(0))
    generic.seed(clip.frame(0), clip.truth(0))
    for i in range(1, 20):
        frame = clip.frame(i)
        a, b = fused.track(frame), generic.track(frame)
        assert a.state == b.state and a.source == b.source
        assert fused.last_choice.index == generic.last_choice.index
        assert a.box.iou(b.box) >= 0.99, (i, a.box, b.box)
    assert fused.timings['fused_step'] > 0 and fused.timings['image_encoder'] == 0
