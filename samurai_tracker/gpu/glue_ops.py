"""The per-frame glue as GPU calls on device arrays (torch, CuPy or pycuda).

Every function validates its inputs (shape, dtype, layout), allocates the output in the
library of its main input unless ``out=`` is given, and launches one kernel of
``glue_kernels.cu`` asynchronously on that library's current stream; nothing is copied
to the host except where the name says ``_host``. Shapes and conventions are those of
the numpy twins in :mod:`samurai_tracker.gpu.host_reference`.

Typical per-frame use from a torch runtime (tensors stay on the GPU)::

    ops = GlueOps()                                   # compiles once, ~1 s
    x = ops.crop_resize_normalize_rgb(frame, crop_box, 512)   # (1, 3, 512, 512)
    tokens = ops.chw_to_tokens(vision_feat)                   # (1024, 1, 256)
    mem, mem_pos = ops.assemble_memory_bank(feats, poss, tidx, tpos, ptrs, ptr_pos)
    hi_res = ops.bilinear_resize(low_res_masks, (512, 512))
    box = ops.mask_to_box(hi_res[0, 0])                       # int32 (4,), on device
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from samurai_tracker.gpu.conventions import (
    CropLike, crop_window, IMAGENET_MEAN, IMAGENET_STD, SIGMOID_BIAS_FOR_MEM_ENC,
    SIGMOID_SCALE_FOR_MEM_ENC, YuvMatrix, yuv_matrix)
from samurai_tracker.gpu.device_arrays import ArrayFamily, DeviceView, family_of, view
from samurai_tracker.gpu.kernel_module import KernelModule, load_kernel_module

__all__ = ['GlueOps', 'box_from_device']

_F32 = np.dtype(np.float32)
_U8 = np.dtype(np.uint8)
_I32 = np.dtype(np.int32)
_BLOCK = 256
_BOX_BLOCKS = 128


def _u64(v: DeviceView) -> np.uint64:
    return np.uint64(v.ptr)


def _i32(v: int) -> np.int32:
    return np.int32(v)


def _f32(v: float) -> np.float32:
    return np.float32(v)


def _blocks(n: int, block: int = _BLOCK) -> int:
    return max((n + block - 1) // block, 1)


def _check(v: DeviceView, name: str, dtype: np.dtype, shape: Optional[Tuple[int, ...]] = None,
           ndim: Optional[int] = None) -> None:
    if v.dtype != dtype:
        raise ValueError(f'{name} must be {dtype}, got {v.dtype}')
    if ndim is not None and len(v.shape) != ndim:
        raise ValueError(f'{name} must have {ndim} dimensions, got shape {v.shape}')
    if shape is not None and v.shape != shape:
        raise ValueError(f'{name} must have shape {shape}, got {v.shape}')
    if not v.contiguous:
        raise ValueError(f'{name} must be C-contiguous (strides {v.strides}); call '
                         '.contiguous() / cupy.ascontiguousarray first')


def _row_pitch(v: DeviceView, name: str, pixel_bytes: int) -> int:
    """Row pitch in bytes of an (H, W[, C]) uint8 frame whose rows may be padded."""
    if v.dtype != _U8:
        raise ValueError(f'{name} must be uint8, got {v.dtype}')
    inner = (pixel_bytes, 1) if len(v.shape) == 3 else (1,)
    if v.strides[1:] != inner or v.strides[0] < v.shape[1] * pixel_bytes:
        raise ValueError(f'{name} must have densely packed pixels within each row '
                         f'(strides (pitch, {", ".join(map(str, inner))})), got {v.strides}')
    return int(v.strides[0])


def box_from_device(box: Any) -> Optional[Tuple[int, int, int, int]]:
    """Read a :meth:`GlueOps.mask_to_box` result back to the host (synchronises).

    Returns
    -------
    tuple of 4 int or None
        ``(x_min, y_min, x_max, y_max)`` inclusive mask-pixel indices; None when empty.

    """
    if hasattr(box, 'get'):
        host = np.asarray(box.get())
    elif hasattr(box, 'cpu'):
        host = box.cpu().numpy()
    else:
        host = np.asarray(box)
    x0, y0, x1, y1 = (int(v) for v in host.reshape(4))
    return None if x1 < 0 else (x0, y0, x1, y1)


class GlueOps:
    """The glue kernels of one device as functions on device arrays.

    Parameters
    ----------
    compiler : {'auto', 'pycuda', 'cupy'}
        Kernel compiler; see :class:`~samurai_tracker.gpu.kernel_module.KernelModule`.
        Use ``'cupy'`` when launching on non-default streams or under CUDA-graph capture.
    device : int
        CUDA device ordinal.

    Raises
    ------
    GpuUnavailableError
        If there is no CUDA device or neither pycuda nor CuPy is installed.

    """

    def __init__(self, compiler: str = 'auto', device: int = 0) -> None:
        self.module: KernelModule = load_kernel_module(compiler, device)

    # -- helpers ---------------------------------------------------------------------
    def _out(self, fam: ArrayFamily, out: Any, shape: Tuple[int, ...], dtype: np.dtype,
             name: str = 'out') -> Tuple[Any, DeviceView]:
        if out is None:
            out = fam.empty(shape, dtype)
        v = view(out, name)
        _check(v, name, dtype, shape)
        return out, v

    def _launch(self, fam: ArrayFamily, name: str, grid: Sequence[int], block: Sequence[int],
                args: Sequence[Any], shared_mem: int = 0) -> None:
        self.module.launch(name, grid, block, args, fam.stream(), shared_mem)

    # -- encoder input ---------------------------------------------------------------
    def crop_resize_normalize_rgb(self, frame: Any, crop: CropLike, size: int, *,
                                  bgr: bool = False,
                                  mean: Sequence[float] = IMAGENET_MEAN,
                                  std: Sequence[float] = IMAGENET_STD, pad: float = 0.0,
                                  out: Any = None) -> Any:
        """Crop, bilinearly resize and normalise an interleaved 8-bit frame.

        Parameters
        ----------
        frame : device array, shape (H, W, 3), uint8
            Full frame (rows may be pitched); RGB, or BGR with ``bgr=True``.
        crop : Box or sequence of 4 float
            ``[x1, y1, x2, y2]`` in full-frame pixels; may leave the frame.
        size : int
            Output side S.
        mean, std : sequence of 3 float
            Normalisation of values scaled to [0, 1], in RGB order.
        pad : float
            Value (normalised units) of samples outside the frame.
        out : device array, shape (1, 3, S, S), float32, optional

        Returns
        -------
        device array, shape (1, 3, S, S), float32

        """
        v = view(frame, 'frame')
        if len(v.shape) != 3 or v.shape[2] != 3:
            raise ValueError(f'frame must have shape (H, W, 3), got {v.shape}')
        pitch = _row_pitch(v, 'frame', 3)
        fam = family_of(frame)
        out, o = self._out(fam, out, (1, 3, size, size), _F32)
        x, y, w, h = crop_window(crop)
        order = (2, 1, 0) if bgr else (0, 1, 2)
        args = [_u64(v), _i32(v.shape[0]), _i32(v.shape[1]), _i32(pitch),
                *map(_i32, order), _f32(x), _f32(y), _f32(w), _f32(h), _i32(size),
                *self._norm(mean, std), _f32(pad), _u64(o)]
        self._launch(fam, 'crop_resize_normalize_rgb', (_blocks(size * size),), (_BLOCK,), args)
        return out

    def crop_resize_normalize_nv12(self, y_plane: Any, uv_plane: Any, crop: CropLike,
                                   size: int, *, matrix: str | YuvMatrix = 'bt601',
                                   mean: Sequence[float] = IMAGENET_MEAN,
                                   std: Sequence[float] = IMAGENET_STD, pad: float = 0.0,
                                   out: Any = None) -> Any:
        """Convert NV12 to RGB, crop, resize and normalise in one pass.

        Parameters
        ----------
        y_plane : device array, shape (H, W), uint8
            Luma (H, W even; rows may be pitched).
        uv_plane : device array, shape (H/2, W/2, 2) or (H/2, W), uint8
            Interleaved chroma at half resolution.
        crop, size, mean, std, pad, out
            As :meth:`crop_resize_normalize_rgb`.
        matrix : str or YuvMatrix
            ``'bt601'`` (default), ``'bt709'`` or a ``'_full'`` variant.

        Returns
        -------
        device array, shape (1, 3, S, S), float32

        """
        yv = view(y_plane, 'y_plane')
        uv = view(uv_plane, 'uv_plane')
        if len(yv.shape) != 2 or yv.shape[0] % 2 or yv.shape[1] % 2:
            raise ValueError(f'y_plane must have shape (H, W) with even H and W, got {yv.shape}')
        h, w = yv.shape
        if uv.shape not in ((h // 2, w // 2, 2), (h // 2, w)):
            raise ValueError(f'uv_plane must have shape ({h // 2}, {w // 2}, 2) or '
                             f'({h // 2}, {w}), got {uv.shape}')
        ypitch = _row_pitch(yv, 'y_plane', 1)
        uvpitch = _row_pitch(uv, 'uv_plane', 2) if len(uv.shape) == 3 else \
            _row_pitch(uv, 'uv_plane', 1)
        m = matrix if isinstance(matrix, YuvMatrix) else yuv_matrix(matrix)
        fam = family_of(y_plane)
        out, o = self._out(fam, out, (1, 3, size, size), _F32)
        x, y, cw, ch = crop_window(crop)
        args = [_u64(yv), _i32(ypitch), _u64(uv), _i32(uvpitch), _i32(h), _i32(w),
                *map(_f32, (m.ky, m.y_off, m.c_off, m.rv, m.gu, m.gv, m.bu)),
                _f32(x), _f32(y), _f32(cw), _f32(ch), _i32(size),
                *self._norm(mean, std), _f32(pad), _u64(o)]
        self._launch(fam, 'crop_resize_normalize_nv12', (_blocks(size * size),), (_BLOCK,),
                     args)
        return out

    @staticmethod
    def _norm(mean: Sequence[float], std: Sequence[float]) -> Tuple[np.float32, ...]:
        m = np.asarray(mean, dtype=np.float32)
        s = np.asarray(std, dtype=np.float32)
        if m.shape != (3,) or s.shape != (3,) or np.any(s <= 0):
            raise ValueError(f'mean and std must be 3 numbers with std > 0, got {mean}, {std}')
        istd = (np.float32(1.0) / s).astype(np.float32)
        return (m[0], m[1], m[2], istd[0], istd[1], istd[2])

    # -- masks -----------------------------------------------------------------------
    def bilinear_resize(self, x: Any, out_hw: Tuple[int, int], out: Any = None) -> Any:
        """Bilinear resize of the last two axes, ``align_corners=False`` (float32).

        Parameters
        ----------
        x : device array, shape (..., hi, wi), float32
            For example low-resolution mask logits (1, 1, 128, 128).
        out_hw : (int, int)
            Output (ho, wo), for example (512, 512).
        out : device array, shape (..., ho, wo), float32, optional

        Returns
        -------
        device array, shape (..., ho, wo), float32

        """
        v = view(x, 'x')
        _check(v, 'x', _F32)
        if len(v.shape) < 2:
            raise ValueError(f'x must have shape (..., H, W), got {v.shape}')
        ho, wo = (int(n) for n in out_hw)
        if ho < 1 or wo < 1:
            raise ValueError(f'out_hw must be positive, got {out_hw}')
        hi, wi = v.shape[-2:]
        planes = int(np.prod(v.shape[:-2], dtype=np.int64))
        fam = family_of(x)
        out, o = self._out(fam, out, v.shape[:-2] + (ho, wo), _F32)
        self._launch(fam, 'bilinear_resize', (_blocks(planes * ho * wo),), (_BLOCK,),
                     [_u64(v), _i32(planes), _i32(hi), _i32(wi), _i32(ho), _i32(wo), _u64(o)])
        return out

    def scale_sigmoid(self, x: Any, scale: float = SIGMOID_SCALE_FOR_MEM_ENC,
                      bias: float = SIGMOID_BIAS_FOR_MEM_ENC, out: Any = None) -> Any:
        """``sigmoid(x) * scale + bias`` (float32, same shape; ``out`` may be ``x``)."""
        v = view(x, 'x')
        _check(v, 'x', _F32)
        fam = family_of(x)
        out, o = self._out(fam, out, v.shape, _F32)
        n = int(np.prod(v.shape, dtype=np.int64))
        self._launch(fam, 'scale_sigmoid', (_blocks(n),), (_BLOCK,),
                     [_u64(v), _i32(n), _f32(scale), _f32(bias), _u64(o)])
        return out

    def threshold_mask(self, x: Any, threshold: float = 0.0, out: Any = None) -> Any:
        """Binary mask ``x > threshold`` (uint8 0/1, same shape as the float32 ``x``)."""
        v = view(x, 'x')
        _check(v, 'x', _F32)
        fam = family_of(x)
        out, o = self._out(fam, out, v.shape, _U8)
        n = int(np.prod(v.shape, dtype=np.int64))
        self._launch(fam, 'threshold_mask', (_blocks(n),), (_BLOCK,),
                     [_u64(v), _i32(n), _f32(threshold), _u64(o)])
        return out

    def mask_to_box(self, x: Any, threshold: float = 0.0, out: Any = None) -> Any:
        """Tight box of the pixels ``x > threshold``, computed with atomics on the device.

        Parameters
        ----------
        x : device array, shape (H, W), float32
            Mask logits.
        threshold : float
            Object pixels are those above it.
        out : device array, shape (4,), int32, optional

        Returns
        -------
        device array, shape (4,), int32
            ``[x_min, y_min, x_max, y_max]`` inclusive indices, or ``[W, H, -1, -1]`` when
            the mask is empty; :func:`box_from_device` reads it back.

        """
        v = view(x, 'x')
        _check(v, 'x', _F32, ndim=2)
        h, w = v.shape
        fam = family_of(x)
        out, o = self._out(fam, out, (4,), _I32)
        self._launch(fam, 'mask_box_init', (1,), (32,), [_i32(h), _i32(w), _u64(o)])
        self._launch(fam, 'mask_box_reduce', (min(_blocks(h * w), _BOX_BLOCKS),), (_BLOCK,),
                     [_u64(v), _i32(h), _i32(w), _f32(threshold), _u64(o)])
        return out

    def mask_to_box_host(self, x: Any,
                         threshold: float = 0.0) -> Optional[Tuple[int, int, int, int]]:
        """:meth:`mask_to_box` read back to the host (synchronises); None when empty."""
        return box_from_device(self.mask_to_box(x, threshold))

    # -- layouts ---------------------------------------------------------------------
    def transpose_bias(self, x: Any, bias: Any = None, bias_axis: int = 0,
                       out: Any = None) -> Any:
        """Transpose ``[rows, cols] -> [cols, rows]`` plus an optional bias (float32).

        ``out[j, i] = x[i, j] + bias[i]`` (``bias_axis=0``, bias shape (rows,)) or
        ``+ bias[j]`` (``bias_axis=1``, shape (cols,)).
        """
        v = view(x, 'x')
        _check(v, 'x', _F32, ndim=2)
        rows, cols = v.shape
        bias_ptr = np.uint64(0)
        if bias is not None:
            if bias_axis not in (0, 1):
                raise ValueError(f'bias_axis must be 0 or 1, got {bias_axis}')
            b = view(bias, 'bias')
            _check(b, 'bias', _F32, (v.shape[bias_axis],))
            bias_ptr = _u64(b)
        fam = family_of(x)
        out, o = self._out(fam, out, (cols, rows), _F32)
        self._launch(fam, 'transpose_bias', (_blocks(cols, 32), _blocks(rows, 32)), (32, 8),
                     [_u64(v), _i32(rows), _i32(cols), bias_ptr, _i32(bias_axis), _u64(o)])
        return out

    def chw_to_tokens(self, x: Any, bias: Any = None, out: Any = None) -> Any:
        """Reorder encoder layout to tokens, ``[1, C, H, W] -> [H*W, 1, C]`` (+ bias (C,))."""
        v = view(x, 'x')
        _check(v, 'x', _F32, ndim=4)
        _, c, h, w = v.shape
        if v.shape[0] != 1:
            raise ValueError(f'x must have batch 1, shape (1, C, H, W), got {v.shape}')
        out2 = None if out is None else _reshaped(out, (h * w, c))
        res = self.transpose_bias(_reshaped(x, (c, h * w)), bias, 0, out2)
        return _reshaped(res, (h * w, 1, c)) if out is None else out

    def tokens_to_chw(self, x: Any, hw: Tuple[int, int], out: Any = None) -> Any:
        """Reorder tokens to encoder layout, ``[H*W, 1, C] -> [1, C, H, W]`` (float32)."""
        v = view(x, 'x')
        _check(v, 'x', _F32, ndim=3)
        h, w = hw
        if v.shape[0] != h * w or v.shape[1] != 1:
            raise ValueError(f'x must have shape ({h * w}, 1, C), got {v.shape}')
        c = v.shape[2]
        out2 = None if out is None else _reshaped(out, (c, h * w))
        res = self.transpose_bias(_reshaped(x, (h * w, c)), None, 0, out2)
        return _reshaped(res, (1, c, h, w)) if out is None else out

    def add_bias(self, x: Any, bias: Any, out: Any = None) -> Any:
        """``x[..., c] + bias[c]`` (float32; ``out`` may be ``x`` for an in-place add)."""
        v = view(x, 'x')
        _check(v, 'x', _F32)
        cols = v.shape[-1]
        b = view(bias, 'bias')
        _check(b, 'bias', _F32, (cols,))
        fam = family_of(x)
        out, o = self._out(fam, out, v.shape, _F32)
        n = int(np.prod(v.shape, dtype=np.int64))
        self._launch(fam, 'add_bias', (_blocks(n),), (_BLOCK,),
                     [_u64(v), _i32(n // cols), _i32(cols), _u64(b), _u64(o)])
        return out

    # -- memory ----------------------------------------------------------------------
    def slot_table(self, like: Any, slot_feats: Sequence[Any], slot_pos: Sequence[Any],
                   tpos_index: Sequence[int]) -> Tuple[Any, Tuple[int, int, int]]:
        """Upload the device pointer table the memory-bank kernel reads.

        Returns
        -------
        table : device array, shape (2 * n_slots + ceil(n_slots / 2),), int64
            Feature pointers, positional-encoding pointers, then ``tpos_index`` as int32.
        (n_slots, dim, hw) : tuple of int
            Layout every slot must share.

        """
        n = len(slot_feats)
        if n == 0 or len(slot_pos) != n or len(tpos_index) != n:
            raise ValueError('slot_feats, slot_pos and tpos_index need one entry per slot, '
                             f'got {len(slot_feats)}, {len(slot_pos)}, {len(tpos_index)}')
        views = [view(a, f'slot_feats[{i}]') for i, a in enumerate(slot_feats)]
        views += [view(a, f'slot_pos[{i}]') for i, a in enumerate(slot_pos)]
        first = views[0]
        dim = first.shape[1] if len(first.shape) == 4 else first.shape[0]
        hw = int(np.prod(first.shape, dtype=np.int64)) // dim
        for i, sv in enumerate(views):
            _check(sv, f'slot {i % n} array', _F32)
            if int(np.prod(sv.shape, dtype=np.int64)) != dim * hw:
                raise ValueError(f'every slot must hold {dim} x {hw} floats like the first '
                                 f'(shape {first.shape}), got {sv.shape}')
        idx = np.zeros(n + (n % 2), dtype=np.int32)
        idx[:n] = np.asarray(tpos_index, dtype=np.int32)
        host = np.concatenate([np.array([sv.ptr for sv in views], dtype=np.uint64).view(
            np.int64), idx.view(np.int64)])
        return family_of(like).upload(host), (n, dim, hw)

    def assemble_memory_bank(self, slot_feats: Sequence[Any], slot_pos: Sequence[Any],
                             tpos_index: Sequence[int], tpos: Any, ptrs: Any = None,
                             ptr_pos: Any = None, out: Optional[Tuple[Any, Any]] = None
                             ) -> Tuple[Any, Any]:
        """Build ``memory`` and ``memory_pos`` for memory attention in one launch.

        Parameters
        ----------
        slot_feats, slot_pos : sequence of n_slots device arrays, float32
            Each (1, D, h, w) or (D, h*w) (memory-encoder outputs); entries may repeat.
        tpos_index : sequence of n_slots int
            Row of ``tpos`` added to each slot's positional encoding.
        tpos : device array, shape (n_tpos, D) or (n_tpos, 1, 1, D), float32
        ptrs : device array, shape (n_ptr, split * D), float32, optional
        ptr_pos : device array, shape (n_ptr, D), float32, optional
        out : pair of device arrays, shape (n_slots*h*w + n_ptr*split, 1, D), optional

        Returns
        -------
        memory, memory_pos : device arrays, shape (n_slots*h*w + n_ptr*split, 1, D), float32

        """
        table, layout = self.slot_table(tpos, slot_feats, slot_pos, tpos_index)
        n_tpos = int(np.prod(view(tpos, 'tpos').shape, dtype=np.int64)) // layout[1]
        if min(tpos_index) < 0 or max(tpos_index) >= n_tpos:
            raise ValueError(f'tpos_index entries must be in [0, {n_tpos}), got {tpos_index}')
        result = self.assemble_memory_bank_from_table(table, layout, tpos, ptrs, ptr_pos, out)
        self._keepalive = table  # the upload must outlive the asynchronous launch
        return result

    def assemble_memory_bank_from_table(self, table: Any, layout: Tuple[int, int, int],
                                        tpos: Any, ptrs: Any = None, ptr_pos: Any = None,
                                        out: Optional[Tuple[Any, Any]] = None
                                        ) -> Tuple[Any, Any]:
        """:meth:`assemble_memory_bank` from a pointer table made by :meth:`slot_table`.

        Nothing is uploaded, so this call can be captured in a CUDA graph; refresh the
        table's contents (same slots, new ``tpos_index``) with a device copy between
        replays. The slot buffers must stay alive and in place while the table is used.

        Parameters
        ----------
        table : device array, int64
            From :meth:`slot_table`.
        layout : (n_slots, D, hw)
            From :meth:`slot_table`.
        tpos, ptrs, ptr_pos, out
            As :meth:`assemble_memory_bank`.

        Returns
        -------
        memory, memory_pos : device arrays, shape (n_slots*hw + n_ptr*split, 1, D), float32

        """
        n, dim, hw = layout
        tv = view(tpos, 'tpos')
        _check(tv, 'tpos', _F32)
        if tv.shape[-1] != dim:
            raise ValueError(f'tpos must end in the slot width {dim}, got {tv.shape}')
        tab = view(table, 'table')
        if tab.dtype != np.dtype(np.int64) or tab.shape != (2 * n + (n + 1) // 2,):
            raise ValueError(f'table must be int64 of shape ({2 * n + (n + 1) // 2},) as '
                             f'slot_table makes it, got {tab.dtype} {tab.shape}')
        n_ptr, split, pv, ppv = 0, 1, np.uint64(0), np.uint64(0)
        if ptrs is not None:
            p = view(ptrs, 'ptrs')
            _check(p, 'ptrs', _F32, ndim=2)
            if p.shape[1] % dim:
                raise ValueError(f'ptrs must have shape (n_ptr, k * {dim}), got {p.shape}')
            n_ptr, split = p.shape[0], p.shape[1] // dim
            if ptr_pos is None:
                raise ValueError(f'ptr_pos ({n_ptr}, {dim}) is required with ptrs')
            pp = view(ptr_pos, 'ptr_pos')
            _check(pp, 'ptr_pos', _F32, (n_ptr, dim))
            pv, ppv = _u64(p), _u64(pp)
        fam = family_of(tpos)
        shape = (n * hw + n_ptr * split, 1, dim)
        mem, mv = self._out(fam, None if out is None else out[0], shape, _F32, 'out[0]')
        pos, posv = self._out(fam, None if out is None else out[1], shape, _F32, 'out[1]')
        args = [np.uint64(tab.ptr), np.uint64(tab.ptr + 8 * n), np.uint64(tab.ptr + 16 * n),
                _u64(tv), _i32(n), _i32(hw), _i32(dim), pv, ppv, _i32(n_ptr), _i32(split),
                _u64(mv), _u64(posv)]
        self._launch(fam, 'assemble_memory_bank', (_blocks(hw, 32), _blocks(dim, 32), n + 1),
                     (32, 8), args)
        return mem, pos

    def obj_ptr_tpos_encode(self, rel_pos: Any, t_diff_max: float, weight: Any, bias: Any,
                            temperature: float = 10000.0, out: Any = None) -> Any:
        """Temporal encodings of object pointers (sine encoding, then linear projection).

        Parameters
        ----------
        rel_pos : device array, shape (n_ptr,), float32
            Signed frame distance of each pointer.
        t_diff_max : float
            Normaliser (SAM 2: ``max_obj_ptrs_in_encoder - 1``).
        weight : device array, shape (D, tpos_dim), float32
            ``obj_ptr_tpos_proj.weight``.
        bias : device array, shape (D,), float32
        temperature : float
        out : device array, shape (n_ptr, D), float32, optional

        Returns
        -------
        device array, shape (n_ptr, D), float32

        """
        rv = view(rel_pos, 'rel_pos')
        _check(rv, 'rel_pos', _F32, ndim=1)
        wv = view(weight, 'weight')
        _check(wv, 'weight', _F32, ndim=2)
        dim, tdim = wv.shape
        if tdim % 2:
            raise ValueError(f'weight must have an even number of columns, got {wv.shape}')
        bv = view(bias, 'bias')
        _check(bv, 'bias', _F32, (dim,))
        fam = family_of(weight)
        n_ptr = rv.shape[0]
        out, o = self._out(fam, out, (n_ptr, dim), _F32)
        if n_ptr:
            self._launch(fam, 'obj_ptr_tpos_encode', (n_ptr,), (128,),
                         [_u64(rv), _i32(n_ptr), _f32(t_diff_max), _f32(temperature), _u64(wv),
                          _u64(bv), _i32(tdim), _i32(dim), _u64(o)], shared_mem=4 * tdim)
        return out


def _reshaped(array: Any, shape: Tuple[int, ...]) -> Any:
    """Reshape a contiguous device array without copying (torch, CuPy, pycuda)."""
    if hasattr(array, 'view') and type(array).__module__.startswith('torch'):
        return array.view(*shape)
    return array.reshape(shape)
