"""Export wrappers: four of SAM 2.1's sub-models with the I/O of ``engines.contract``.

Each wrapper holds the *original* sam2 sub-module and only changes what does not export
or does not build in TensorRT, keeping the arithmetic identical:

- :class:`ImageEncoderModel`: image encoder plus the decoder's ``conv_s0``/``conv_s1``
  projections of the two high-resolution levels (what ``SAM2Base.forward_image`` does).
- :class:`PromptEncoderBox`: the box prompt (two corners, labels 2 and 3, plus the
  padding point) written as slices and concatenation instead of boolean-mask
  ``torch.where`` chains, which also keeps it capturable in a CUDA graph.
- :class:`MaskDecoderModel`: ``MaskDecoder.predict_masks`` for batch 1 without
  ``repeat_interleave`` (a no-op at batch 1 that traces host-side indices), and the four
  hypernetwork MLPs stacked into one batched einsum per layer (TensorRT 10.3 mis-built
  the per-token Slice -> Gemm loop); all four candidates are returned.
- :class:`MemoryEncoderModel`: the memory encoder with the sigmoid skipped (the runtime
  scales the mask, as ``SAM2Base._encode_new_memory`` does).

The memory attention lives in :mod:`samurai_tracker.engines.memory_attention_model`.
This module imports torch at import time: import it only where torch is needed.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import torch
from torch import nn, Tensor

__all__ = [
    'BatchedHypernetwork',
    'ImageEncoderModel',
    'MaskDecoderModel',
    'MemoryEncoderModel',
    'PromptEncoderBox',
    'build_wrappers',
]


class ImageEncoderModel(nn.Module):
    """Image encoder -> ``feat_s0, feat_s1, image_embed, pos_s0, pos_s1, image_pos``.

    Parameters
    ----------
    sam2_model : SAM2Base
        Source of ``image_encoder`` and ``sam_mask_decoder.conv_s0/conv_s1``.

    """

    def __init__(self, sam2_model: Any) -> None:
        super().__init__()
        if not sam2_model.use_high_res_features_in_sam:
            raise ValueError('SAM 2.1 model without high-res features: not supported')
        self.image_encoder = sam2_model.image_encoder
        self.conv_s0 = sam2_model.sam_mask_decoder.conv_s0
        self.conv_s1 = sam2_model.sam_mask_decoder.conv_s1

    def forward(self, image: Tensor) -> Tuple[Tensor, ...]:
        """Encode ``image`` [1,3,S,S] (normalised RGB); shapes in the contract."""
        out = self.image_encoder(image)
        fpn, pos = out['backbone_fpn'], out['vision_pos_enc']
        return (self.conv_s0(fpn[0]), self.conv_s1(fpn[1]), out['vision_features'],
                pos[0], pos[1], pos[2])


class PromptEncoderBox(nn.Module):
    """Box prompt -> ``sparse`` [1,3,256], ``dense`` [1,256,S/16,S/16].

    Same values as ``PromptEncoder(points=(box corners, labels [[2, 3]]), boxes=None,
    masks=None)``, which is how SAM 2's video predictor feeds a box.

    Parameters
    ----------
    prompt_encoder : sam2.modeling.sam.prompt_encoder.PromptEncoder
        The original prompt encoder (its weights and random-Fourier PE are used).

    """

    size_xy: Tensor

    def __init__(self, prompt_encoder: Any) -> None:
        super().__init__()
        self.pe = prompt_encoder
        height, width = prompt_encoder.input_image_size
        self.register_buffer('size_xy', torch.tensor([float(width), float(height)]),
                             persistent=False)

    def forward(self, box: Tensor) -> Tuple[Tensor, Tensor]:
        """Embed ``box`` [1,2,2] corners in crop-input pixels."""
        batch = box.shape[0]
        points = torch.cat([box + 0.5, torch.zeros_like(box[:, :1, :])], dim=1)
        embedded = self.pe.pe_layer._pe_encoding(points / self.size_xy)
        corner0 = embedded[:, 0:1, :] + self.pe.point_embeddings[2].weight
        corner1 = embedded[:, 1:2, :] + self.pe.point_embeddings[3].weight
        padding = torch.zeros_like(embedded[:, 2:3, :]) + self.pe.not_a_point_embed.weight
        sparse = torch.cat([corner0, corner1, padding], dim=1)
        height, width = self.pe.image_embedding_size
        dense = self.pe.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(
            batch, -1, height, width)
        return sparse, dense


class BatchedHypernetwork(nn.Module):
    """The decoder's per-token hypernetwork MLPs as one einsum per layer.

    Parameters
    ----------
    mlps : sequence of sam2 MLP
        ``output_hypernetworks_mlps``: one MLP (ReLU between layers) per mask token.

    """

    def __init__(self, mlps: Any) -> None:
        super().__init__()
        self.num_layers = int(mlps[0].num_layers)
        for index in range(self.num_layers):
            weight = torch.stack([m.layers[index].weight.detach() for m in mlps], 0)
            bias = torch.stack([m.layers[index].bias.detach() for m in mlps], 0)
            self.register_buffer(f'weight{index}', weight)  # [tokens, out, in]
            self.register_buffer(f'bias{index}', bias)  # [tokens, out]

    def forward(self, tokens: Tensor) -> Tensor:
        """Map ``tokens`` [B, tokens, 256] to hypernetwork outputs [B, tokens, 32]."""
        x = tokens
        for index in range(self.num_layers):
            x = torch.einsum('bni,noi->bno', x, getattr(self, f'weight{index}'))
            x = x + getattr(self, f'bias{index}')
            if index < self.num_layers - 1:
                x = torch.relu(x)
        return x


class MaskDecoderModel(nn.Module):
    """Mask decoder -> ``masks, iou_pred, mask_tokens, object_score_logits`` (all 4).

    Parameters
    ----------
    mask_decoder : sam2.modeling.sam.mask_decoder.MaskDecoder
        The original decoder (high-res features and object scores enabled, as in SAM 2.1).

    """

    def __init__(self, mask_decoder: Any) -> None:
        super().__init__()
        if not (mask_decoder.use_high_res_features and mask_decoder.pred_obj_scores):
            raise ValueError('mask decoder without high-res features or object scores: '
                             'not a SAM 2.1 decoder')
        self.decoder = mask_decoder
        self.hyper = BatchedHypernetwork(mask_decoder.output_hypernetworks_mlps)

    def forward(self, image_embed: Tensor, image_pe: Tensor, sparse: Tensor, dense: Tensor,
                feat_s0: Tensor, feat_s1: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Decode; shapes in the contract (batch 1, ``sparse`` with 2 or 3 points)."""
        dec = self.decoder
        output_tokens = torch.cat([dec.obj_score_token.weight, dec.iou_token.weight,
                                   dec.mask_tokens.weight], dim=0)
        tokens = torch.cat([output_tokens.unsqueeze(0), sparse], dim=1)
        src = image_embed + dense
        batch, channels, height, width = src.shape
        hs, src = dec.transformer(src, image_pe, tokens)
        iou_token_out = hs[:, 1, :]
        mask_tokens_out = hs[:, 2:2 + dec.num_mask_tokens, :]
        src = src.transpose(1, 2).reshape(batch, channels, height, width)
        dc1, ln1, act1, dc2, act2 = dec.output_upscaling
        upscaled = act1(ln1(dc1(src) + feat_s1))
        upscaled = act2(dc2(upscaled) + feat_s0)
        hyper_in = self.hyper(mask_tokens_out)
        _, up_channels, up_h, up_w = upscaled.shape
        masks = (hyper_in @ upscaled.reshape(batch, up_channels, up_h * up_w)).reshape(
            batch, -1, up_h, up_w)
        iou_pred = dec.iou_prediction_head(iou_token_out)
        object_score_logits = dec.pred_obj_score_head(hs[:, 0, :])
        return masks, iou_pred, mask_tokens_out, object_score_logits


