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
