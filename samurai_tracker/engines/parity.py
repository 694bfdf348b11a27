"""Parity: each exported model against the original SAM 2.1 sub-module it came from.

A golden chain is captured with the *original* sam2 modules (``forward_image``,
``sam_prompt_encoder``, ``sam_mask_decoder.predict_masks``, ``memory_encoder``,
``memory_attention`` on the variable-length memory SAM 2 builds) on frames of a
:class:`~samurai_tracker.synthetic.SyntheticClip` through SAM 2's preprocessing (resize to
SxS, /255, ImageNet mean/std), with real features flowing from one stage into the next:
seed frame (box prompt) -> memory -> tracking frames (empty prompt, memory attention over
the growing bank). Every model under test (ONNX Runtime, TensorRT or PyTorch backends)
then gets the captured inputs of its stage and is compared output by output by cosine
similarity and maximum absolute error; the gate is cosine >= 0.999.

The memory-attention cases feed the static 7232-token layout with *garbage* in unused
slots and check against the reference run on only the used memories, which proves the
``memory_valid`` exclusion is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.backends.base import ModelBackend
from samurai_tracker.engines.contract import (
    IMAGE_MEAN,
    IMAGE_STD,
    MAX_OBJ_PTRS,
    MEMORY_SLOTS,
    MODEL_NAMES,
    MODELS,
    NUM_MASKMEM,
    PARITY_FILE,
)

__all__ = ['COSINE_GATE', 'ParityCase', 'capture_golden', 'compare', 'preprocess_frame',
           'run_parity', 'to_numpy', 'write_parity']

COSINE_GATE = 0.999
"""Minimum cosine similarity of every output against the reference."""

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class ParityCase:
    """Captured inputs and reference outputs of one model on one realistic situation.

    Parameters
    ----------
    model : str
        Model name (a key of ``contract.MODELS``).
    label : str
        Situation, e.g. ``'seed'``, ``'track'``, ``'cold_start'``, ``'full_bank'``.
    inputs : dict of str to numpy.ndarray
        float32 inputs named as in the contract.
    expected : dict of str to numpy.ndarray
        Reference outputs from the original sam2 module.

    """

    model: str
    label: str
    inputs: Dict[str, Array]
    expected: Dict[str, Array]


def to_numpy(value: Any) -> Array:
    """Return a host numpy copy of a numpy array, torch tensor, or device array."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, 'detach'):  # torch.Tensor
        return value.detach().float().cpu().numpy()
    if hasattr(value, 'get'):  # pycuda GPUArray, cupy ndarray
        return np.asarray(value.get())
    return np.asarray(value)


def compare(expected: Array, actual: Array) -> Tuple[float, float]:
    """Return (cosine similarity, max absolute error) of two arrays, computed in float64.

    Two all-zero arrays have cosine 1; a shape mismatch raises ``ValueError``.
    """
    a = np.asarray(expected, dtype=np.float64).ravel()
    b = np.asarray(actual, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f'shape mismatch: expected {np.shape(expected)}, got {np.shape(actual)}')
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0:
        cosine = 1.0 if not (a.any() or b.any()) else 0.0
    else:
        cosine = float(np.dot(a, b) / norm)
    return cosine, float(np.max(np.abs(a - b))) if a.size else 0.0


def preprocess_frame(frame: Array, crop: int) -> Array:
    """SAM 2 preprocessing: RGB uint8 (H, W, 3) -> float32 [1, 3, crop, crop]."""
    import cv2

    resized = cv2.resize(frame, (crop, crop), interpolation=cv2.INTER_LINEAR)
    scaled = resized.astype(np.float32) / 255.0
    normalised = (scaled - np.asarray(IMAGE_MEAN, np.float32)) / np.asarray(IMAGE_STD,
                                                                            np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], dtype=np.float32)


def _np32(tensor: Any) -> Array:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy(), dtype=np.float32)


