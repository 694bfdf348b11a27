"""The constants file: everything the per-frame runtime needs outside the five models.

``samurai_constants.npz`` holds the arrays and 0-d scalars listed in
:data:`samurai_tracker.engines.contract.CONSTANT_ARRAYS` and ``CONSTANT_SCALARS``;
``samurai_constants.json`` describes it (format version, each key's shape, dtype and
meaning, and the scalars in plain JSON) so the file explains itself without this code.

:func:`gather_constants` reads them off a SAM 2.1 model (no torch import needed: it only
calls ``.detach().cpu().numpy()``); :func:`load_constants` is what the runtime calls and
imports numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import os
from typing import Any, Dict, Mapping, Tuple, Union

import numpy as np
import numpy.typing as npt

from samurai_tracker.engines.contract import (
    CONSTANT_ARRAYS,
    CONSTANT_SCALARS,
    CONSTANTS_FILE,
    CONSTANTS_FORMAT_VERSION,
    CONSTANTS_META_FILE,
    CONTRACT_VERSION,
    IMAGE_MEAN,
    IMAGE_STD,
    MASK_NEG,
    resolve_dim,
)

__all__ = ['ConstantsError', 'SamuraiConstants', 'gather_constants', 'load_constants',
           'save_constants']

Scalar = Union[bool, int, float]
FloatArray = npt.NDArray[np.float32]


class ConstantsError(ValueError):
    """The constants file is missing, from another format version, or incomplete."""


def _np(tensor: Any) -> FloatArray:
    return np.ascontiguousarray(tensor.detach().cpu().float().numpy(), dtype=np.float32)


def _obj_ptr_layers(model: Any) -> list:
    proj = model.obj_ptr_proj
    if hasattr(proj, 'layers'):
        return list(proj.layers)
    if hasattr(proj, 'weight'):
        return [proj]
    return []  # Identity


def gather_constants(model: Any, crop: int) -> Tuple[Dict[str, FloatArray], Dict[str, Scalar]]:
    """Collect the constants of a SAM 2.1 ``SAM2Base`` built for crop side ``crop``.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        float32 arrays keyed as in ``CONSTANT_ARRAYS`` (``{i}`` expanded).
    scalars : dict of str to bool, int or float
        The ``CONSTANT_SCALARS``.

    """
    import torch

    decoder = model.sam_mask_decoder
    prompt = model.sam_prompt_encoder
    arrays: Dict[str, FloatArray] = {
        'maskmem_tpos_enc': _np(model.maskmem_tpos_enc).reshape(model.num_maskmem, -1),
        'no_mem_embed': _np(model.no_mem_embed).reshape(1, -1),
        'no_mem_pos_enc': _np(model.no_mem_pos_enc).reshape(1, -1),
        'no_obj_ptr': _np(model.no_obj_ptr).reshape(1, -1),
        'no_obj_embed_spatial': (
            _np(model.no_obj_embed_spatial).reshape(1, -1)
            if model.no_obj_embed_spatial is not None
            else np.zeros((1, model.mem_dim), np.float32)),
        'image_mean': np.asarray(IMAGE_MEAN, np.float32),
        'image_std': np.asarray(IMAGE_STD, np.float32),
        'no_mask_embed': _np(prompt.no_mask_embed.weight).reshape(1, -1),
    }
    layers = _obj_ptr_layers(model)
    for index, layer in enumerate(layers):
        arrays[f'obj_ptr_proj_weight_{index}'] = _np(layer.weight)
        arrays[f'obj_ptr_proj_bias_{index}'] = _np(layer.bias)
    tpos = model.obj_ptr_tpos_proj
    if hasattr(tpos, 'weight'):
        arrays['obj_ptr_tpos_proj_weight'] = _np(tpos.weight)
        arrays['obj_ptr_tpos_proj_bias'] = _np(tpos.bias)
    with torch.no_grad():
        arrays['image_pe'] = _np(prompt.get_dense_pe())
        sparse, dense = prompt(points=(torch.zeros(1, 1, 2),
                                       -torch.ones(1, 1, dtype=torch.int32)),
                               boxes=None, masks=None)
    arrays['empty_sparse'] = _np(sparse)
    arrays['empty_dense'] = _np(dense)
    scalars: Dict[str, Scalar] = {
        'image_size': int(model.image_size),
        'backbone_stride': int(model.backbone_stride),
        'num_maskmem': int(model.num_maskmem),
        'max_obj_ptrs_in_encoder': int(model.max_obj_ptrs_in_encoder),
        'mem_dim': int(model.mem_dim),
        'hidden_dim': int(model.hidden_dim),
        'obj_ptr_proj_layers': len(layers),
        'sigmoid_scale_for_mem_enc': float(model.sigmoid_scale_for_mem_enc),
        'sigmoid_bias_for_mem_enc': float(model.sigmoid_bias_for_mem_enc),
        'has_no_obj_embed_spatial': model.no_obj_embed_spatial is not None,
        'dynamic_multimask_via_stability': bool(decoder.dynamic_multimask_via_stability),
        'dynamic_multimask_stability_delta': float(decoder.dynamic_multimask_stability_delta),
        'dynamic_multimask_stability_thresh': float(
            decoder.dynamic_multimask_stability_thresh),
        'mask_neg': float(MASK_NEG),
    }
    for flag in ('pred_obj_scores', 'soft_no_obj_ptr', 'fixed_no_obj_ptr',
                 'use_obj_ptrs_in_encoder', 'add_tpos_enc_to_obj_ptrs',
                 'proj_tpos_enc_in_obj_ptrs', 'use_signed_tpos_enc_to_obj_ptrs',
                 'only_obj_ptrs_in_the_past_for_eval', 'directly_add_no_mem_embed',
                 'use_mlp_for_obj_ptr_proj', 'multimask_output_in_sam',
                 'multimask_output_for_tracking', 'use_multimask_token_for_obj_ptr',
                 'iou_prediction_use_sigmoid', 'binarize_mask_from_pts_for_mem_enc'):
        scalars[flag] = bool(getattr(model, flag))
    for name in ('multimask_min_pt_num', 'multimask_max_pt_num',
                 'memory_temporal_stride_for_eval'):
        scalars[name] = int(getattr(model, name))
    missing = set(CONSTANT_SCALARS) - set(scalars)
    if missing:  # pragma: no cover - guards the contract against drift
        raise ConstantsError(f'constants gathering misses scalars {sorted(missing)}')
    if crop != scalars['image_size']:
        raise ConstantsError(f'model image_size {scalars["image_size"]} != crop {crop}')
    return arrays, scalars


def _describe(key: str) -> str:
    if key in CONSTANT_ARRAYS:
        return CONSTANT_ARRAYS[key][1]
    for pattern, (_, meaning) in CONSTANT_ARRAYS.items():
        if '{i}' in pattern and key.startswith(pattern.split('{i}')[0]):
            return meaning
    return ''


def save_constants(directory: str, arrays: Mapping[str, FloatArray],
                   scalars: Mapping[str, Scalar]) -> Tuple[str, str]:
    """Write ``samurai_constants.npz`` and ``samurai_constants.json`` into ``directory``.

    Returns
    -------
    tuple of str
        Paths of the npz and the JSON file.

    """
    npz_path = os.path.join(directory, CONSTANTS_FILE)
    meta_path = os.path.join(directory, CONSTANTS_META_FILE)
    payload: Dict[str, np.ndarray] = {k: np.asarray(v) for k, v in arrays.items()}
    payload.update({k: np.asarray(v) for k, v in scalars.items()})
    payload['format_version'] = np.asarray(CONSTANTS_FORMAT_VERSION)
    np.savez(npz_path, **payload)  # type: ignore[arg-type]
    meta = {
        'format_version': CONSTANTS_FORMAT_VERSION,
        'contract_version': CONTRACT_VERSION,
        'arrays': {k: {'shape': list(np.shape(v)), 'dtype': str(np.asarray(v).dtype),
                       'meaning': _describe(k)} for k, v in sorted(arrays.items())},
        'scalars': {k: v for k, v in sorted(scalars.items())},
        'scalar_meanings': {k: CONSTANT_SCALARS.get(k, '') for k in sorted(scalars)},
    }
    with open(meta_path, 'w', encoding='utf-8') as handle:
        json.dump(meta, handle, indent=2)
    return npz_path, meta_path


@dataclass(frozen=True)
class SamuraiConstants:
    """Loaded constants: arrays and scalars, validated against the contract.

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        float32 arrays (``CONSTANT_ARRAYS`` keys, ``{i}`` expanded).
    scalars : mapping of str to bool, int or float
        ``CONSTANT_SCALARS``.

    """

    arrays: Mapping[str, FloatArray]
    scalars: Mapping[str, Scalar]

    def __post_init__(self) -> None:
        """Check every required key is present with the contract's shape."""
        crop = int(self.scalars.get('image_size', 0))
        missing = [k for k in CONSTANT_SCALARS if k not in self.scalars]
        for key, (dims, _) in CONSTANT_ARRAYS.items():
            keys = ([key.format(i=i) for i in range(int(self.scalars.get(
                'obj_ptr_proj_layers', 0)))] if '{i}' in key else [key])
            if key.startswith('obj_ptr_tpos_proj') and not self.scalars.get(
                    'proj_tpos_enc_in_obj_ptrs', True):
                continue
            for name in keys:
                if name not in self.arrays:
                    missing.append(name)
                    continue
                shape = tuple(resolve_dim(d, crop) for d in dims)
                if '{i}' not in key and tuple(self.arrays[name].shape) != shape:
                    raise ConstantsError(f'constant {name} must have shape {shape}, got '
                                         f'{tuple(self.arrays[name].shape)}; re-export')
        if missing:
            raise ConstantsError(f'constants file lacks {sorted(missing)}; re-export it with '
                                 'samurai-export')

    def __getitem__(self, key: str) -> Any:
        """Return an array or a scalar by key."""
        if key in self.arrays:
            return self.arrays[key]
        return self.scalars[key]

    @property
    def crop(self) -> int:
        """Crop side S the models were exported for, in pixels."""
        return int(self.scalars['image_size'])


def load_constants(directory: str) -> SamuraiConstants:
    """Load ``samurai_constants.npz`` from a model directory.

    Raises
    ------
    ConstantsError
        If the file is missing, of another format version, or incomplete.

    """
    path = os.path.join(directory, CONSTANTS_FILE)
    if not os.path.isfile(path):
        raise ConstantsError(f'no {CONSTANTS_FILE} in {directory}; run samurai-export')
    with np.load(path) as data:
        version = int(data['format_version']) if 'format_version' in data else -1
        if version != CONSTANTS_FORMAT_VERSION:
            raise ConstantsError(f'{path} has format version {version}, this code reads '
                                 f'{CONSTANTS_FORMAT_VERSION}; re-export with samurai-export')
        arrays: Dict[str, FloatArray] = {}
        scalars: Dict[str, Scalar] = {}
        for key in data.files:
            if key == 'format_version':
                continue
            value = data[key]
            if value.ndim == 0 and key in CONSTANT_SCALARS:
                scalars[key] = value.item()
            else:
                arrays[key] = np.asarray(value, dtype=np.float32)
    return SamuraiConstants(arrays=arrays, scalars=scalars)
