"""Memory attention with a static memory bank, real-valued rotary encoding and slot masks.

SAM 2's ``MemoryAttention`` takes a memory of variable length (1..7 mask memories plus
0..16 object pointers) and applies its rotary position encoding (RoPE) through complex
tensors, which the ONNX exporter cannot trace. :class:`MemoryAttentionModel` runs the
same layers (the original ``LayerNorm``/``Linear`` modules and projections) with

- a static memory of ``NUM_MASKMEM`` frame slots of ``L`` tokens followed by
  ``MAX_OBJ_PTRS`` pointer slots of ``PTR_TOKENS`` tokens (7232 tokens at S=512), so a
  TensorRT engine is planned once;
- a ``memory_valid`` [1, 23] input: unused slots get an additive key bias of ``MASK_NEG``
  in the cross attention, so their softmax weight is exactly 0 and the output equals the
  reference run on only the used memories (RoPE is identical for every frame slot, so
  the fixed 7-frame tiling changes nothing for the used ones);
- RoPE as real arithmetic on (even, odd) channel pairs with cos/sin tables taken from the
  module's own ``compute_cis`` for the ``(S/16) x (S/16)`` grid of the current frame.

Imports torch at import time: import it only where torch is needed.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import torch
from torch import nn, Tensor
import torch.nn.functional as F

from samurai_tracker.engines.contract import (
    BACKBONE_STRIDE,
    MASK_NEG,
    MAX_OBJ_PTRS,
    NUM_MASKMEM,
    PTR_TOKENS,
)

__all__ = ['MemoryAttentionModel', 'rope_tables', 'rotate_pairs']


def rope_tables(attention: Any, side: int) -> Tuple[Tensor, Tensor]:
    """Return cos and sin [side*side, head_dim/2] of a ``RoPEAttention`` for a square grid.

    Uses the module's own ``compute_cis`` (``compute_axial_cis`` with its theta and head
    dimension), the table the reference recomputes when the grid is not its default.
    """
    freqs = attention.compute_cis(end_x=side, end_y=side)
    return freqs.real.float().contiguous(), freqs.imag.float().contiguous()


def rotate_pairs(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate channel pairs of ``x`` [..., N, D] by angles with ``cos``/``sin`` [N, D/2].

    Pair ``(x[2i], x[2i+1])`` is the complex number ``x[2i] + j x[2i+1]`` multiplied by
    ``cos + j sin``, as in ``apply_rotary_enc``. ``cos``/``sin`` broadcast over leading
    dimensions of ``x``.
    """
    pairs = x.reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
    real, imag = pairs[..., 0], pairs[..., 1]
    out = torch.stack([real * cos - imag * sin, real * sin + imag * cos], dim=-1)
    return out.reshape(x.shape)


class MemoryAttentionModel(nn.Module):
    """``curr, curr_pos, memory, memory_pos, memory_valid`` -> ``conditioned``.

    Parameters
    ----------
    memory_attention : sam2.modeling.memory_attention.MemoryAttention
        The original module (its layers, norms and projections are used as they are).
    crop : int
        Crop side S; the current frame has ``(S/16)**2`` tokens.

    """

    cos_self: Tensor
    sin_self: Tensor
    cos_cross: Tensor
    sin_cross: Tensor

    def __init__(self, memory_attention: Any, crop: int) -> None:
        super().__init__()
        self.attention = memory_attention
        self.side = crop // BACKBONE_STRIDE
        self.tokens = self.side * self.side
        first = memory_attention.layers[0]
        cos_self, sin_self = rope_tables(first.self_attn, self.side)
        cos_cross, sin_cross = rope_tables(first.cross_attn_image, self.side)
        self.register_buffer('cos_self', cos_self, persistent=False)
        self.register_buffer('sin_self', sin_self, persistent=False)
        self.register_buffer('cos_cross', cos_cross, persistent=False)
        self.register_buffer('sin_cross', sin_cross, persistent=False)
        if not first.cross_attn_image.rope_k_repeat:
            raise ValueError('memory cross attention without rope_k_repeat: not SAM 2.1')

    def _attend(self, module: Any, q: Tensor, k: Tensor, v: Tensor, cos: Tensor, sin: Tensor,
                rope_keys: int, key_bias: Optional[Tensor]) -> Tensor:
        """One ``RoPEAttention`` (batch first) with ``rope_keys`` leading keys rotated."""
        q = module._separate_heads(module.q_proj(q), module.num_heads)
        k = module._separate_heads(module.k_proj(k), module.num_heads)
        v = module._separate_heads(module.v_proj(v), module.num_heads)
        q = rotate_pairs(q, cos, sin)
        if rope_keys == k.shape[-2]:
            k = rotate_pairs(k, cos, sin)
        else:
            batch, heads, _, dim = k.shape
            frames = rope_keys // self.tokens
            k_rope = k[:, :, :rope_keys].reshape(batch, heads, frames, self.tokens, dim)
            k_rope = rotate_pairs(k_rope, cos, sin).reshape(batch, heads, rope_keys, dim)
            k = torch.cat([k_rope, k[:, :, rope_keys:]], dim=2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=key_bias)
        return module.out_proj(module._recombine_heads(out))

    def key_bias(self, memory_valid: Tensor) -> Tensor:
        """Expand slot validity [1, 23] into an additive key bias [1, 1, 1, M]."""
        frames = memory_valid[:, :NUM_MASKMEM].unsqueeze(-1).expand(
            -1, NUM_MASKMEM, self.tokens).reshape(1, NUM_MASKMEM * self.tokens)
        pointers = memory_valid[:, NUM_MASKMEM:].unsqueeze(-1).expand(
            -1, MAX_OBJ_PTRS, PTR_TOKENS).reshape(1, MAX_OBJ_PTRS * PTR_TOKENS)
        valid = torch.cat([frames, pointers], dim=1)
        return ((1.0 - valid) * MASK_NEG).reshape(1, 1, 1, -1)

    def forward(self, curr: Tensor, curr_pos: Tensor, memory: Tensor, memory_pos: Tensor,
                memory_valid: Optional[Tensor]) -> Tensor:
        """Condition ``curr`` [L,1,256] on the static memory [M,1,64]; returns [L,1,256].

        ``memory_valid`` None means every slot is in use (the steady state of a track):
        the cross attention then runs without a key bias, which lets PyTorch pick its
        fused (flash) attention kernels; the result equals an all-ones ``memory_valid``.
        """
        attention = self.attention
        output = curr
        if attention.pos_enc_at_input:
            output = output + 0.1 * curr_pos
        output = output.transpose(0, 1)
        query_pos = curr_pos.transpose(0, 1)
        memory = memory.transpose(0, 1)
        memory_pos = memory_pos.transpose(0, 1)
        bias = self.key_bias(memory_valid) if memory_valid is not None else None
        rope_keys = NUM_MASKMEM * self.tokens
        for layer in attention.layers:
            normed = layer.norm1(output)
            q = k = normed + query_pos if layer.pos_enc_at_attn else normed
            output = output + self._attend(layer.self_attn, q, k, normed, self.cos_self,
                                           self.sin_self, self.tokens, None)
            normed = layer.norm2(output)
            q = normed + query_pos if layer.pos_enc_at_cross_attn_queries else normed
            k = memory + memory_pos if layer.pos_enc_at_cross_attn_keys else memory
            output = output + self._attend(layer.cross_attn_image, q, k, memory,
                                           self.cos_cross, self.sin_cross, rope_keys, bias)
            normed = layer.norm3(output)
            output = output + layer.linear2(layer.activation(layer.linear1(normed)))
        return attention.norm(output).transpose(0, 1)
