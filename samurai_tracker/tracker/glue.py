"""The per-frame glue between the five models, written against :class:`ArrayOps`.

Everything SAM 2.1 does between its sub-models outside the exported graphs lives here,
each step named after the SAM 2.1 code it reproduces (``sam2/modeling/sam2_base.py``):

- :meth:`FrameGlue.memory_inputs` builds the static memory bank of ``memory_attention``
  (7 frame slots + 16 pointer slots, ``memory_valid`` switching unused slots off) from the
  entries :class:`~samurai_tracker.tracker.memory.MemoryBank` selected;
- :meth:`FrameGlue.object_pointer` is ``obj_ptr_proj`` (an MLP) plus the no-object
  pointer handling of ``_forward_sam_heads``;
- :meth:`FrameGlue.memory_mask` is the sigmoid-scaled (or binarised, on the prompted
  seed frame) mask of ``_encode_new_memory``;
- :meth:`FrameGlue.add_no_object` is ``no_obj_embed_spatial`` added to the memory of a
  frame whose object score is <= 0;
- :func:`pointer_positions` is ``obj_ptr_tpos_proj(get_1d_sine_pe(t / 15))``.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.engines.constants import SamuraiConstants
from samurai_tracker.engines.contract import MAX_OBJ_PTRS, NUM_MASKMEM, PTR_TOKENS
from samurai_tracker.tracker.array_ops import ArrayOps

__all__ = ['FrameGlue', 'NO_OBJ_SCORE', 'TrackingCandidates', 'pointer_positions',
           'sine_encoding', 'tracking_candidates']

NO_OBJ_SCORE = -1024.0
"""Mask logit SAM 2 writes where the object-score gate says "no object"."""


def sine_encoding(positions: npt.ArrayLike, dim: int,
                  temperature: float = 10000.0) -> npt.NDArray[np.float32]:
    """1-D sine positional encoding (SAM 2's ``get_1d_sine_pe``).

    Parameters
    ----------
    positions : array_like, shape (P,)
        Positions (any real numbers).
    dim : int
        Encoding width (even).

    Returns
    -------
    numpy.ndarray, shape (P, dim), float32
        ``[sin(p / T^(2 floor(i/2) / (dim/2))) for i < dim/2, then the cosines]``.

    """
    half = dim // 2
    exponent = 2.0 * (np.arange(half, dtype=np.float32) // 2) / half
    dim_t = np.power(np.float32(temperature), exponent).astype(np.float32)
    angles = np.asarray(positions, np.float32)[:, None] / dim_t
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=-1).astype(np.float32)


def pointer_positions(t_diffs: Sequence[int],
                      constants: SamuraiConstants) -> npt.NDArray[np.float32]:
    """Temporal positions of object pointers, shape (P, mem_dim), float32.

    ``t_diff / (max_obj_ptrs - 1)`` encoded with :func:`sine_encoding` at the hidden width
    and projected by ``obj_ptr_tpos_proj`` (when the model has that projection), or
    zeros for models without temporal pointer encodings.
    """
    mem_dim = int(constants['mem_dim'])
    hidden = int(constants['hidden_dim'])
    count = len(t_diffs)
    if not constants['add_tpos_enc_to_obj_ptrs']:
        return np.zeros((count, mem_dim), np.float32)
    t_max = int(constants['max_obj_ptrs_in_encoder']) - 1
    scaled = np.asarray(t_diffs, np.float32) / np.float32(t_max)
    if not constants['proj_tpos_enc_in_obj_ptrs']:
        return sine_encoding(scaled, mem_dim)
    encoding = sine_encoding(scaled, hidden)
    weight = constants['obj_ptr_tpos_proj_weight']
    bias = constants['obj_ptr_tpos_proj_bias']
    return (encoding @ weight.T + bias).astype(np.float32)


class TrackingCandidates(NamedTuple):
    """Which decoder outputs a tracking (unprompted) frame chooses among.

    Attributes
    ----------
    first : int
        Index of the first candidate among the decoder's mask tokens.
    number : int
        Number of candidates (3 with multimask output for tracking, else 1).
    pointer_from_choice : bool
        Whether the object pointer comes from the chosen candidate's token (else token 0).

    """

    first: int
    number: int
    pointer_from_choice: bool


def tracking_candidates(constants: SamuraiConstants) -> TrackingCandidates:
    """SAM 2's multimask rule for a frame with no prompt points (``_forward_sam_heads``)."""
    multimask = bool(constants['multimask_output_in_sam']) and bool(
        constants['multimask_output_for_tracking']) and int(
        constants['multimask_min_pt_num']) <= 0 <= int(constants['multimask_max_pt_num'])
    return TrackingCandidates(1 if multimask else 0, 3 if multimask else 1,
                              multimask and bool(constants['use_multimask_token_for_obj_ptr']))


class FrameGlue:
    """Constants uploaded once and the glue steps that use them.

    Parameters
    ----------
    constants : SamuraiConstants
        The export's constants file.
    ops : ArrayOps
        Array operations of the runtime's device.

    """

    def __init__(self, constants: SamuraiConstants, ops: ArrayOps) -> None:
        self.constants = constants
        self.ops = ops
        self.crop = constants.crop
        self.side = self.crop // int(constants['backbone_stride'])
        self.tokens_per_frame = self.side * self.side
        self.mem_dim = int(constants['mem_dim'])
        self.hidden = int(constants['hidden_dim'])
        up = ops.from_host
        self.no_mem_embed = up(constants['no_mem_embed'].reshape(1, self.hidden, 1, 1))
        self.no_obj_ptr = up(constants['no_obj_ptr'].reshape(1, self.hidden))
        no_obj_spatial = constants['no_obj_embed_spatial']
        self.no_obj_spatial = up(no_obj_spatial.reshape(1, self.mem_dim, 1, 1))
        self.image_pe = up(constants['image_pe'])
        self.empty_sparse = up(constants['empty_sparse'])
        self.empty_dense = up(constants['empty_dense'])
        self.tpos = constants['maskmem_tpos_enc'].astype(np.float32)  # host (7, 64)
        self.proj: List[Tuple[Any, Any]] = [
            (up(constants[f'obj_ptr_proj_weight_{i}'].T.copy()),
             up(constants[f'obj_ptr_proj_bias_{i}'][None]))
            for i in range(int(constants['obj_ptr_proj_layers']))]
        self.scale = float(constants['sigmoid_scale_for_mem_enc'])
        self.bias = float(constants['sigmoid_bias_for_mem_enc'])
        self._pos_tokens: Any = None  # maskmem_pos as tokens, constant for a crop size

    def conditioned_seed(self, image_embed: Any) -> Any:
        """Seed-frame embedding: ``image_embed + no_mem_embed`` (directly_add_no_mem_embed)."""
        return image_embed + self.no_mem_embed

    def object_pointer(self, token: Any, present: Any) -> Any:
        """Object pointer (1, 256) of a decoder token (1, 256).

        ``obj_ptr_proj`` (ReLU between layers); then, with object scores, a fixed
        no-object pointer: ``present * ptr + (1 - present) * no_obj_ptr`` (hard gate).
        ``present`` is a bool, or a 0/1 float array of shape (1,) on the device (the fused
        step decides it there).
        """
        x = token
        for index, (weight_t, bias) in enumerate(self.proj):
            x = x @ weight_t + bias
            if index < len(self.proj) - 1:
                x = self.ops.relu(x)
        if not self.constants['pred_obj_scores']:
            return x
        weight = (1.0 if present else 0.0) if isinstance(present, bool) else present
        if self.constants['fixed_no_obj_ptr']:
            x = x * weight
        return x + (1.0 - weight) * self.no_obj_ptr

    def memory_mask(self, high_res_logits: Any, binarize: bool) -> Any:
        """Mask input of the memory encoder from (1, 1, S, S) logits.

        ``sigmoid(logits) * scale + bias`` (scale 20, bias -10 for SAM 2.1), or
        ``(logits > 0) * scale + bias`` on a prompted frame when the export says to
        binarise (``binarize_mask_from_pts_for_mem_enc``).
        """
        prob = self.ops.positive(high_res_logits) if binarize else \
            self.ops.sigmoid(high_res_logits)
        return prob * self.scale + self.bias

    def add_no_object(self, maskmem_feat: Any, object_score: Any) -> Any:
        """Add ``no_obj_embed_spatial`` per channel when ``object_score <= 0``.

        ``object_score`` is a float, or a device array of shape (1,) (the fused step keeps
        it there; the gate is then applied arithmetically).
        """
        if not self.constants['has_no_obj_embed_spatial']:
            return maskmem_feat
        if isinstance(object_score, (int, float)):
            return maskmem_feat if object_score > 0 else maskmem_feat + self.no_obj_spatial
        absent = (object_score <= 0).float().reshape(1, 1, 1, 1)
        return maskmem_feat + absent * self.no_obj_spatial

    def remember_position(self, maskmem_pos: Any) -> None:
        """Keep the (constant) spatial encoding of memories, flattened to tokens."""
        if self._pos_tokens is None:
            self._pos_tokens = self.ops.tokens(maskmem_pos)

    def memory_inputs(self, frames: Sequence[Tuple[int, Any]],
                      pointers: Sequence[Tuple[int, Any]]) -> Tuple[Any, Any, Any]:
        """Build ``memory``, ``memory_pos`` and ``memory_valid`` for memory_attention.

        Parameters
        ----------
        frames : sequence of (t_pos, maskmem_feat)
            At most 7; ``maskmem_feat`` of shape (1, 64, S/16, S/16). Slot ``i`` gets the
            i-th; its position is the spatial encoding plus
            ``maskmem_tpos_enc[7 - t_pos - 1]``.
        pointers : sequence of (t_diff, obj_ptr)
            At most 16; ``obj_ptr`` of shape (1, 256), split into 4 tokens of 64 with the
            same temporal position.

        Returns
        -------
        memory, memory_pos : arrays, shape (M, 1, 64)
        memory_valid : array, shape (1, 23)

        """
        if self._pos_tokens is None:
            raise RuntimeError('memory_inputs before any memory was encoded')
        if not 1 <= len(frames) <= NUM_MASKMEM or len(pointers) > MAX_OBJ_PTRS:
            raise ValueError(f'need 1..{NUM_MASKMEM} frames and <= {MAX_OBJ_PTRS} pointers, '
                             f'got {len(frames)} and {len(pointers)}')
        ops = self.ops
        length = self.tokens_per_frame
        total = NUM_MASKMEM * length + MAX_OBJ_PTRS * PTR_TOKENS
        memory = ops.zeros((total, 1, self.mem_dim))
        memory_pos = ops.zeros((total, 1, self.mem_dim))
        valid = np.zeros((1, NUM_MASKMEM + MAX_OBJ_PTRS), np.float32)
        tpos = ops.from_host(self.tpos[[NUM_MASKMEM - t - 1 for t, _ in frames]])
        for slot, (_, feat) in enumerate(frames):
            rows = slice(slot * length, (slot + 1) * length)
            memory[rows] = ops.tokens(feat)
            memory_pos[rows] = self._pos_tokens + tpos[slot].reshape(1, 1, self.mem_dim)
            valid[0, slot] = 1.0
        if pointers:
            base = NUM_MASKMEM * length
            count = len(pointers)
            positions = pointer_positions([t for t, _ in pointers], self.constants)
            pos = np.repeat(positions, PTR_TOKENS, axis=0).reshape(-1, 1, self.mem_dim)
            stacked = [ptr.reshape(PTR_TOKENS, 1, self.mem_dim) for _, ptr in pointers]
            for index, tokens in enumerate(stacked):
                start = base + index * PTR_TOKENS
                memory[start:start + PTR_TOKENS] = tokens
            memory_pos[base:base + count * PTR_TOKENS] = ops.from_host(pos)
            valid[0, NUM_MASKMEM:NUM_MASKMEM + count] = 1.0
        return memory, memory_pos, ops.from_host(valid)
