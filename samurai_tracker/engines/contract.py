"""The I/O contract of SAMURAI's five exported models and of the constants file.

This module is the single source of truth shared by the exporter (this package), the
backends (ONNX Runtime, TensorRT, PyTorch) and the per-frame runtime
(``samurai_tracker.tracker``). It holds no torch code: the runtime imports it on machines
without torch.

Shapes are written with symbolic dimensions resolved by :func:`resolve_dim` for a crop
size ``S`` (the side of the square image the encoder sees, 512 by default, 1024 for
full-frame mode):

``S``            crop side in pixels
``S/4``, ``S/8``  high-resolution feature map sides (strides 4 and 8)
``S/16``         image-embedding side ``h = w`` (stride 16)
``L``            current-frame tokens, ``(S/16)**2`` (1024 at S=512, 4096 at S=1024)
``M``            static memory tokens, ``NUM_MASKMEM * L + MAX_OBJ_PTRS * PTR_TOKENS``
                 (7232 at S=512, 28736 at S=1024)
``num_points``   dynamic: 3 for the box seed, 2 for the empty tracking prompt

Every tensor is float32 at the model boundary (TensorRT fp16 engines keep fp32 I/O).

Per-frame flow the contract is built for (SAM 2.1 ``SAM2Base._track_step``):

1. ``image_encoder(image)`` -> features and positional encodings.
2. Seed frame: ``image_embed + no_mem_embed`` (``directly_add_no_mem_embed``) is the
   conditioned embedding; tracking frames: ``memory_attention`` over the memory bank,
   whose ``conditioned`` [L,1,256] output is permuted to [1,256,h,w] by the runtime.
3. ``prompt_encoder(box)`` on the seed frame, or the constants ``empty_sparse`` /
   ``empty_dense`` on tracking frames, then ``mask_decoder`` -> all four candidates.
   Candidate selection, the object pointer (``obj_ptr_proj`` MLP from the constants)
   and the no-object handling stay in the runtime.
4. ``memory_encoder(image_embed, mask_for_mem)`` with the *unconditioned* ``image_embed``
   and ``mask_for_mem = sigmoid(upsampled_mask) * sigmoid_scale + sigmoid_bias``;
   the runtime adds ``no_obj_embed_spatial`` when the object score is <= 0.

Memory layout of ``memory_attention`` (static; unused slots are switched off exactly by
``memory_valid``, so the result equals SAM 2's variable-length attention):

- tokens ``[i*L, (i+1)*L)`` for slot ``i`` in ``0..NUM_MASKMEM-1``: one mask memory,
  ``maskmem_feat`` flattened to [L,1,64]; its position is ``maskmem_pos`` flattened
  plus ``maskmem_tpos_enc[NUM_MASKMEM - t_pos - 1]`` (t_pos 0 = conditioning frame).
  Rotary encoding is applied to these tokens with the current frame's table tiled per
  slot, so slot order does not matter.
- tokens ``[NUM_MASKMEM*L + 4*j, NUM_MASKMEM*L + 4*j + 4)`` for pointer slot ``j`` in
  ``0..MAX_OBJ_PTRS-1``: one 256-d object pointer split into 4 tokens of 64 (SAM 2's
  reshape(-1, 4, 64)), each with the same position: ``obj_ptr_tpos_proj`` of the 1-D
  sine encoding of ``t_diff / (MAX_OBJ_PTRS - 1)``. No rotary encoding on pointers.
- ``memory_valid[0, slot]`` is 1.0 for a used slot and 0.0 for an unused one (slots
  ``0..6`` frames, ``7..22`` pointers). At least one slot must be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Tuple

from samurai_tracker.backends.base import TensorSpec

__all__ = [
    'BACKBONE_STRIDE',
    'CONSTANTS_FILE',
    'CONSTANTS_FORMAT_VERSION',
    'CONSTANTS_META_FILE',
    'CONSTANT_ARRAYS',
    'CONSTANT_SCALARS',
    'CONTRACT_VERSION',
    'DEFAULT_CROP',
    'HIDDEN_DIM',
    'IMAGE_MEAN',
    'IMAGE_STD',
    'MANIFEST_FILE',
    'MASK_NEG',
    'MAX_OBJ_PTRS',
    'MEMORY_SLOTS',
    'MEM_DIM',
    'MODELS',
    'MODEL_NAMES',
    'ModelContract',
    'NUM_MASKMEM',
    'NUM_MASK_TOKENS',
    'PARITY_FILE',
    'PTR_TOKENS',
    'SUPPORTED_CROPS',
    'TensorContract',
    'memory_tokens',
    'model_contract',
    'resolve_dim',
]

CONTRACT_VERSION = 1
"""Bumped whenever a name, shape or meaning below changes."""

DEFAULT_CROP = 512
SUPPORTED_CROPS: Tuple[int, ...] = (512, 1024)
BACKBONE_STRIDE = 16
HIDDEN_DIM = 256
"""Transformer width of every SAM 2.1 size (``image_encoder.neck.d_model``)."""
MEM_DIM = 64
"""Memory channel width of every SAM 2.1 size (``memory_encoder.out_proj``)."""
NUM_MASKMEM = 7
"""Mask-memory frames: the conditioning frame plus 6 recent ones."""
MAX_OBJ_PTRS = 16
"""Object pointers cross-attended (``max_obj_ptrs_in_encoder``)."""
PTR_TOKENS = HIDDEN_DIM // MEM_DIM
"""Memory tokens per object pointer (4: a 256-d pointer split into 64-d tokens)."""
MEMORY_SLOTS = NUM_MASKMEM + MAX_OBJ_PTRS
"""Entries of ``memory_valid``: 7 frame slots then 16 pointer slots."""
NUM_MASK_TOKENS = 4
"""Mask candidates of the decoder: token 0 single-mask, tokens 1..3 multimask."""
MASK_NEG = -30000.0
"""Additive attention bias of an unused memory token (finite so fp16 engines stay finite;
``exp(-30000)`` is exactly 0 in float32 and float16)."""

IMAGE_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGE_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)
"""SAM 2 preprocessing: RGB, ``(pixel / 255 - IMAGE_MEAN) / IMAGE_STD``, per channel."""

MANIFEST_FILE = 'manifest.json'
CONSTANTS_FILE = 'samurai_constants.npz'
CONSTANTS_META_FILE = 'samurai_constants.json'
PARITY_FILE = 'parity.json'
CONSTANTS_FORMAT_VERSION = 1


def memory_tokens(crop: int) -> int:
    """Return the static memory length ``M`` for crop side ``crop`` (7232 at 512)."""
    side = crop // BACKBONE_STRIDE
    return NUM_MASKMEM * side * side + MAX_OBJ_PTRS * PTR_TOKENS


def resolve_dim(dim: str, crop: int) -> int | str:
    """Resolve one symbolic dimension for crop side ``crop``.

    Parameters
    ----------
    dim : str
        An integer literal, ``'S'``, ``'S/4'``, ``'S/8'``, ``'S/16'``, ``'L'``, ``'M'``,
        or a dynamic-axis name (returned unchanged).
    crop : int
        Crop side S in pixels; one of ``SUPPORTED_CROPS``.

    Returns
    -------
    int or str
        The size, or the dynamic-axis name.

    """
    side = crop // BACKBONE_STRIDE
    table: Dict[str, int] = {
        'S': crop, 'S/4': crop // 4, 'S/8': crop // 8, 'S/16': side,
        'L': side * side, 'M': memory_tokens(crop),
    }
    if dim in table:
        return table[dim]
    if dim.lstrip('-').isdigit():
        return int(dim)
    return dim


@dataclass(frozen=True)
class TensorContract:
    """One model input or output: name, symbolic shape, dtype, meaning and origin.

    Parameters
    ----------
    name : str
        Tensor name in the ONNX file and engine.
    dims : tuple of str
        Symbolic shape, resolved by :func:`resolve_dim`.
    dtype : str
        numpy dtype name (always ``'float32'`` here).
    meaning : str
        What the values are, with units.
    sam2_source : str
        The SAM 2.1 tensor it equals (for parity and for readers of the reference).

    """

    name: str
    dims: Tuple[str, ...]
    dtype: str
    meaning: str
    sam2_source: str

    def spec(self, crop: int) -> TensorSpec:
        """Return the concrete :class:`TensorSpec` at crop side ``crop``."""
        return TensorSpec(self.name, tuple(resolve_dim(d, crop) for d in self.dims),
                          self.dtype)


@dataclass(frozen=True)
class ModelContract:
    """Inputs and outputs of one exported model, in model order.

    Parameters
    ----------
    name : str
        Model name; the file is ``<name>.onnx`` (``<name>.engine`` for TensorRT).
    inputs, outputs : tuple of TensorContract
        In the order of the ONNX graph.
    purpose : str
        One line on what the model does in the per-frame flow.

    """

    name: str
    inputs: Tuple[TensorContract, ...]
    outputs: Tuple[TensorContract, ...]
    purpose: str

    def input_specs(self, crop: int) -> Tuple[TensorSpec, ...]:
        """Concrete input specs at crop side ``crop``."""
        return tuple(t.spec(crop) for t in self.inputs)

    def output_specs(self, crop: int) -> Tuple[TensorSpec, ...]:
        """Concrete output specs at crop side ``crop``."""
        return tuple(t.spec(crop) for t in self.outputs)

    @property
    def input_names(self) -> Tuple[str, ...]:
        """Input names in model order."""
        return tuple(t.name for t in self.inputs)

    @property
    def output_names(self) -> Tuple[str, ...]:
        """Output names in model order."""
        return tuple(t.name for t in self.outputs)

    @property
    def file_name(self) -> str:
        """ONNX file name inside a model directory."""
        return self.name + '.onnx'


_F = 'float32'
_PE = 'sine positional encoding (PositionEmbeddingSine), constant for a given S'

IMAGE_ENCODER = ModelContract(
    name='image_encoder',
    purpose='Hiera trunk + FPN neck on one crop; high-res levels projected by conv_s0/conv_s1',
    inputs=(
        TensorContract('image', ('1', '3', 'S', 'S'), _F,
                       'RGB crop resized to SxS, (pixel/255 - IMAGE_MEAN) / IMAGE_STD',
                       'img_batch of SAM2Base.forward_image'),
    ),
    outputs=(
        TensorContract('feat_s0', ('1', '32', 'S/4', 'S/4'), _F,
                       'stride-4 features after sam_mask_decoder.conv_s0',
                       'forward_image()["backbone_fpn"][0]'),
        TensorContract('feat_s1', ('1', '64', 'S/8', 'S/8'), _F,
                       'stride-8 features after sam_mask_decoder.conv_s1',
                       'forward_image()["backbone_fpn"][1]'),
        TensorContract('image_embed', ('1', '256', 'S/16', 'S/16'), _F,
                       'stride-16 image embedding (unconditioned pixel features)',
                       'forward_image()["vision_features"] == backbone_fpn[2]'),
        TensorContract('pos_s0', ('1', '256', 'S/4', 'S/4'), _F, _PE,
                       'forward_image()["vision_pos_enc"][0]'),
        TensorContract('pos_s1', ('1', '256', 'S/8', 'S/8'), _F, _PE,
                       'forward_image()["vision_pos_enc"][1]'),
        TensorContract('image_pos', ('1', '256', 'S/16', 'S/16'), _F,
                       _PE + '; flattened to [L,1,256] it is memory_attention.curr_pos',
                       'forward_image()["vision_pos_enc"][2]'),
    ),
)

PROMPT_ENCODER = ModelContract(
    name='prompt_encoder',
    purpose='box seed -> sparse (2 corners + padding point) and dense (no-mask) embeddings',
    inputs=(
        TensorContract('box', ('1', '2', '2'), _F,
                       'box corners [[x1, y1], [x2, y2]] in crop-input pixels (0..S)',
                       'point_coords of a box prompt (labels 2, 3), before the +0.5 shift'),
    ),
    outputs=(
        TensorContract('sparse', ('1', '3', '256'), _F,
                       'corner embeddings + not-a-point padding embedding',
                       'sam_prompt_encoder(points=(coords, [[2, 3]]))[0]'),
        TensorContract('dense', ('1', '256', 'S/16', 'S/16'), _F,
                       'no_mask_embed broadcast over the embedding grid',
                       'sam_prompt_encoder(...)[1] with masks=None'),
    ),
)

MASK_DECODER = ModelContract(
    name='mask_decoder',
    purpose='two-way transformer + upscaling; all 4 candidates, no selection inside',
    inputs=(
        TensorContract('image_embed', ('1', '256', 'S/16', 'S/16'), _F,
                       'conditioned embedding: image_embed + no_mem_embed on the seed frame, '
                       'memory_attention.conditioned permuted to [1,256,h,w] otherwise',
                       'backbone_features of _forward_sam_heads (pix_feat_with_mem)'),
        TensorContract('image_pe', ('1', '256', 'S/16', 'S/16'), _F,
                       'dense prompt positional encoding (constants image_pe)',
                       'sam_prompt_encoder.get_dense_pe()'),
        TensorContract('sparse', ('1', 'num_points', '256'), _F,
                       'prompt tokens: prompt_encoder.sparse (3) or constants empty_sparse (2)',
                       'sparse_prompt_embeddings'),
        TensorContract('dense', ('1', '256', 'S/16', 'S/16'), _F,
                       'prompt_encoder.dense or constants empty_dense (identical values)',
                       'dense_prompt_embeddings'),
        TensorContract('feat_s0', ('1', '32', 'S/4', 'S/4'), _F,
                       'image_encoder.feat_s0', 'high_res_features[0]'),
        TensorContract('feat_s1', ('1', '64', 'S/8', 'S/8'), _F,
                       'image_encoder.feat_s1', 'high_res_features[1]'),
    ),
    outputs=(
        TensorContract('masks', ('1', '4', 'S/4', 'S/4'), _F,
                       'mask logits of the 4 tokens (0: single-mask, 1..3: multimask)',
                       'sam_mask_decoder.predict_masks(...)[0]'),
        TensorContract('iou_pred', ('1', '4'), _F,
                       'predicted IoU of each candidate, already sigmoid-ed (0..1)',
                       'predict_masks(...)[1]'),
        TensorContract('mask_tokens', ('1', '4', '256'), _F,
                       'SAM output tokens; obj_ptr = obj_ptr_proj(token of the chosen mask)',
                       'predict_masks(...)[2]'),
        TensorContract('object_score_logits', ('1', '1'), _F,
                       'object presence logit (> 0: object visible)',
                       'predict_masks(...)[3]'),
    ),
)

MEMORY_ENCODER = ModelContract(
    name='memory_encoder',
    purpose='fuse the unconditioned pixel features with the chosen mask into a memory',
    inputs=(
        TensorContract('pix_feat', ('1', '256', 'S/16', 'S/16'), _F,
                       'image_encoder.image_embed of the same frame (NOT conditioned)',
                       'pix_feat of _encode_new_memory'),
        TensorContract('mask', ('1', '1', 'S', 'S'), _F,
                       'sigmoid(mask logits upsampled to S) * sigmoid_scale + sigmoid_bias '
                       '(binarised instead on point-prompted frames when the flag says so)',
                       'mask_for_mem of _encode_new_memory'),
    ),
    outputs=(
        TensorContract('maskmem_feat', ('1', '64', 'S/16', 'S/16'), _F,
                       'mask-memory features (runtime adds no_obj_embed_spatial if no object)',
                       'memory_encoder(...)["vision_features"]'),
        TensorContract('maskmem_pos', ('1', '64', 'S/16', 'S/16'), _F,
                       _PE, 'memory_encoder(...)["vision_pos_enc"][0]'),
    ),
)

MEMORY_ATTENTION = ModelContract(
    name='memory_attention',
    purpose='condition the current tokens on 7 frame memories + 16 object pointers',
    inputs=(
        TensorContract('curr', ('L', '1', '256'), _F,
                       'image_embed flattened seq-first: flatten(2).permute(2, 0, 1)',
                       'current_vision_feats[-1]'),
        TensorContract('curr_pos', ('L', '1', '256'), _F,
                       'image_pos flattened seq-first', 'current_vision_pos_embeds[-1]'),
        TensorContract('memory', ('M', '1', '64'), _F,
                       'static memory bank, layout in the module docstring',
                       'memory (torch.cat(to_cat_memory))'),
        TensorContract('memory_pos', ('M', '1', '64'), _F,
                       'positions of the memory tokens (spatial + temporal)',
                       'memory_pos (torch.cat(to_cat_memory_pos_embed))'),
        TensorContract('memory_valid', ('1', str(MEMORY_SLOTS)), _F,
                       '1.0 used / 0.0 unused per slot: 7 frame slots then 16 pointer slots',
                       'none: SAM 2 concatenates only the used memories'),
    ),
    outputs=(
        TensorContract('conditioned', ('L', '1', '256'), _F,
                       'memory-conditioned tokens; permute(1, 2, 0).view(1, 256, h, w) '
                       'gives mask_decoder.image_embed',
                       'memory_attention(...) output'),
    ),
)

MODELS: Mapping[str, ModelContract] = {
    m.name: m for m in (IMAGE_ENCODER, PROMPT_ENCODER, MASK_DECODER, MEMORY_ENCODER,
                        MEMORY_ATTENTION)
}
MODEL_NAMES: Tuple[str, ...] = tuple(MODELS)


def model_contract(name: str) -> ModelContract:
    """Return the contract of model ``name``; raise ``KeyError`` naming the valid ones."""
    if name not in MODELS:
        raise KeyError(f'unknown model {name!r}; expected one of {", ".join(MODEL_NAMES)}')
    return MODELS[name]


# Constants file: samurai_constants.npz (arrays, float32 unless said) + its JSON metadata.
# Key -> (symbolic shape, meaning / SAM 2.1 origin).
CONSTANT_ARRAYS: Mapping[str, Tuple[Tuple[str, ...], str]] = {
    'maskmem_tpos_enc': (('7', '64'), 'SAM2Base.maskmem_tpos_enc [7,1,1,64] squeezed; row '
                         'NUM_MASKMEM - t_pos - 1 is added to a memory with t_pos'),
    'no_mem_embed': (('1', '256'), 'SAM2Base.no_mem_embed [1,1,256] squeezed; added to '
                     'image_embed (as [1,256,1,1]) on the seed frame'),
    'no_mem_pos_enc': (('1', '256'), 'SAM2Base.no_mem_pos_enc [1,1,256] squeezed'),
    'no_obj_ptr': (('1', '256'), 'SAM2Base.no_obj_ptr: pointer used when no object'),
    'no_obj_embed_spatial': (('1', '64'), 'SAM2Base.no_obj_embed_spatial; added per channel '
                             'to maskmem_feat when object_score_logits <= 0 (zeros if '
                             'has_no_obj_embed_spatial is 0)'),
    'obj_ptr_proj_weight_{i}': (('256', '256'), 'SAM2Base.obj_ptr_proj.layers[i].weight '
                                '(out x in), i < obj_ptr_proj_layers; ReLU between layers'),
    'obj_ptr_proj_bias_{i}': (('256',), 'SAM2Base.obj_ptr_proj.layers[i].bias'),
    'obj_ptr_tpos_proj_weight': (('64', '256'), 'SAM2Base.obj_ptr_tpos_proj.weight'),
    'obj_ptr_tpos_proj_bias': (('64',), 'SAM2Base.obj_ptr_tpos_proj.bias'),
    'image_pe': (('1', '256', 'S/16', 'S/16'), 'sam_prompt_encoder.get_dense_pe()'),
    'empty_sparse': (('1', '2', '256'), 'sparse embedding of the empty prompt (one padding '
                     'point, padded again: 2 x not_a_point_embed)'),
    'empty_dense': (('1', '256', 'S/16', 'S/16'), 'dense embedding without a mask input'),
    'no_mask_embed': (('1', '256'), 'sam_prompt_encoder.no_mask_embed.weight'),
    'image_mean': (('3',), 'IMAGE_MEAN'),
    'image_std': (('3',), 'IMAGE_STD'),
}
"""Arrays of the constants file. ``{i}`` keys repeat for i in 0..obj_ptr_proj_layers-1."""

CONSTANT_SCALARS: Mapping[str, str] = {
    'image_size': 'int: crop side S the models were exported for',
    'backbone_stride': 'int: 16',
    'num_maskmem': 'int: 7',
    'max_obj_ptrs_in_encoder': 'int: 16',
    'mem_dim': 'int: 64',
    'hidden_dim': 'int: 256',
    'obj_ptr_proj_layers': 'int: MLP depth of obj_ptr_proj (3 for SAM 2.1; 1 = Linear)',
    'sigmoid_scale_for_mem_enc': 'float: 20.0',
    'sigmoid_bias_for_mem_enc': 'float: -10.0',
    'pred_obj_scores': 'bool',
    'soft_no_obj_ptr': 'bool',
    'fixed_no_obj_ptr': 'bool',
    'use_obj_ptrs_in_encoder': 'bool',
    'add_tpos_enc_to_obj_ptrs': 'bool',
    'proj_tpos_enc_in_obj_ptrs': 'bool',
    'use_signed_tpos_enc_to_obj_ptrs': 'bool',
    'only_obj_ptrs_in_the_past_for_eval': 'bool',
    'directly_add_no_mem_embed': 'bool',
    'has_no_obj_embed_spatial': 'bool',
    'use_mlp_for_obj_ptr_proj': 'bool',
    'multimask_output_in_sam': 'bool',
    'multimask_output_for_tracking': 'bool',
    'multimask_min_pt_num': 'int',
    'multimask_max_pt_num': 'int',
    'use_multimask_token_for_obj_ptr': 'bool',
    'iou_prediction_use_sigmoid': 'bool',
    'dynamic_multimask_via_stability': 'bool',
    'dynamic_multimask_stability_delta': 'float',
    'dynamic_multimask_stability_thresh': 'float',
    'binarize_mask_from_pts_for_mem_enc': 'bool',
    'memory_temporal_stride_for_eval': 'int',
    'mask_neg': 'float: MASK_NEG used inside memory_attention for unused slots',
}
"""0-d entries of the constants file (stored as 0-d numpy arrays and in the JSON)."""
