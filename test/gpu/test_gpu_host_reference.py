"""Host references of the glue kernels against closed forms and independent libraries.

These run everywhere (no GPU): they pin down what each kernel must compute, so that
the GPU parity tests only have to show kernel == host reference.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from samurai_tracker.gpu import host_reference as ref
from samurai_tracker.gpu.conventions import (
    crop_window, IMAGENET_MEAN, IMAGENET_STD, yuv_matrix)
from samurai_tracker.records import Box

RNG = np.random.default_rng(7)


def _ramp(h: int, w: int, ax: float, ay: float, c: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return (ax * xx + ay * yy + c).astype(np.float32)


@pytest.mark.parametrize('hw_in,hw_out', [((128, 128), (512, 512)), ((32, 48), (64, 96))])
def test_bilinear_of_linear_ramp_is_exact(hw_in, hw_out):
    # Integer ramp and power-of-two scale: every interpolation step is exact in float32,
    # so the result equals the ramp evaluated at the clamped source coordinate.
    x = _ramp(*hw_in, ax=3.0, ay=-2.0, c=5.0)
    out = ref.bilinear_resize(x[None, None], hw_out)[0, 0]
    sy = (np.arange(hw_out[0]) + 0.5) * hw_in[0] / hw_out[0] - 0.5
    sx = (np.arange(hw_out[1]) + 0.5) * hw_in[1] / hw_out[1] - 0.5
    sy = np.clip(sy, 0, hw_in[0] - 1)
    sx = np.clip(sx, 0, hw_in[1] - 1)
    expected = 3.0 * sx[None, :] - 2.0 * sy[:, None] + 5.0
    np.testing.assert_array_equal(out, expected.astype(np.float32))


@pytest.mark.parametrize('hw_in,hw_out', [((128, 128), (512, 512)), ((37, 53), (100, 61)),
                                          ((256, 256), (64, 64)), ((5, 7), (5, 7))])
def test_bilinear_matches_torch_interpolate(hw_in, hw_out):
    # torch rounds the source coordinate in a different order: allow a few ulp of it
    # times the local gradient (values ~N(0, 1), so well under 1e-5).
    x = RNG.normal(0.0, 1.0, size=(2, 3) + hw_in).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(x), size=hw_out, mode='bilinear',
                             align_corners=False).numpy()
    out = ref.bilinear_resize(x, hw_out)
    assert out.shape == expected.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)


def test_bilinear_rejects_bad_input():
    with pytest.raises(ValueError, match='float32'):
        ref.bilinear_resize(np.zeros((4, 4)), (8, 8))
    with pytest.raises(ValueError, match='positive'):
        ref.bilinear_resize(np.zeros((4, 4), np.float32), (0, 8))


def test_scale_sigmoid_closed_forms():
    x = np.array([0.0, 1e-3, -1e-3, 5.0, -5.0, 100.0, -100.0, 1e4, -1e4], np.float32)
    out = ref.scale_sigmoid(x, 20.0, -10.0)
    assert out[0] == np.float32(0.0)  # sigmoid(0) * 20 - 10
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[5:], [10.0, -10.0, 10.0, -10.0], atol=1e-6)
    expected = 20.0 / (1.0 + np.exp(-np.clip(x.astype(np.float64), -500, 500))) - 10.0
    np.testing.assert_allclose(out, expected, atol=4e-6)
    np.testing.assert_allclose(ref.scale_sigmoid(x, 1.0, 0.0)[0], 0.5)
    # odd symmetry of sigmoid - 0.5
    np.testing.assert_allclose(out[1:5:2] + out[2:5:2], 0.0, atol=2e-6)


def test_threshold_is_strict():
    x = np.array([[-1.0, 0.0, 1e-30, 2.0]], np.float32)
    np.testing.assert_array_equal(ref.threshold_mask(x), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(ref.threshold_mask(x, 1.5), [[0, 0, 0, 1]])


def test_mask_to_box_of_drawn_rectangles():
    for _ in range(20):
        h, w = RNG.integers(8, 200, size=2)
        x0, x1 = np.sort(RNG.integers(0, w, size=2))
        y0, y1 = np.sort(RNG.integers(0, h, size=2))
        m = np.full((h, w), -5.0, np.float32)
        m[y0:y1 + 1, x0:x1 + 1] = 3.0
        assert ref.mask_to_box(m) == (x0, y0, x1, y1)
    empty = np.full((16, 16), -1.0, np.float32)
    assert ref.mask_to_box(empty) is None
    empty[0, 15] = 0.0  # exactly at the threshold is background
    assert ref.mask_to_box(empty) is None
    empty[15, 0] = 0.5
    empty[0, 15] = 0.5
    assert ref.mask_to_box(empty) == (0, 0, 15, 15)


def test_transpose_round_trip_and_layout():
    x = RNG.normal(size=(1, 16, 6, 10)).astype(np.float32)
    bias = RNG.normal(size=16).astype(np.float32)
    tokens = ref.chw_to_tokens(x)
    assert tokens.shape == (60, 1, 16)
    # SAM 2's own reshaping: flatten(2).permute(2, 0, 1)
    expected = torch.from_numpy(x).flatten(2).permute(2, 0, 1).numpy()
    np.testing.assert_array_equal(tokens, expected)
    np.testing.assert_array_equal(ref.tokens_to_chw(tokens, (6, 10)), x)
    np.testing.assert_array_equal(ref.chw_to_tokens(x, bias), expected + bias)
    t = ref.transpose_bias(x[0].reshape(16, 60), bias[:16], 0)
    np.testing.assert_array_equal(t, (x[0].reshape(16, 60) + bias[:, None]).T)
    with pytest.raises(ValueError, match=r'shape \(60,\)'):
        ref.transpose_bias(x[0].reshape(16, 60), bias, 1)


def test_add_bias_broadcasts_last_axis():
    x = RNG.normal(size=(1024, 1, 256)).astype(np.float32)
    b = RNG.normal(size=256).astype(np.float32)
    np.testing.assert_array_equal(ref.add_bias(x, b), x + b[None, None, :])


def _sam2_memory(feats, poss, t_pos, tpos, ptrs, ptr_pos, num_maskmem=7):
    """Build memory the way SAM2Base._prepare_memory_conditioned_features does (torch)."""
    mem, pos = [], []
    for f, p, t in zip(feats, poss, t_pos):
        mem.append(torch.from_numpy(f).flatten(2).permute(2, 0, 1))
        enc = torch.from_numpy(p).flatten(2).permute(2, 0, 1)
        pos.append(enc + torch.from_numpy(tpos)[num_maskmem - t - 1])
    c = ptrs.shape[1]
    dim = tpos.shape[-1]
    obj = torch.from_numpy(ptrs)[:, None, :].reshape(-1, 1, c // dim, dim)
    mem.append(obj.permute(0, 2, 1, 3).flatten(0, 1))
    pos.append(torch.from_numpy(ptr_pos)[:, None, :].repeat_interleave(c // dim, dim=0))
    return torch.cat(mem).numpy(), torch.cat(pos).numpy()


def test_memory_bank_matches_sam2_layout():
    dim, h, w, n_ptr = 64, 8, 8, 4
    feats = [RNG.normal(size=(1, dim, h, w)).astype(np.float32) for _ in range(6)]
    poss = [RNG.normal(size=(1, dim, h, w)).astype(np.float32) for _ in range(6)]
    feats.append(feats[0])  # cold start: the seed frame fills a slot twice
    poss.append(poss[0])
    t_pos = [0, 6, 5, 4, 3, 2, 1]
    tpos = RNG.normal(size=(7, 1, 1, dim)).astype(np.float32)
    ptrs = RNG.normal(size=(n_ptr, 4 * dim)).astype(np.float32)
    ptr_pos = RNG.normal(size=(n_ptr, dim)).astype(np.float32)
    memory, memory_pos = ref.assemble_memory_bank(
        feats, poss, [7 - t - 1 for t in t_pos], tpos, ptrs, ptr_pos)
    assert memory.shape == memory_pos.shape == (7 * h * w + 4 * n_ptr, 1, dim)
    exp_mem, exp_pos = _sam2_memory(feats, poss, t_pos, tpos, ptrs, ptr_pos)
    np.testing.assert_array_equal(memory, exp_mem)
    np.testing.assert_array_equal(memory_pos, exp_pos)
    with pytest.raises(ValueError, match='tpos_index'):
        ref.assemble_memory_bank(feats, poss, [7] * 7, tpos)


def test_obj_ptr_tpos_matches_sam2():
    get_1d_sine_pe = pytest.importorskip('sam2.modeling.sam2_utils').get_1d_sine_pe

    lin = torch.nn.Linear(256, 64)
    rel = np.array([1, 2, 3, 8, 15, -4], np.float32)
    with torch.no_grad():
        expected = lin(get_1d_sine_pe(torch.from_numpy(rel) / 15, dim=256)).numpy()
    out = ref.obj_ptr_tpos_encode(rel, 15, lin.weight.detach().numpy(),
                                  lin.bias.detach().numpy())
    np.testing.assert_allclose(out, expected, atol=2e-6)


def test_crop_identity_and_constant():
    img = RNG.integers(0, 256, size=(24, 40, 3), dtype=np.uint8)
    out = ref.crop_resize_normalize(img, Box(np.array([0.0, 0.0, 40.0, 40.0])), 40)
    assert out.shape == (1, 3, 40, 40) and out.dtype == np.float32
    mean = np.asarray(IMAGENET_MEAN)[:, None, None]
    std = np.asarray(IMAGENET_STD)[:, None, None]
    expected = (img.transpose(2, 0, 1) / 255.0 - mean) / std
    np.testing.assert_allclose(out[0, :, :24], expected, atol=1e-5)
    assert np.all(out[0, :, 24:] == 0.0)  # below the frame: padded with the mean
    # an integer shift with a 1:1 scale is an exact sub-image
    sub = ref.crop_resize_normalize(img, [5.0, 3.0, 21.0, 19.0], 16)
    np.testing.assert_allclose(sub[0], expected[:, 3:19, 5:21], atol=1e-5)
    const = np.full((30, 30, 3), 200, np.uint8)
    out = ref.crop_resize_normalize(const, [2.3, 4.7, 19.1, 28.0], 64)
    np.testing.assert_allclose(out[0], np.broadcast_to((200 / 255.0 - mean) / std,
                                                       (3, 64, 64)), atol=1e-5)


def test_crop_matches_opencv_resize():
    img = RNG.integers(0, 256, size=(90, 160, 3), dtype=np.uint8)
    out = ref.crop_resize_normalize(img, [0.0, 0.0, 160.0, 90.0], 256, mean=(0, 0, 0),
                                    std=(1 / 255.0,) * 3)
    expected = cv2.resize(img.astype(np.float32), (256, 256), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(out[0].transpose(1, 2, 0), expected, atol=2e-3)


def test_nv12_to_rgb_matches_opencv():
    h, w = 48, 64
    yp = RNG.integers(16, 236, size=(h, w), dtype=np.uint8)
    uv = RNG.integers(16, 241, size=(h // 2, w // 2, 2), dtype=np.uint8)
    rgb = ref.nv12_to_rgb(yp, uv, 'bt601')
    expected = cv2.cvtColor(np.concatenate([yp, uv.reshape(h // 2, w)]),
                            cv2.COLOR_YUV2RGB_NV12).astype(np.float32)
    assert rgb.shape == (h, w, 3)
    assert np.abs(rgb - expected).max() <= 1.5  # OpenCV rounds to integers
    gray = ref.nv12_to_rgb(np.full((4, 4), 126, np.uint8), np.full((2, 2, 2), 128, np.uint8))
    np.testing.assert_allclose(gray, (126 - 16) * 255 / 219.0, rtol=1e-6)
    crop = ref.crop_resize_normalize_nv12(yp, uv, [0, 0, w, h], 32)
    np.testing.assert_array_equal(crop, ref.crop_resize_normalize(rgb, [0, 0, w, h], 32))


def test_conventions_validate():
    assert crop_window([1, 2, 11, 22]) == (1.0, 2.0, 10.0, 20.0)
    with pytest.raises(ValueError, match='x2 > x1'):
        crop_window([5, 0, 5, 10])
    with pytest.raises(ValueError, match='bt709'):
        yuv_matrix('rec2020')
    m = yuv_matrix('bt709')
    assert m.ky == pytest.approx(1.164, abs=1e-3) and m.bu == pytest.approx(2.112, abs=1e-3)


def test_device_view_contiguity_ignores_unit_axes():
    from samurai_tracker.gpu.device_arrays import DeviceView

    f32 = np.dtype(np.float32)
    # torch keeps arbitrary strides on length-1 axes of a contiguous tensor
    assert DeviceView(0, (1, 1, 512, 512), f32, (262144, 65536, 2048, 4), 0).contiguous
    assert not DeviceView(0, (2, 512), f32, (4, 8), 0).contiguous
    assert not DeviceView(0, (4, 512), f32, (4096, 4), 0).contiguous
