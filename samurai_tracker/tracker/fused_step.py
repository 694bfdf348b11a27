"""A tracking frame's device work as two programs, replayed as CUDA graphs on a GPU.

The generic loop in :mod:`samurai_tracker.tracker.runtime` calls each model, then reads
scores and mask boxes back to the host to choose a candidate before it can encode the
memory: eight host synchronisations and some hundred small launches per frame, so at
batch 1 the GPU spends much of the frame waiting for Python. :class:`FusedTrackingStep`
does the same arithmetic as two fixed programs over static device buffers:

- **program A**: image encoder -> memory bank gathered from a device ring of past
  memories -> memory attention -> mask decoder -> object-score gate -> bilinear upsampling
  of the candidates -> their boxes -> SAMURAI's weighted choice
  ``w * IoU(Kalman box, box) + (1 - w) * predicted IoU`` (``w = 0`` outside the stable
  regime, which makes it the plain arg-max) -> a packed result vector;
- **program B**: object pointer (``obj_ptr_proj`` and the no-object gate) -> sigmoid-scaled
  mask -> memory encoder -> ``no_obj_embed_spatial`` -> both written into a ring slot.

Everything that varies per frame (ring slots and temporal indices of the selected memories,
slot validity, pointer positions, the Kalman prior, the weight, the object-score threshold)
travels in one small parameter vector, so on CUDA both programs are captured once as
CUDA graphs and each frame is: one preprocessing launch, one 5 KB upload, replay A, one
read-back of the results, replay B. The host waits only for A's results; B (the memory
encoder) runs while the host updates the Kalman filter and prepares the next frame.

Two graphs are kept per program: with the ``memory_valid`` key bias (a young track with
unused slots) and without it (all 23 slots in use, the steady state), which lets PyTorch
use its fused attention kernels. On the CPU (or with ``graphs=False``) the same programs
run eagerly; that is how the CI checks them against the generic loop.

Needs the PyTorch backend (the programs drive its ``nn.Module`` objects directly); torch is
imported on construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.engines.contract import MAX_OBJ_PTRS, MODEL_NAMES, NUM_MASKMEM, PTR_TOKENS
from samurai_tracker.tracker.errors import ModelSetError
from samurai_tracker.tracker.array_ops import mask_extents, TorchOps
from samurai_tracker.tracker.glue import (FrameGlue, NO_OBJ_SCORE, pointer_positions,
                                          tracking_candidates)

__all__ = ['FusedTrackingStep', 'RING_SLOTS', 'StepResult', 'score_candidates']

RING_SLOTS = 32
"""Memory slots on the device: the live entries of a bank (at most 15 pointer steps, 6
older eligible feature maps and the newest frame), the conditioning frame and a scratch
slot written while graphs are captured."""
_COND_SLOT = RING_SLOTS - 2
_SCRATCH_SLOT = RING_SLOTS - 1


@dataclass(frozen=True)
class StepResult:
    """What one tracking frame's device programs produced.

    Parameters
    ----------
    ious : numpy.ndarray, shape (T,), float64
        Predicted IoU of every decoder output token (T = 4 for SAM 2.1).
    object_score : float
        Object-score logit.
    extents : numpy.ndarray, shape (K, 4), float64
        ``[x0, y0, x1 + 1, y1 + 1]`` of each candidate's ``logits > 0`` in input pixels
        (rows of an empty mask are meaningless; see ``nonempty``).
    nonempty : numpy.ndarray, shape (K,), bool
        Whether each candidate mask has a positive pixel.
    index : int
        Chosen candidate, 0-based among the K candidates.
    mask : tensor, shape (1, 1, S, S)
        Mask logits of the chosen candidate; a static buffer on CUDA, valid until the next
        :meth:`FusedTrackingStep.run`.
    maskmem_feat : tensor, shape (1, 64, S/16, S/16)
        The new memory (a view of its ring slot; complete once program B ran, which the
        next device work waits for in stream order).
    obj_ptr : tensor, shape (1, 256)
        The new object pointer (a view of its ring slot).

    """

    ious: npt.NDArray[np.float64]
    object_score: float
    extents: npt.NDArray[np.float64]
    nonempty: npt.NDArray[np.bool_]
    index: int
    mask: Any
    maskmem_feat: Any
    obj_ptr: Any


def score_candidates(high: Any, scores: Any, prior: Any, clip: Any,
                     weight: Any) -> Tuple[Any, Any, Any, Any]:
    """Choose SAMURAI's candidate on the device, without host synchronisation.

    Parameters
    ----------
    high : tensor, shape (K, S, S)
        Upsampled mask logits of the K candidates.
    scores : tensor, shape (K,)
        Their predicted IoUs.
    prior : tensor, shape (4,)
        Kalman prior box ``[x1, y1, x2, y2]`` in input pixels.
    clip : tensor, shape (4,)
        The frame's extent in input pixels; boxes are clipped to it, as the host clips
        frame boxes to the image.
    weight : tensor, shape (1,)
        Kalman score weight ``w`` (0 outside the stable regime).

    Returns
    -------
    extents : tensor, shape (K, 4)
        ``[x0, y0, x1 + 1, y1 + 1]`` of ``logits > 0`` (:func:`~samurai_tracker.tracker.
        array_ops.mask_extents`; meaningless for an empty map).
    nonempty : tensor, shape (K,), bool
    kf_iou : tensor, shape (K,)
        IoU of each clipped box with ``prior`` (0 for an empty or degenerate box).
    index : tensor, shape (1,), int64
        First arg-max of ``w * kf_iou + (1 - w) * scores``.

    """
    import torch

    extents, nonempty = mask_extents(high)
    x0, y0, x1, y1 = extents.unbind(dim=1)
    box = torch.stack([torch.maximum(x0, clip[0]), torch.maximum(y0, clip[1]),
                       torch.minimum(x1, clip[2]), torch.minimum(y1, clip[3])], dim=1)
    width, height = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    usable = nonempty & (width > 0) & (height > 0)
    inter_w = torch.minimum(box[:, 2], prior[2]) - torch.maximum(box[:, 0], prior[0])
    inter_h = torch.minimum(box[:, 3], prior[3]) - torch.maximum(box[:, 1], prior[1])
    inter = inter_w.clamp(min=0.0) * inter_h.clamp(min=0.0)
    union = width * height + (prior[2] - prior[0]) * (prior[3] - prior[1]) - inter
    kf_iou = torch.where(usable & (union > 0), inter / union.clamp(min=1e-12),
                         torch.zeros_like(inter))
    index = torch.argmax(weight * kf_iou + (1.0 - weight) * scores).reshape(1)
    return extents, nonempty, kf_iou, index


class _Layout:
    """Offsets of the fields of the per-frame parameter vector (float32)."""

    def __init__(self, mem_dim: int) -> None:
        sizes = (('frame_slots', NUM_MASKMEM), ('frame_tpos', NUM_MASKMEM),
                 ('valid', NUM_MASKMEM + MAX_OBJ_PTRS), ('ptr_slots', MAX_OBJ_PTRS),
                 ('ptr_pos', MAX_OBJ_PTRS * mem_dim), ('prior', 4), ('clip', 4),
                 ('weight', 1), ('obj_threshold', 1), ('write_slot', 1))
        self.slices: Dict[str, slice] = {}
        start = 0
        for name, size in sizes:
            self.slices[name] = slice(start, start + size)
            start += size
        self.size = start


def _torch_backends(models: Any) -> Dict[str, Any]:
    """Return the models' PyTorch backends; raise ModelSetError for any other backend."""
    found = {}
    for name in MODEL_NAMES:
        backend = getattr(models, name)
        if not all(hasattr(backend, a) for a in ('module', 'forward', 'precision')):
            raise ModelSetError(f'the fused tracking step needs the torch backend; {name} is '
                                f'a {type(backend).__name__}')
        found[name] = backend
    return found