class MemoryEncoderModel(nn.Module):
    """Memory encoder -> ``maskmem_feat``, ``maskmem_pos``.

    Parameters
    ----------
    memory_encoder : sam2.modeling.memory_encoder.MemoryEncoder
        The original memory encoder.

    """

    def __init__(self, memory_encoder: Any) -> None:
        super().__init__()
        self.memory_encoder = memory_encoder

    def forward(self, pix_feat: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
        """Encode ``pix_feat`` [1,256,h,w] with the scaled ``mask`` [1,1,S,S]."""
        out = self.memory_encoder(pix_feat, mask, skip_mask_sigmoid=True)
        return out['vision_features'], out['vision_pos_enc'][0]


def build_wrappers(sam2_model: Any, crop: int) -> Dict[str, nn.Module]:
    """Return the five contract models of ``sam2_model`` keyed by model name, in eval mode.

    Parameters
    ----------
    sam2_model : SAM2Base
        Built for ``image_size == crop``.
    crop : int
        Crop side S in pixels.

    """
    from samurai_tracker.engines.memory_attention_model import MemoryAttentionModel

    if int(sam2_model.image_size) != crop:
        raise ValueError(f'model image_size {sam2_model.image_size} != crop {crop}')
    modules: Dict[str, nn.Module] = {
        'image_encoder': ImageEncoderModel(sam2_model),
        'prompt_encoder': PromptEncoderBox(sam2_model.sam_prompt_encoder),
        'mask_decoder': MaskDecoderModel(sam2_model.sam_mask_decoder),
        'memory_encoder': MemoryEncoderModel(sam2_model.memory_encoder),
        'memory_attention': MemoryAttentionModel(sam2_model.memory_attention, crop),
    }
    return {name: module.eval() for name, module in modules.items()}
