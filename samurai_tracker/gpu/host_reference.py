"""Numpy host references of the CUDA glue kernels (float32, batch 1).

Each function computes, on the CPU, the function its kernel in ``glue_kernels.cu``
computes, written from the definition (vectorised numpy, not a port of the kernel
loops). They serve three purposes: the parity oracle for the kernels, a readable
specification of every shape and convention, and a CPU fallback for the runtime.

Conventions shared with the kernels:

- pixel ``(x, y)`` has its centre at ``(x, y)``; resampling follows
  ``align_corners=False``: ``src = (dst + 0.5) * (in / out) - 0.5``, clamped to the edge;
- arithmetic is float32 operation by operation, in the same order as the kernel, so that
  most results agree bit for bit with a kernel compiled without fused multiply-add.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.gpu.conventions import (
    CropLike, crop_window, IMAGENET_MEAN, IMAGENET_STD, YuvMatrix, yuv_matrix)

__all__ = [
    'add_bias',
    'assemble_memory_bank',
    'bilinear_resize',
    'chw_to_tokens',
    'crop_resize_normalize',
    'crop_resize_normalize_nv12',
    'mask_to_box',
    'nv12_to_rgb',
    'obj_ptr_tpos_encode',
    'scale_sigmoid',
    'threshold_mask',
    'tokens_to_chw',
    'transpose_bias',
]

F32 = np.float32
FloatArray = npt.NDArray[np.float32]
ByteArray = npt.NDArray[np.uint8]


def _f32(x: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(x)
    if array.dtype != np.float32:
        raise ValueError(f'{name} must be float32, got {array.dtype}')
    return array


def _lerp(a: FloatArray, b: FloatArray, w: FloatArray) -> FloatArray:
    """Interpolate ``a + (b - a) * w`` in float32 (the kernels' form)."""
    return (a + (b - a) * w).astype(F32)


def _axis_samples(n_out: int, origin: float, extent: float,
                  n_in: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source indices, weights and inside-flags of one crop axis.

    Returns ``(i0, i1, weight, inside)``, each of length ``n_out``: the two neighbours,
    the float32 weight of ``i1`` and whether the sample centre lies in the frame.
    """
    scale = F32(extent) / F32(n_out)
    s = (F32(origin) + (np.arange(n_out, dtype=F32) + F32(0.5)) * scale) - F32(0.5)
    inside = (s >= F32(-0.5)) & (s <= F32(n_in) - F32(0.5))
    f = np.clip(s, F32(0.0), F32(n_in - 1)).astype(F32)
    i0 = np.floor(f).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (f - i0.astype(F32)).astype(F32), inside


def crop_resize_normalize(rgb: npt.ArrayLike, crop: CropLike, size: int,
                          mean: Sequence[float] = IMAGENET_MEAN,
                          std: Sequence[float] = IMAGENET_STD,
                          pad: float = 0.0) -> FloatArray:
    """Cut a crop out of an RGB frame, resize it bilinearly and normalise it.

    Parameters
    ----------
    rgb : array, shape (H, W, 3), uint8 or float32
        The full frame, values in [0, 255], channels in R, G, B order.
    crop : Box or sequence of 4 float
        ``[x1, y1, x2, y2]`` in full-frame pixels; the window may leave the frame.
    size : int
        Side S of the square encoder input (512 in this project, 1024 in SAM 2).
    mean, std : sequence of 3 float
        Normalisation on values scaled to [0, 1] (SAM 2: ImageNet's).
    pad : float
        Output value (normalised units) of samples whose centre lies outside the frame;
        0 is the mean colour.

    Returns
    -------
    numpy.ndarray, shape (1, 3, S, S), float32
        ``(v / 255 - mean) / std`` of the bilinear sample ``v``, the encoder's input.

    """
    frame = np.asarray(rgb)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'rgb must have shape (H, W, 3), got {frame.shape}')
    if size < 1:
        raise ValueError(f'size must be >= 1, got {size}')
    h, w = frame.shape[:2]
    x, y, cw, ch = crop_window(crop)
    img = frame.astype(F32)
    x0, x1, wx, in_x = _axis_samples(size, x, cw, w)
    y0, y1, wy, in_y = _axis_samples(size, y, ch, h)
    a = img[y0[:, None], x0[None, :]]
    b = img[y0[:, None], x1[None, :]]
    c = img[y1[:, None], x0[None, :]]
    d = img[y1[:, None], x1[None, :]]
    wxb = wx[None, :, None]
    top = _lerp(a, b, wxb)
    bot = _lerp(c, d, wxb)
    v = _lerp(top, bot, wy[:, None, None])
    mean32 = np.asarray(mean, dtype=F32)
    istd32 = (F32(1.0) / np.asarray(std, dtype=F32)).astype(F32)
    out = ((v * (F32(1.0) / F32(255.0)) - mean32) * istd32).astype(F32)
    inside = in_y[:, None] & in_x[None, :]
    out[~inside] = F32(pad)
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None])


def nv12_to_rgb(y_plane: npt.ArrayLike, uv_plane: npt.ArrayLike,
                matrix: str | YuvMatrix = 'bt601') -> FloatArray:
    """Convert an NV12 frame to RGB floats in [0, 255] (not rounded).

    Parameters
    ----------
    y_plane : array, shape (H, W), uint8
        Luma; H and W even.
    uv_plane : array, shape (H/2, W/2, 2) or (H/2, W), uint8
        Interleaved U, V at half resolution; upsampled by nearest neighbour.
    matrix : str or YuvMatrix
        ``'bt601'`` (default), ``'bt709'``, or their ``'_full'`` range variants.

    Returns
    -------
    numpy.ndarray, shape (H, W, 3), float32
        R, G, B clamped to [0, 255].

    """
    yy = np.asarray(y_plane)
    uv = np.asarray(uv_plane)
    if yy.ndim != 2 or yy.dtype != np.uint8 or yy.shape[0] % 2 or yy.shape[1] % 2:
        raise ValueError(f'y_plane must be uint8 (H, W) with even H, W, got {yy.dtype} '
                         f'{yy.shape}')
    h, w = yy.shape
    uv = uv.reshape(h // 2, w // 2, 2) if uv.size == h * w // 2 else uv
    if uv.shape != (h // 2, w // 2, 2) or uv.dtype != np.uint8:
        raise ValueError(f'uv_plane must be uint8 ({h // 2}, {w // 2}, 2), got {uv.dtype} '
                         f'{np.asarray(uv_plane).shape}')
    m = matrix if isinstance(matrix, YuvMatrix) else yuv_matrix(matrix)
    up = uv.repeat(2, axis=0).repeat(2, axis=1).astype(F32)
    luma = ((yy.astype(F32) - F32(m.y_off)) * F32(m.ky)).astype(F32)
    u = up[..., 0] - F32(m.c_off)
    v = up[..., 1] - F32(m.c_off)
    r = luma + F32(m.rv) * v
    g = (luma - F32(m.gu) * u) - F32(m.gv) * v
    b = luma + F32(m.bu) * u
    return np.clip(np.stack([r, g, b], axis=-1), F32(0.0), F32(255.0)).astype(F32)


def crop_resize_normalize_nv12(y_plane: npt.ArrayLike, uv_plane: npt.ArrayLike,
                               crop: CropLike, size: int, matrix: str | YuvMatrix = 'bt601',
                               mean: Sequence[float] = IMAGENET_MEAN,
                               std: Sequence[float] = IMAGENET_STD,
                               pad: float = 0.0) -> FloatArray:
    """:func:`crop_resize_normalize` of :func:`nv12_to_rgb` (shape (1, 3, S, S), float32)."""
    return crop_resize_normalize(nv12_to_rgb(y_plane, uv_plane, matrix), crop, size,
                                 mean, std, pad)


def bilinear_resize(x: npt.ArrayLike, out_hw: Tuple[int, int]) -> FloatArray:
    """Resize the last two axes bilinearly, as ``F.interpolate(align_corners=False)``.

    Parameters
    ----------
    x : array, shape (..., hi, wi), float32
        Planes to resize, for example mask logits (1, 1, 128, 128).
    out_hw : (int, int)
        Output height and width (for example (512, 512)).

    Returns
    -------
    numpy.ndarray, shape (..., ho, wo), float32
        Each output sample at ``src = (dst + 0.5) * in / out - 0.5``, clamped below at 0
        and with the upper neighbour clamped to the last row / column.

    """
    src = _f32(x, 'x')
    if src.ndim < 2:
        raise ValueError(f'x must have shape (..., H, W), got {src.shape}')
    ho, wo = (int(v) for v in out_hw)
    if ho < 1 or wo < 1:
        raise ValueError(f'out_hw must be positive, got {out_hw}')
    hi, wi = src.shape[-2:]

    def axis(n_out: int, n_in: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = F32(n_in) / F32(n_out)
        s = (np.arange(n_out, dtype=F32) + F32(0.5)) * scale - F32(0.5)
        s = np.maximum(s, F32(0.0)).astype(F32)
        i0 = s.astype(np.int64)
        return i0, np.minimum(i0 + 1, n_in - 1), (s - i0.astype(F32)).astype(F32)

    y0, y1, wy = axis(ho, hi)
    x0, x1, wx = axis(wo, wi)
    top = _lerp(src[..., y0, :][..., x0], src[..., y0, :][..., x1], wx)
    bot = _lerp(src[..., y1, :][..., x0], src[..., y1, :][..., x1], wx)
    return _lerp(top, bot, wy[:, None])


def scale_sigmoid(x: npt.ArrayLike, scale: float, bias: float) -> FloatArray:
    """Memory-encoder mask input ``sigmoid(x) * scale + bias`` (same shape, float32)."""
    v = _f32(x, 'x')
    e = np.exp(-np.abs(v)).astype(F32)
    s = np.where(v >= 0, F32(1.0) / (F32(1.0) + e), e / (F32(1.0) + e)).astype(F32)
    return (s * F32(scale) + F32(bias)).astype(F32)


def threshold_mask(x: npt.ArrayLike, threshold: float = 0.0) -> ByteArray:
    """Binary mask, 1 where ``x > threshold`` (same shape, uint8)."""
    return (_f32(x, 'x') > F32(threshold)).astype(np.uint8)


def mask_to_box(x: npt.ArrayLike,
                threshold: float = 0.0) -> Optional[Tuple[int, int, int, int]]:
    """Tight box around the pixels of a mask above a threshold.

    Parameters
    ----------
    x : array, shape (H, W), float32
        Mask logits (or probabilities with a matching threshold).
    threshold : float
        A pixel belongs to the object when ``x > threshold`` (0 for logits).

    Returns
    -------
    tuple of 4 int or None
        ``(x_min, y_min, x_max, y_max)``, inclusive pixel indices of the mask grid (the
        full-frame box is ``[x_min, y_min, x_max + 1, y_max + 1]`` scaled by the crop);
        None when no pixel is above the threshold.

    """
    m = _f32(x, 'x')
    if m.ndim != 2:
        raise ValueError(f'x must have shape (H, W), got {m.shape}')
    rows = np.flatnonzero((m > F32(threshold)).any(axis=1))
    cols = np.flatnonzero((m > F32(threshold)).any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def transpose_bias(x: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None,
                   bias_axis: int = 0) -> FloatArray:
    """Transpose ``[rows, cols] -> [cols, rows]``, adding a bias along one source axis.

    Parameters
    ----------
    x : array, shape (rows, cols), float32
    bias : array, shape (rows,) if bias_axis is 0 else (cols,), float32, optional
    bias_axis : int
        0: ``out[j, i] = x[i, j] + bias[i]``; 1: ``... + bias[j]``.

    Returns
    -------
    numpy.ndarray, shape (cols, rows), float32

    """
    m = _f32(x, 'x')
    if m.ndim != 2:
        raise ValueError(f'x must have shape (rows, cols), got {m.shape}')
    if bias is not None:
        if bias_axis not in (0, 1):
            raise ValueError(f'bias_axis must be 0 or 1, got {bias_axis}')
        b = _f32(bias, 'bias')
        if b.shape != (m.shape[bias_axis],):
            raise ValueError(f'bias must have shape ({m.shape[bias_axis]},), got {b.shape}')
        m = m + (b[:, None] if bias_axis == 0 else b[None, :])
    return np.ascontiguousarray(m.T).astype(F32)


def chw_to_tokens(x: npt.ArrayLike, bias: Optional[npt.ArrayLike] = None) -> FloatArray:
    """Reorder encoder layout to tokens, ``[1, C, H, W] -> [H*W, 1, C]`` (+ bias ``(C,)``)."""
    m = _f32(x, 'x')
    if m.ndim != 4 or m.shape[0] != 1:
        raise ValueError(f'x must have shape (1, C, H, W), got {m.shape}')
    c = m.shape[1]
    return transpose_bias(m.reshape(c, -1), bias, 0)[:, None, :]


def tokens_to_chw(x: npt.ArrayLike, hw: Tuple[int, int]) -> FloatArray:
    """Reorder tokens to encoder layout, ``[H*W, 1, C] -> [1, C, H, W]``."""
    m = _f32(x, 'x')
    h, w = hw
    if m.ndim != 3 or m.shape[0] != h * w or m.shape[1] != 1:
        raise ValueError(f'x must have shape ({h * w}, 1, C), got {m.shape}')
    return transpose_bias(m.reshape(h * w, -1)).reshape(1, -1, h, w)


def add_bias(x: npt.ArrayLike, bias: npt.ArrayLike) -> FloatArray:
    """Broadcast add along the last axis: ``x[..., c] + bias[c]`` (float32)."""
    m = _f32(x, 'x')
    b = _f32(bias, 'bias')
    if b.shape != (m.shape[-1],):
        raise ValueError(f'bias must have shape ({m.shape[-1]},), got {b.shape}')
    return (m + b).astype(F32)


def assemble_memory_bank(slot_feats: Sequence[npt.ArrayLike],
                         slot_pos: Sequence[npt.ArrayLike],
                         tpos_index: Sequence[int], tpos: npt.ArrayLike,
                         ptrs: Optional[npt.ArrayLike] = None,
                         ptr_pos: Optional[npt.ArrayLike] = None
                         ) -> Tuple[FloatArray, FloatArray]:
    """Build the memory-attention inputs ``memory`` and ``memory_pos``.

    Parameters
    ----------
    slot_feats, slot_pos : sequence of n_slots arrays, shape (1, D, h, w) or (D, h*w)
        Mask memories and their spatial encodings as the memory encoder emits them
        (SAM 2.1: D = 64, 32x32 at a 512 crop; 7 slots).
    tpos_index : sequence of n_slots int
        Row of ``tpos`` added to each slot's positional encoding (SAM 2:
        ``num_maskmem - t_pos - 1``).
    tpos : array, shape (n_tpos, D) or (n_tpos, 1, 1, D), float32
        Temporal encodings (``maskmem_tpos_enc``).
    ptrs : array, shape (n_ptr, split * D), float32, optional
        Object pointers (256 wide in SAM 2.1, split into 4 tokens of 64).
    ptr_pos : array, shape (n_ptr, D), float32, optional
        Their temporal encodings, repeated over the split tokens.

    Returns
    -------
    memory, memory_pos : numpy.ndarray, shape (n_slots*h*w + n_ptr*split, 1, D), float32

    """
    tp = _f32(tpos, 'tpos')
    dim = tp.shape[-1]
    tp = tp.reshape(-1, dim)
    if len(slot_feats) != len(slot_pos) or len(slot_feats) != len(tpos_index):
        raise ValueError('slot_feats, slot_pos and tpos_index must have one entry per slot, '
                         f'got {len(slot_feats)}, {len(slot_pos)}, {len(tpos_index)}')
    mem_parts, pos_parts = [], []
    for feat, pos, t in zip(slot_feats, slot_pos, tpos_index):
        f = _f32(feat, 'slot_feats[i]').reshape(dim, -1)
        p = _f32(pos, 'slot_pos[i]').reshape(dim, -1)
        if not 0 <= int(t) < tp.shape[0]:
            raise ValueError(f'tpos_index entries must be in [0, {tp.shape[0]}), got {t}')
        mem_parts.append(f.T)
        pos_parts.append(p.T + tp[int(t)][None, :])
    if ptrs is not None:
        if ptr_pos is None:
            raise ValueError('ptr_pos (n_ptr, D) is required with ptrs')
        pt = _f32(ptrs, 'ptrs')
        pp = _f32(ptr_pos, 'ptr_pos')
        if pt.ndim != 2 or pt.shape[1] % dim or pp.shape != (pt.shape[0], dim):
            raise ValueError(f'ptrs must be (n_ptr, k*{dim}) and ptr_pos (n_ptr, {dim}), got '
                             f'{pt.shape} and {pp.shape}')
        split = pt.shape[1] // dim
        mem_parts.append(pt.reshape(-1, dim))
        pos_parts.append(np.repeat(pp, split, axis=0))
    memory = np.concatenate(mem_parts, axis=0).astype(F32)[:, None, :]
    memory_pos = np.concatenate(pos_parts, axis=0).astype(F32)[:, None, :]
    return memory, memory_pos


def obj_ptr_tpos_encode(rel_pos: npt.ArrayLike, t_diff_max: float, weight: npt.ArrayLike,
                        bias: npt.ArrayLike, temperature: float = 10000.0) -> FloatArray:
    """Temporal encoding of object pointers: linear projection of a 1-D sine encoding.

    Parameters
    ----------
    rel_pos : array, shape (n_ptr,)
        Signed frame distance of each pointer from the current frame.
    t_diff_max : float
        Normaliser (SAM 2: ``max_obj_ptrs_in_encoder - 1`` = 15).
    weight : array, shape (D, tpos_dim), float32
        ``obj_ptr_tpos_proj.weight`` (SAM 2.1 tiny: 64 x 256).
    bias : array, shape (D,), float32
        ``obj_ptr_tpos_proj.bias``.
    temperature : float
        Sine frequency base.

    Returns
    -------
    numpy.ndarray, shape (n_ptr, D), float32
        ``weight @ [sin(q / t_k), cos(q / t_k)] + bias`` with ``q = rel_pos / t_diff_max``
        and ``t_k = temperature ** (2 * (k // 2) / (tpos_dim / 2))``.

    """
    q = np.asarray(rel_pos, dtype=F32) / F32(t_diff_max)
    w = _f32(weight, 'weight')
    half = w.shape[1] // 2
    k = np.arange(half, dtype=F32)
    t = np.power(F32(temperature), (F32(2.0) * np.floor(k / F32(2.0))) / F32(half))
    a = (q[:, None] / t[None, :]).astype(F32)
    pe = np.concatenate([np.sin(a), np.cos(a)], axis=1).astype(F32)
    return (pe @ w.T + _f32(bias, 'bias')).astype(F32)