class FusedTrackingStep:
    """Program A + program B of a tracking frame over static buffers (see the module).

    Parameters
    ----------
    models : SamuraiModels
        Opened with the ``torch`` backend.
    graphs : bool, optional
        Capture and replay CUDA graphs; default: when the models are on a CUDA device.

    Raises
    ------
    ModelSetError
        If the models are not PyTorch backends, or graphs are asked for off CUDA.

    """

    def __init__(self, models: Any, graphs: Optional[bool] = None) -> None:
        import torch
        import torch.nn.functional as functional

        self._torch = torch
        self._functional = functional
        self._backends = _torch_backends(models)
        first_param = next(self._backends['image_encoder'].module.parameters())
        self.device = first_param.device
        cuda = self.device.type == 'cuda'
        self.graphs = cuda if graphs is None else bool(graphs)
        if self.graphs and not cuda:
            raise ModelSetError('CUDA graphs need the models on a CUDA device')
        consts = models.constants
        self.constants = consts
        self.glue = FrameGlue(consts, TorchOps(str(self.device)))
        """Constants on the device and the glue steps shared with the generic loop."""
        self.crop = int(consts.crop)
        self.side = self.glue.side
        self.tokens_per_frame = self.glue.tokens_per_frame
        self.mem_dim = self.glue.mem_dim
        self.hidden = self.glue.hidden
        self.first, self.count, self._token_from_choice = tracking_candidates(consts)
        self.layout = _Layout(self.mem_dim)
        self._tpos = self.glue.ops.from_host(self.glue.tpos.reshape(NUM_MASKMEM, self.mem_dim))
        zeros = {'dtype': torch.float32, 'device': self.device}
        self.image = torch.zeros((1, 3, self.crop, self.crop), **zeros)
        self.feat_ring = torch.zeros((RING_SLOTS, self.mem_dim, self.side, self.side), **zeros)
        self.ptr_ring = torch.zeros((RING_SLOTS, self.hidden), **zeros)
        self.pos_tokens = torch.zeros((self.tokens_per_frame, 1, self.mem_dim), **zeros)
        self.params_host = torch.zeros(self.layout.size, dtype=torch.float32,
                                       pin_memory=cuda)
        self._params = torch.zeros(self.layout.size, **zeros) if cuda else self.params_host
        iou_spec = {t.name: t for t in self._backends['mask_decoder'].outputs}['iou_pred']
        self.num_tokens = int(iou_spec.shape[-1])
        result_size = self.num_tokens + 1 + 6 * self.count + 1
        self.results_host = torch.zeros(result_size, dtype=torch.float32, pin_memory=cuda)
        self._slots: Dict[int, int] = {}
        self._pointer_cache: Dict[int, npt.NDArray[np.float32]] = {}
        self._graphs: Dict[bool, Tuple[Any, Any, Dict[str, Any], Any]] = {}
        self._event = torch.cuda.Event() if cuda else None
        self.captures = 0
        """CUDA graph pairs captured so far (at most two: with and without the slot mask)."""

    # ---- memory slots ------------------------------------------------------------------
    def store_conditioning(self, maskmem_feat: Any, obj_ptr: Any,
                           maskmem_pos: Any) -> Tuple[Any, Any]:
        """Put a (re)seed's memory in the conditioning slot and forget every other slot.

        Returns the ring views ``(maskmem_feat, obj_ptr)`` the memory bank should hold.
        """
        torch = self._torch
        as_t = self.glue.ops.from_host
        self.feat_ring[_COND_SLOT].copy_(as_t(maskmem_feat).reshape(self.feat_ring.shape[1:]))
        self.ptr_ring[_COND_SLOT].copy_(as_t(obj_ptr).reshape(-1))
        pos = as_t(maskmem_pos).reshape(1, self.mem_dim, -1)
        self.pos_tokens.copy_(pos.permute(2, 0, 1))
        self._slots = {0: _COND_SLOT}
        with torch.no_grad():
            return self._views(_COND_SLOT)

    def _views(self, slot: int) -> Tuple[Any, Any]:
        return self.feat_ring[slot:slot + 1], self.ptr_ring[slot:slot + 1]

    def _allocate(self, step: int, live_steps: Iterable[int]) -> int:
        live = set(live_steps) | {0}
        self._slots = {s: k for s, k in self._slots.items() if s in live}
        taken = set(self._slots.values()) | {_COND_SLOT, _SCRATCH_SLOT}
        for slot in range(RING_SLOTS):
            if slot not in taken:
                self._slots[step] = slot
                return slot
        raise RuntimeError(f'all {RING_SLOTS} memory slots are in use; the memory bank '
                           'holds more entries than SAMURAI can select')

    # ---- per-frame parameters ----------------------------------------------------------
    def _write_params(self, frames: Sequence[Tuple[int, int]],
                      pointers: Sequence[Tuple[int, int]], write_slot: int,
                      prior: npt.ArrayLike, clip: npt.ArrayLike, weight: float,
                      obj_threshold: float) -> bool:
        """Fill the host parameter vector; return whether unused slots need the mask.

        ``frames`` are ``(t_pos, ring slot)``, ``pointers`` ``(t_diff, ring slot)``.
        """
        if not 1 <= len(frames) <= NUM_MASKMEM or len(pointers) > MAX_OBJ_PTRS:
            raise ValueError(f'need 1..{NUM_MASKMEM} frames and <= {MAX_OBJ_PTRS} pointers, '
                             f'got {len(frames)} and {len(pointers)}')
        fields = self.layout.slices
        vec = self.params_host.numpy()
        vec[:] = 0.0
        vec[fields['frame_slots']][:len(frames)] = [k for _, k in frames]
        vec[fields['frame_tpos']][:len(frames)] = [NUM_MASKMEM - t - 1 for t, _ in frames]
        valid = vec[fields['valid']]
        valid[:len(frames)] = 1.0
        valid[NUM_MASKMEM:NUM_MASKMEM + len(pointers)] = 1.0
        if pointers:
            vec[fields['ptr_slots']][:len(pointers)] = [k for _, k in pointers]
            positions = np.concatenate([self._pointer_position(t) for t, _ in pointers])
            vec[fields['ptr_pos']][:positions.size] = positions.reshape(-1)
        vec[fields['prior']] = np.asarray(prior, np.float32)
        vec[fields['clip']] = np.asarray(clip, np.float32)
        vec[fields['weight']] = weight
        vec[fields['obj_threshold']] = obj_threshold
        vec[fields['write_slot']] = write_slot
        return not bool(np.all(valid == 1.0))

    def _pointer_position(self, t_diff: int) -> npt.NDArray[np.float32]:
        """Temporal encoding (1, mem_dim) of one pointer; the recent ones are cached."""
        cached = self._pointer_cache.get(t_diff)
        if cached is None:
            cached = pointer_positions([t_diff], self.constants)
            if t_diff <= MAX_OBJ_PTRS:  # the conditioning frame's offset grows without end
                self._pointer_cache[t_diff] = cached
        return cached

    # ---- the two programs --------------------------------------------------------------
    def _call(self, name: str, *args: Any) -> List[Any]:
        """Run one model's module (autocast as its backend says); outputs as float32."""
        torch = self._torch
        backend = self._backends[name]
        precision = backend.precision
        forward = backend.forward
        if precision != 'fp32' and self.device.type == 'cuda':
            dtype = torch.bfloat16 if precision == 'bf16' else torch.float16
            with torch.autocast(device_type='cuda', dtype=dtype):
                values = forward(*args)
        else:
            values = forward(*args)
        if isinstance(values, torch.Tensor):
            values = (values,)
        return [v.float() for v in values]

    def _program_a(self, masked: bool) -> Dict[str, Any]:
        torch = self._torch
        fields = self.layout.slices
        p = self._params
        length, mem_dim, side = self.tokens_per_frame, self.mem_dim, self.side
        feat_s0, feat_s1, image_embed, _, _, image_pos = self._call('image_encoder', self.image)
        curr = image_embed.flatten(2).permute(2, 0, 1)
        curr_pos = image_pos.flatten(2).permute(2, 0, 1)
        frame_slots = p[fields['frame_slots']].long()
        feats = self.feat_ring.index_select(0, frame_slots)
        memory_frames = feats.flatten(2).transpose(1, 2).reshape(NUM_MASKMEM * length, 1,
                                                                 mem_dim)
        ptrs = self.ptr_ring.index_select(0, p[fields['ptr_slots']].long())
        memory = torch.cat([memory_frames, ptrs.reshape(MAX_OBJ_PTRS * PTR_TOKENS, 1,
                                                        mem_dim)])
        tpos = self._tpos.index_select(0, p[fields['frame_tpos']].long())
        pos_frames = (self.pos_tokens.reshape(1, length, mem_dim) + tpos[:, None, :])
        pos_ptrs = p[fields['ptr_pos']].reshape(MAX_OBJ_PTRS, mem_dim).repeat_interleave(
            PTR_TOKENS, 0)
        memory_pos = torch.cat([pos_frames.reshape(NUM_MASKMEM * length, 1, mem_dim),
                                pos_ptrs.reshape(MAX_OBJ_PTRS * PTR_TOKENS, 1, mem_dim)])
        valid = p[fields['valid']].reshape(1, -1) if masked else None
        attended, = self._call('memory_attention', curr, curr_pos, memory, memory_pos, valid)
        conditioned = attended.permute(1, 2, 0).reshape(1, -1, side, side)
        glue = self.glue
        masks, iou_pred, mask_tokens, obj_logits = self._call(
            'mask_decoder', conditioned, glue.image_pe, glue.empty_sparse, glue.empty_dense,
            feat_s0, feat_s1)
        obj = obj_logits.reshape(1)
        present = obj > p[fields['obj_threshold']]
        masks = torch.where(present, masks, torch.full_like(masks, NO_OBJ_SCORE))
        candidates = masks[:, self.first:self.first + self.count]
        high = self._functional.interpolate(candidates, size=(self.crop, self.crop),
                                            mode='bilinear', align_corners=False)[0]
        scores = iou_pred.reshape(-1)[self.first:self.first + self.count]
        extents, nonempty, kf_iou, index = score_candidates(
            high, scores, p[fields['prior']], p[fields['clip']], p[fields['weight']])
        chosen = high.index_select(0, index).reshape(1, 1, self.crop, self.crop)
        results = torch.cat([iou_pred.reshape(-1), obj, extents.reshape(-1),
                             nonempty.float(), index.float(), kf_iou])
        return {'results': results, 'mask': chosen, 'index': index, 'present': present,
                'obj': obj, 'mask_tokens': mask_tokens, 'image_embed': image_embed}

    def _program_b(self, a: Dict[str, Any]) -> None:
        torch = self._torch
        token = a['index'] + self.first if self._token_from_choice else \
            torch.zeros_like(a['index'])
        token_out = a['mask_tokens'].index_select(1, token).reshape(1, self.hidden)
        pointer = self.glue.object_pointer(token_out, a['present'].float())
        mem_mask = self.glue.memory_mask(a['mask'], binarize=False)
        feat, _ = self._call('memory_encoder', a['image_embed'], mem_mask)
        feat = self.glue.add_no_object(feat, a['obj'])
        slot = self._params[self.layout.slices['write_slot']].long()
        self.feat_ring.index_copy_(0, slot, feat)
        self.ptr_ring.index_copy_(0, slot, pointer)

    def _capture(self, masked: bool) -> Tuple[Any, Any, Dict[str, Any], Any]:
        torch = self._torch
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.no_grad(), torch.cuda.stream(side):
            for _ in range(2):
                self._program_b(self._program_a(masked))
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph_a, graph_b = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
        with torch.no_grad():
            with torch.cuda.graph(graph_a, capture_error_mode='thread_local'):
                outputs = self._program_a(masked)
            with torch.cuda.graph(graph_b, pool=graph_a.pool(),
                                  capture_error_mode='thread_local'):
                self._program_b(outputs)
        self.captures += 1
        return graph_a, graph_b, outputs, masked

    def prepare(self) -> None:
        """Capture both graph pairs now (on a scratch slot) instead of on first use."""
        if not self.graphs:
            return
        for masked in (False, True):
            if masked not in self._graphs:
                self._write_params([(0, _SCRATCH_SLOT)], [], _SCRATCH_SLOT, (0, 0, 1, 1),
                                   (0, 0, self.crop, self.crop), 0.0, 0.0)
                self._params.copy_(self.params_host)
                self._graphs[masked] = self._capture(masked)
        self._torch.cuda.synchronize(self.device)

    # ---- one frame ---------------------------------------------------------------------
    def run(self, image: Any, frames: Sequence[Tuple[int, int]],
            pointers: Sequence[Tuple[int, int]], step: int, live_steps: Iterable[int],
            prior: npt.ArrayLike, clip: npt.ArrayLike, weight: float,
            obj_threshold: float) -> StepResult:
        """Run one tracking frame.

        Parameters
        ----------
        image : tensor, shape (1, 3, S, S), float32
            Preprocessed encoder input on the models' device.
        frames : sequence of (t_pos, step)
            Selected mask memories (slot order), by the step that stored them.
        pointers : sequence of (t_diff, step)
            Selected object pointers, by step.
        step : int
            This frame's inference step (its memory goes to a fresh ring slot).
        live_steps : iterable of int
            Steps the memory bank still holds (their slots are kept).
        prior : sequence of 4 float
            Kalman prior box in input pixels (used only when ``weight > 0``).
        clip : sequence of 4 float
            The frame's extent in input pixels (candidate boxes are clipped to it).
        weight : float
            SAMURAI's Kalman score weight in the stable regime, 0 otherwise.
        obj_threshold : float
            Object-score logit at or below which the masks are blanked.

        """
        torch = self._torch
        if 0 not in self._slots:
            raise RuntimeError('FusedTrackingStep.run before store_conditioning (no seed)')
        slot = self._allocate(step, live_steps)
        masked = self._write_params([(t, self._slots[s]) for t, s in frames],
                                    [(t, self._slots[s]) for t, s in pointers], slot, prior,
                                    clip, weight, obj_threshold)
        if not isinstance(image, torch.Tensor):  # NumpyOps preprocessing (CPU)
            image = torch.from_numpy(np.ascontiguousarray(image, np.float32))
        if image.data_ptr() != self.image.data_ptr():
            self.image.copy_(image)
        with torch.no_grad():
            if self.graphs:
                if masked not in self._graphs:
                    self._params.copy_(self.params_host)
                    self._graphs[masked] = self._capture(masked)
                graph_a, graph_b, outputs, _ = self._graphs[masked]
                self._params.copy_(self.params_host, non_blocking=True)
                graph_a.replay()
                self.results_host.copy_(outputs['results'], non_blocking=True)
                assert self._event is not None
                self._event.record()
                graph_b.replay()
                self._event.synchronize()
                values = self.results_host.numpy().astype(np.float64)
            else:
                if self._params is not self.params_host:  # eager on CUDA
                    self._params.copy_(self.params_host)
                outputs = self._program_a(masked)
                self._program_b(outputs)
                values = outputs['results'].detach().cpu().numpy().astype(np.float64)
        count = self.count
        tokens = values.size - (1 + 6 * count + 1)
        at = tokens + 1
        extents = values[at:at + 4 * count].reshape(count, 4)
        nonempty = values[at + 4 * count:at + 5 * count] > 0.5
        index = int(round(values[at + 5 * count]))
        feat, ptr = self._views(slot)
        return StepResult(values[:tokens].copy(), float(values[tokens]), extents.copy(),
                          nonempty, index, outputs['mask'], feat, ptr)