class _Bank:
    """Reference memory bank: frame memories and object pointers, SAM 2's layout."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.frames: List[Tuple[Any, Any, int]] = []  # (feat, pos, t_pos)
        self.pointers: List[Tuple[Any, int]] = []  # (obj_ptr [1,256], t_diff)

    def varlen(self) -> Tuple[Any, Any, int]:
        """Memory, positions and pointer-token count as SAM 2 concatenates them."""
        import torch
        from sam2.modeling.sam2_utils import get_1d_sine_pe

        model = self.model
        mems, poss = [], []
        for feat, pos, t_pos in self.frames:
            mems.append(feat.flatten(2).permute(2, 0, 1))
            poss.append(pos.flatten(2).permute(2, 0, 1)
                        + model.maskmem_tpos_enc[model.num_maskmem - t_pos - 1])
        split = model.hidden_dim // model.mem_dim
        if self.pointers:
            ptrs = torch.stack([p for p, _ in self.pointers], dim=0)  # [P,1,256]
            t_diffs = torch.tensor([float(t) for _, t in self.pointers])
            ptr_pos = get_1d_sine_pe(t_diffs / (model.max_obj_ptrs_in_encoder - 1),
                                     dim=model.hidden_dim)
            ptr_pos = model.obj_ptr_tpos_proj(ptr_pos).unsqueeze(1)
            mems.append(ptrs.reshape(-1, 1, split, model.mem_dim).permute(0, 2, 1, 3)
                        .flatten(0, 1))
            poss.append(ptr_pos.repeat_interleave(split, dim=0))
        return torch.cat(mems, 0), torch.cat(poss, 0), len(self.pointers) * split

    def static(self, tokens: int, rng: np.random.Generator) -> Tuple[Array, Array, Array]:
        """Return the same memory in the static layout; unused slots hold random garbage."""
        memory, memory_pos, ptr_tokens = self.varlen()
        memory, memory_pos = _np32(memory), _np32(memory_pos)
        split = self.model.hidden_dim // self.model.mem_dim
        total = NUM_MASKMEM * tokens + MAX_OBJ_PTRS * split
        static = rng.normal(0, 3, (total, 1, self.model.mem_dim)).astype(np.float32)
        static_pos = rng.normal(0, 3, (total, 1, self.model.mem_dim)).astype(np.float32)
        used = len(self.frames) * tokens
        static[:used], static_pos[:used] = memory[:used], memory_pos[:used]
        base = NUM_MASKMEM * tokens
        static[base:base + ptr_tokens] = memory[used:]
        static_pos[base:base + ptr_tokens] = memory_pos[used:]
        valid = np.zeros((1, MEMORY_SLOTS), np.float32)
        valid[0, :len(self.frames)] = 1.0
        valid[0, NUM_MASKMEM:NUM_MASKMEM + len(self.pointers)] = 1.0
        return static, static_pos, valid


def _select_memories(history: Sequence[Tuple[int, Any, Any, Any]], current: int
                     ) -> Tuple[List[Tuple[Any, Any, int]], List[Tuple[Any, int]]]:
    """Pick memories for frame ``current`` as SAM 2 does (stride 1, one seed frame).

    ``history`` holds ``(frame_index, maskmem_feat, maskmem_pos, obj_ptr)``; frame 0 is
    the conditioning frame (t_pos 0), frame ``current - t_rel`` gets
    ``t_pos = NUM_MASKMEM - t_rel`` for ``t_rel`` in 1..6; pointers carry ``t_diff``.
    """
    frames: List[Tuple[Any, Any, int]] = []
    pointers: List[Tuple[Any, int]] = []
    for index, feat, pos, pointer in history:
        t_rel = current - index
        if index == 0:
            frames.append((feat, pos, 0))
        elif 1 <= t_rel < NUM_MASKMEM:
            frames.append((feat, pos, NUM_MASKMEM - t_rel))
        if index == 0 or t_rel < MAX_OBJ_PTRS:
            pointers.append((pointer, t_rel))
    return frames, pointers[-MAX_OBJ_PTRS:]


def capture_golden(model: Any, crop: int, num_frames: int = 3,
                   seed: int = 0) -> List[ParityCase]:
    """Run the original sam2 modules over a synthetic clip and capture one case per stage.

    Parameters
    ----------
    model : SAM2Base
        Built for ``image_size == crop``, eval mode, CPU.
    crop : int
        Crop side S.
    num_frames : int
        Frames of the chain (>= 2): frame 0 is the seed, the others track.
    seed : int
        Seed of the clip and of the garbage in unused memory slots.

    Returns
    -------
    list of ParityCase

    """
    import torch
    import torch.nn.functional as F

    from samurai_tracker.synthetic import SyntheticClip

    clip = SyntheticClip(num_frames=max(num_frames, 2), width=640, height=480, seed=seed)
    rng = np.random.default_rng(seed)
    cases: List[ParityCase] = []
    bank = _Bank(model)
    history: List[Tuple[int, Any, Any, Any]] = []
    tokens = (crop // 16) ** 2
    decoder, prompt = model.sam_mask_decoder, model.sam_prompt_encoder
    image_pe = prompt.get_dense_pe()
    with torch.no_grad():
        for index in range(max(num_frames, 2)):
            image = preprocess_frame(clip.frame(index), crop)
            out = model.forward_image(torch.from_numpy(image))
            fpn, pos = out['backbone_fpn'], out['vision_pos_enc']
            feats = {'feat_s0': fpn[0], 'feat_s1': fpn[1], 'image_embed': fpn[2],
                     'pos_s0': pos[0], 'pos_s1': pos[1], 'image_pos': pos[2]}
            if index == 0:
                cases.append(ParityCase('image_encoder', 'frame0', {'image': image},
                                        {k: _np32(v) for k, v in feats.items()}))
                scale = np.array([crop / clip.width, crop / clip.height] * 2)
                box = torch.from_numpy((clip.truth(0).xyxy * scale).reshape(1, 2, 2)
                                       .astype(np.float32))
                sparse, dense = prompt(points=(box, torch.tensor([[2, 3]], dtype=torch.int32)),
                                       boxes=None, masks=None)
                cases.append(ParityCase('prompt_encoder', 'seed', {'box': _np32(box)},
                                        {'sparse': _np32(sparse), 'dense': _np32(dense)}))
                conditioned = fpn[2] + model.no_mem_embed.reshape(1, -1, 1, 1)
                label = 'seed'
            else:
                curr = fpn[2].flatten(2).permute(2, 0, 1)
                curr_pos = pos[2].flatten(2).permute(2, 0, 1)
                memory, memory_pos, ptr_tokens = bank.varlen()
                out_tokens = model.memory_attention(curr=[curr], curr_pos=[curr_pos],
                                                    memory=memory, memory_pos=memory_pos,
                                                    num_obj_ptr_tokens=ptr_tokens)
                static, static_pos, valid = bank.static(tokens, rng)
                cases.append(ParityCase(
                    'memory_attention', f'frame{index}_{len(bank.frames)}mem',
                    {'curr': _np32(curr), 'curr_pos': _np32(curr_pos), 'memory': static,
                     'memory_pos': static_pos, 'memory_valid': valid},
                    {'conditioned': _np32(out_tokens)}))
                side = crop // 16
                conditioned = out_tokens.permute(1, 2, 0).reshape(1, -1, side, side)
                sparse, dense = prompt(points=(torch.zeros(1, 1, 2),
                                               -torch.ones(1, 1, dtype=torch.int32)),
                                       boxes=None, masks=None)
                label = 'track'
            masks, iou, mask_tokens, score = decoder.predict_masks(
                conditioned, image_pe, sparse, dense, repeat_image=False,
                high_res_features=[fpn[0], fpn[1]])
            if index <= 1:
                cases.append(ParityCase(
                    'mask_decoder', f'{label}_{sparse.shape[1]}pts',
                    {'image_embed': _np32(conditioned), 'image_pe': _np32(image_pe),
                     'sparse': _np32(sparse), 'dense': _np32(dense),
                     'feat_s0': _np32(fpn[0]), 'feat_s1': _np32(fpn[1])},
                    {'masks': _np32(masks), 'iou_pred': _np32(iou),
                     'mask_tokens': _np32(mask_tokens), 'object_score_logits': _np32(score)}))
            best = 0 if index == 0 else 1 + int(torch.argmax(iou[0, 1:]))
            high = F.interpolate(masks[:, best:best + 1], size=(crop, crop), mode='bilinear',
                                 align_corners=False)
            prob = (high > 0).float() if index == 0 else torch.sigmoid(high)
            mask = prob * model.sigmoid_scale_for_mem_enc + model.sigmoid_bias_for_mem_enc
            mem = model.memory_encoder(fpn[2], mask, skip_mask_sigmoid=True)
            if index <= 1:
                cases.append(ParityCase(
                    'memory_encoder', label, {'pix_feat': _np32(fpn[2]), 'mask': _np32(mask)},
                    {'maskmem_feat': _np32(mem['vision_features']),
                     'maskmem_pos': _np32(mem['vision_pos_enc'][0])}))
            history.append((index, mem['vision_features'], mem['vision_pos_enc'][0],
                            model.obj_ptr_proj(mask_tokens[:, best])))
            bank.frames, bank.pointers = _select_memories(history, index + 1)
        # A full bank (7 frames, 16 pointers), reusing the captured memories at other times.
        full = _Bank(model)
        used = len(bank.frames)
        full.frames = [(bank.frames[i % used][0], bank.frames[i % used][1], i)
                       for i in range(NUM_MASKMEM)]
        full.pointers = [(bank.pointers[i % len(bank.pointers)][0], i + 1)
                         for i in range(MAX_OBJ_PTRS)]
        memory, memory_pos, ptr_tokens = full.varlen()
        last = cases[-1] if cases[-1].model == 'memory_attention' else None
        source = last or next(c for c in cases if c.model == 'memory_attention')
        curr = torch.from_numpy(source.inputs['curr'])
        curr_pos = torch.from_numpy(source.inputs['curr_pos'])
        out_tokens = model.memory_attention(curr=[curr], curr_pos=[curr_pos], memory=memory,
                                            memory_pos=memory_pos,
                                            num_obj_ptr_tokens=ptr_tokens)
        static, static_pos, valid = full.static(tokens, rng)
        cases.append(ParityCase('memory_attention', 'full_bank',
                                {'curr': _np32(curr), 'curr_pos': _np32(curr_pos),
                                 'memory': static, 'memory_pos': static_pos,
                                 'memory_valid': valid},
                                {'conditioned': _np32(out_tokens)}))
    return cases


def check_cases(cases: Sequence[ParityCase], backends: Mapping[str, ModelBackend],
                backend_name: str, gate: float = COSINE_GATE) -> Dict[str, Any]:
    """Run every case on its model's backend and build the parity report.

    Returns
    -------
    dict
        ``{'backend', 'gate', 'passed', 'min_cosine', 'models': {model: {output:
        {'cosine', 'max_abs_error', 'pass', 'cases': {label: {...}}}}}}`` where an
        output's cosine is the minimum and its error the maximum over the cases.

    """
    models: Dict[str, Dict[str, Any]] = {}
    for case in cases:
        if case.model not in backends:
            continue
        outputs = backends[case.model].run(case.inputs)
        for name, expected in case.expected.items():
            cosine, error = compare(expected, to_numpy(outputs[name]))
            entry = models.setdefault(case.model, {}).setdefault(
                name, {'cosine': 1.0, 'max_abs_error': 0.0, 'pass': True, 'cases': {}})
            entry['cases'][case.label] = {'cosine': cosine, 'max_abs_error': error,
                                          'pass': bool(cosine >= gate)}
            entry['cosine'] = min(entry['cosine'], cosine)
            entry['max_abs_error'] = max(entry['max_abs_error'], error)
            entry['pass'] = bool(entry['cosine'] >= gate)
    cosines = [o['cosine'] for m in models.values() for o in m.values()]
    return {'backend': backend_name, 'gate': gate,
            'passed': bool(cosines) and all(c >= gate for c in cosines),
            'min_cosine': min(cosines) if cosines else 0.0, 'models': models}


def run_parity(directory: str, model: Any, models: Sequence[str] = MODEL_NAMES,
               backend_factory: Optional[Callable[[str], ModelBackend]] = None,
               backend_name: str = 'onnxruntime', gate: float = COSINE_GATE,
               num_frames: int = 3) -> Dict[str, Any]:
    """Capture the golden chain of ``model`` and check the models in ``directory``.

    Parameters
    ----------
    directory : str
        Model directory (ONNX files, or engines when ``backend_factory`` loads them).
    model : SAM2Base
        The reference the directory was exported from.
    models : sequence of str
        Models to check.
    backend_factory : callable, optional
        ``name -> ModelBackend``; default loads ``<directory>/<name>.onnx`` in ONNX Runtime.
    backend_name : str
        Recorded in the report.
    gate : float
        Cosine gate.
    num_frames : int
        Length of the golden chain.

    """
    if backend_factory is None:
        from samurai_tracker.backends.onnxruntime_backend import OnnxRuntimeBackend

        def backend_factory(name: str) -> ModelBackend:
            return OnnxRuntimeBackend(os.path.join(directory, MODELS[name].file_name))

    cases = capture_golden(model, int(model.image_size), num_frames=num_frames)
    backends = {name: backend_factory(name) for name in models}
    report = check_cases(cases, backends, backend_name, gate)
    report['crop'] = int(model.image_size)
    return report


def write_parity(directory: str, report: Mapping[str, Any], file_name: str = PARITY_FILE) -> str:
    """Write the parity report as JSON into ``directory``; return its path."""
    path = os.path.join(directory, file_name)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2)
    return path
