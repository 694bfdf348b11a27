"""Glue kernels on a CUDA device against their host references (skipped without a GPU).

On a machine with a CUDA device these tests need CuPy (or pycuda) and fail with the
install hint when neither is there; without a device they skip.
"""

from __future__ import annotations

import numpy as np
import pytest

from samurai_tracker.gpu import cuda_device_count, host_reference as ref
from samurai_tracker.gpu.device_arrays import view

HAS_GPU = cuda_device_count() > 0
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason='no CUDA device on this machine: the '
                               'glue-kernel parity tests need one')


def test_view_rejects_host_arrays():
    with pytest.raises(TypeError, match='CUDA device array'):
        view(np.zeros(3, np.float32), 'frame')


def _torch_cuda() -> bool:
    try:
        import torch
        return bool(torch.cuda.is_available())
    except ImportError:
        return False


@needs_gpu
@pytest.mark.parametrize('family', ['cupy', 'torch'])
def test_kernel_parity(family):
    from samurai_tracker.gpu import GlueOps
    from samurai_tracker.gpu.parity import run_parity

    if family == 'torch' and not _torch_cuda():
        pytest.skip('torch has no CUDA here')
    if family == 'cupy':
        pytest.importorskip('cupy')
    results = run_parity(GlueOps('cupy'), family, trials=2, seed=11)
    failed = [r.as_dict() for r in results if not r.passed]
    assert not failed, failed


@needs_gpu
def test_torch_graph_capture_replays_glue():
    torch = pytest.importorskip('torch')
    if not _torch_cuda():
        pytest.skip('torch has no CUDA here')
    from samurai_tracker.gpu import GlueOps

    ops = GlueOps('cupy')
    rng = np.random.default_rng(3)
    frame = torch.empty((720, 1280, 3), dtype=torch.uint8, device='cuda')
    logits = torch.empty((1, 1, 128, 128), dtype=torch.float32, device='cuda')
    crop = [100.5, 50.25, 612.5, 562.25]
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up (allocations) outside the capture
        ops.crop_resize_normalize_rgb(frame, crop, 512)
        ops.mask_to_box(ops.bilinear_resize(logits, (512, 512))[0, 0])
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        enc_in = ops.crop_resize_normalize_rgb(frame, crop, 512)
        hi = ops.bilinear_resize(logits, (512, 512))
        box = ops.mask_to_box(hi[0, 0])
    for _ in range(2):
        img = rng.integers(0, 256, size=(720, 1280, 3), dtype=np.uint8)
        low = rng.normal(-2.0, 2.0, size=(1, 1, 128, 128)).astype(np.float32)
        frame.copy_(torch.from_numpy(img))
        logits.copy_(torch.from_numpy(low))
        graph.replay()
        torch.cuda.synchronize()
        np.testing.assert_array_equal(enc_in.cpu().numpy(),
                                      ref.crop_resize_normalize(img, crop, 512))
        hi_ref = ref.bilinear_resize(low, (512, 512))
        np.testing.assert_array_equal(hi.cpu().numpy(), hi_ref)
        assert tuple(box.cpu().numpy()) == ref.mask_to_box(hi_ref[0, 0])


@needs_gpu
def test_bad_inputs_are_rejected_before_launch():
    cupy = pytest.importorskip('cupy')
    from samurai_tracker.gpu import GlueOps

    ops = GlueOps('cupy')
    with pytest.raises(ValueError, match=r'shape \(H, W, 3\)'):
        ops.crop_resize_normalize_rgb(cupy.zeros((8, 8, 4), cupy.uint8), [0, 0, 8, 8], 16)
    with pytest.raises(ValueError, match='float32'):
        ops.bilinear_resize(cupy.zeros((8, 8), cupy.float64), (16, 16))
    with pytest.raises(ValueError, match='C-contiguous'):
        ops.scale_sigmoid(cupy.zeros((8, 8), cupy.float32).T[:, ::2])
    with pytest.raises(ValueError, match='tpos_index'):
        slot = cupy.zeros((1, 64, 4, 4), cupy.float32)
        ops.assemble_memory_bank([slot], [slot], [7], cupy.zeros((7, 64), cupy.float32))


@needs_gpu
def test_cuda_glue_ops_match_torch_ops():
    torch = pytest.importorskip('torch')
    if not _torch_cuda():
        pytest.skip('torch has no CUDA here')
    from samurai_tracker.gpu.glue_array_ops import CudaGlueOps
    from samurai_tracker.tracker.array_ops import TorchOps

    ours, theirs = CudaGlueOps('cuda'), TorchOps('cuda')
    x = torch.randn(1, 256, 32, 32, device='cuda')
    assert torch.equal(ours.tokens(x), theirs.tokens(x))
    t = theirs.tokens(x)
    assert torch.equal(ours.untokens(t, 32, 32), x)
    logits = torch.randn(1, 4, 128, 128, device='cuda') * 4
    up_ours, up_theirs = ours.upsample(logits[:, 1:2], 512), theirs.upsample(logits[:, 1:2], 512)
    assert (up_ours - up_theirs).abs().max().item() <= 1e-5 * logits.abs().max().item()
    np.testing.assert_array_equal(ours.mask_box(up_theirs[0, 0]),
                                  theirs.mask_box(up_theirs[0, 0]))
    assert ours.mask_box(torch.full((64, 64), -1.0, device='cuda')) is None
    img = np.random.default_rng(0).integers(0, 256, size=(720, 1280, 3), dtype=np.uint8)
    window = (400, 100, 300, 300)
    want = ref.crop_resize_normalize(img, [400, 100, 700, 400], 512)
    for frame in (img, torch.from_numpy(img).cuda()):
        got = ours.preprocess(frame, window, 512, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
        np.testing.assert_array_equal(got.cpu().numpy(), want)


@needs_gpu
def test_device_frame_glue_matches_frame_glue():
    torch = pytest.importorskip('torch')
    pytest.importorskip('sam2')
    if not _torch_cuda():
        pytest.skip('torch has no CUDA here')
    from samurai_tracker.engines.constants import gather_constants, SamuraiConstants
    from samurai_tracker.engines.sam2_model import build_sam2
    from samurai_tracker.gpu.device_glue import DeviceFrameGlue
    from samurai_tracker.gpu.glue_array_ops import CudaGlueOps
    from samurai_tracker.tracker.glue import FrameGlue

    model, _ = build_sam2('tiny', 512, seed=0)
    constants = SamuraiConstants(*gather_constants(model, 512))
    ops = CudaGlueOps('cuda')
    ours, theirs = DeviceFrameGlue(constants, ops), FrameGlue(constants, ops)
    pos = torch.randn(1, 64, 32, 32, device='cuda')
    ours.remember_position(pos)
    theirs.remember_position(pos)
    feats = [torch.randn(1, 64, 32, 32, device='cuda') for _ in range(7)]
    ptrs = [torch.randn(1, 256, device='cuda') for _ in range(16)]
    # full bank, then a smaller one (stale slots must be cleared), then a cold start
    for n_frames, n_ptrs in ((7, 16), (3, 5), (1, 1)):
        frames = [(t, feats[t]) for t in range(7 - n_frames, 7)]
        frames[0] = (0, feats[0])
        pointers = [(t + 1, ptrs[t]) for t in range(n_ptrs)]
        got = ours.memory_inputs(frames, pointers)
        want = theirs.memory_inputs(frames, pointers)
        assert torch.equal(got[0], want[0])
        torch.testing.assert_close(got[1], want[1], rtol=0, atol=2e-5)
        assert torch.equal(got[2], want[2])
