"""The tracker's memory-bank glue on the device: one kernel instead of ~40 small ops.

:class:`DeviceFrameGlue` is :class:`~samurai_tracker.tracker.glue.FrameGlue` with
``memory_inputs`` rebuilt on the CUDA kernels: the mask memories and their positional
encodings (temporal encodings added inline) are written by one ``assemble_memory_bank``
launch reading a device pointer table of the selected slots, and the object pointers'
temporal encodings by one ``obj_ptr_tpos_encode`` launch, into static buffers allocated
once. The layout is exactly :class:`FrameGlue`'s: 7 frame slots of ``(S/16)^2`` tokens,
then 16 pointer slots of 4 tokens, unused slots zero and switched off in
``memory_valid``.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from samurai_tracker.engines.constants import SamuraiConstants
from samurai_tracker.engines.contract import MAX_OBJ_PTRS, NUM_MASKMEM, PTR_TOKENS
from samurai_tracker.gpu.glue_array_ops import CudaGlueOps
from samurai_tracker.tracker.glue import FrameGlue, pointer_positions

__all__ = ['DeviceFrameGlue']


class DeviceFrameGlue(FrameGlue):
    """:class:`FrameGlue` whose memory bank is assembled by the CUDA glue kernels.

    Parameters
    ----------
    constants : SamuraiConstants
        The export's constants.
    ops : CudaGlueOps
        The runtime's array operations (torch tensors on a CUDA device).

    """

    def __init__(self, constants: SamuraiConstants, ops: CudaGlueOps) -> None:
        if not isinstance(ops, CudaGlueOps):
            raise TypeError(f'DeviceFrameGlue needs CudaGlueOps, got {type(ops).__name__}')
        super().__init__(constants, ops)
        self.kernels = ops.kernels
        self._torch = ops._torch
        total = NUM_MASKMEM * self.tokens_per_frame + MAX_OBJ_PTRS * PTR_TOKENS
        self._memory = ops.zeros((total, 1, self.mem_dim))
        self._memory_pos = ops.zeros((total, 1, self.mem_dim))
        self._tpos_dev = ops.from_host(self.tpos.reshape(NUM_MASKMEM, self.mem_dim))
        self._pos_chw: Any = None
        self._used = (0, 0)  # frame slots and pointer slots written by the last call
        self._proj: Any = None
        if constants['add_tpos_enc_to_obj_ptrs'] and constants['proj_tpos_enc_in_obj_ptrs']:
            self._proj = (ops.from_host(constants['obj_ptr_tpos_proj_weight']),
                          ops.from_host(constants['obj_ptr_tpos_proj_bias']))

    def remember_position(self, maskmem_pos: Any) -> None:
        """Keep the spatial encoding of memories, in (1, 64, h, w) and token layout."""
        super().remember_position(maskmem_pos)
        if self._pos_chw is None:
            self._pos_chw = maskmem_pos.float().contiguous()

    def memory_inputs(self, frames: Sequence[Tuple[int, Any]],
                      pointers: Sequence[Tuple[int, Any]]) -> Tuple[Any, Any, Any]:
        """Build ``memory``, ``memory_pos`` and ``memory_valid`` on the device.

        See :meth:`FrameGlue.memory_inputs`; the returned ``memory`` and ``memory_pos``
        are static buffers, overwritten by the next call.
        """
        if self._pos_chw is None:
            raise RuntimeError('memory_inputs before any memory was encoded')
        if not 1 <= len(frames) <= NUM_MASKMEM or len(pointers) > MAX_OBJ_PTRS:
            raise ValueError(f'need 1..{NUM_MASKMEM} frames and <= {MAX_OBJ_PTRS} pointers, '
                             f'got {len(frames)} and {len(pointers)}')
        length = self.tokens_per_frame
        n = len(frames)
        feats = [f if f.is_contiguous() else f.contiguous() for _, f in frames]
        tidx = [NUM_MASKMEM - t - 1 for t, _ in frames]
        self.kernels.assemble_memory_bank(
            feats, [self._pos_chw] * n, tidx, self._tpos_dev,
            out=(self._memory[:n * length], self._memory_pos[:n * length]))
        if self._used[0] > n:
            self._memory[n * length:self._used[0] * length].zero_()
            self._memory_pos[n * length:self._used[0] * length].zero_()
        base = NUM_MASKMEM * length
        count = len(pointers)
        if count:
            rows = slice(base, base + count * PTR_TOKENS)
            stacked = self._torch.cat([p.reshape(1, -1) for _, p in pointers])
            self._memory[rows] = stacked.reshape(count * PTR_TOKENS, 1, self.mem_dim)
            t_diffs = [t for t, _ in pointers]
            if self._proj is not None:
                rel = self.ops.from_host(np.asarray(t_diffs, np.float32))
                t_max = float(int(self.constants['max_obj_ptrs_in_encoder']) - 1)
                pos = self.kernels.obj_ptr_tpos_encode(rel, t_max, *self._proj)
            else:
                pos = self.ops.from_host(pointer_positions(t_diffs, self.constants))
            self._memory_pos[rows] = pos.repeat_interleave(PTR_TOKENS, 0)[:, None, :]
        if self._used[1] > count:
            tail = slice(base + count * PTR_TOKENS, base + self._used[1] * PTR_TOKENS)
            self._memory[tail].zero_()
            self._memory_pos[tail].zero_()
        self._used = (n, count)
        valid = np.zeros((1, NUM_MASKMEM + MAX_OBJ_PTRS), np.float32)
        valid[0, :n] = 1.0
        valid[0, NUM_MASKMEM:NUM_MASKMEM + count] = 1.0
        return self._memory, self._memory_pos, self.ops.from_host(valid)
