"""SAMURAI's memory bank: which past frames the current frame attends to.

Frames are numbered by *inference step* since the seed (the seed frame is step 0, each
full inference adds one; frames coasted on the Kalman filter add none), so the temporal
encodings stay those the model was trained with whatever ``max_kf`` is.

Selection, as the reference does it (``_prepare_memory_conditioned_features`` with
``samurai_mode`` in yangchris11/samurai):

- mask memories: slot 0 is the conditioning (seed) frame with ``t_pos = 0``; the other
  slots take, oldest first, the up-to-6 most recent *eligible* frames among steps
  ``2 .. t-1`` (the reference's backward scan stops before step 1) plus always step
  ``t-1``; the most recent gets ``t_pos = 6``. A frame is eligible when its predicted IoU
  is above ``memory_bank_iou_threshold``, its object-score logit above
  ``memory_bank_obj_score_threshold`` and its Kalman score, when it has one, above
  ``memory_bank_kf_score_threshold``;
- object pointers: the seed frame's with temporal offset ``t`` (signed), then those of
  the up-to-15 previous steps ``t-1 .. t-15`` that exist, offset ``t - step``.

Only what a future frame can still select is kept (:meth:`MemoryBank.prune`): the seed
entry, the last 15 steps' pointers and the feature maps of the 6 most recent eligible
frames and of the last frame, so memory is bounded whatever the video length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

__all__ = ['MemoryBank', 'MemoryEntry', 'NUM_RECENT_SLOTS', 'POINTER_WINDOW']

NUM_RECENT_SLOTS = 6
"""Mask-memory slots besides the conditioning frame (``num_maskmem - 1``)."""
POINTER_WINDOW = 15
"""Previous steps whose object pointers are used (``max_obj_ptrs_in_encoder - 1``)."""
FIRST_SCANNED_STEP = 2
"""Lowest step the reference's eligibility scan looks at (``range(t - 1, 1, -1)``)."""


@dataclass
class MemoryEntry:
    """What one processed frame leaves in memory.

    Parameters
    ----------
    step : int
        Inference step since the seed (0 = the conditioning frame).
    maskmem_feat : array or None
        Memory features, shape (1, 64, S/16, S/16), on the runtime's device; dropped
        (None) once only the pointer can still be used.
    obj_ptr : array
        Object pointer, shape (1, 256).
    iou : float
        Predicted IoU of the chosen mask.
    obj_score : float
        Object-score logit.
    kf_score : float or None
        Kalman score of the chosen mask (regime 3 frames only).

    """

    step: int
    maskmem_feat: Any
    obj_ptr: Any
    iou: float
    obj_score: float
    kf_score: Optional[float] = None


class MemoryBank:
    """The conditioning frame plus the recent frames that may still be selected.

    Parameters
    ----------
    iou_threshold, obj_score_threshold, kf_score_threshold : float
        The three eligibility gates (see the module docstring).

    """

    def __init__(self, iou_threshold: float, obj_score_threshold: float,
                 kf_score_threshold: float) -> None:
        self.iou_threshold = float(iou_threshold)
        self.obj_score_threshold = float(obj_score_threshold)
        self.kf_score_threshold = float(kf_score_threshold)
        self.conditioning: Optional[MemoryEntry] = None
        self._entries: Dict[int, MemoryEntry] = {}

    def __len__(self) -> int:
        """Return the number of stored non-conditioning entries."""
        return len(self._entries)

    @property
    def steps(self) -> List[int]:
        """Steps of the stored non-conditioning entries, ascending."""
        return sorted(self._entries)

    def feature_count(self) -> int:
        """Return how many feature maps are held (conditioning frame included)."""
        held = sum(e.maskmem_feat is not None for e in self._entries.values())
        return held + int(self.conditioning is not None)

    def eligible(self, entry: MemoryEntry) -> bool:
        """Whether ``entry`` passes the IoU, object-score and Kalman-score gates."""
        return (entry.iou > self.iou_threshold
                and entry.obj_score > self.obj_score_threshold
                and (entry.kf_score is None or entry.kf_score > self.kf_score_threshold))

    def reset(self, conditioning: MemoryEntry) -> None:
        """Drop everything and start from a new conditioning (seed) frame."""
        if conditioning.step != 0 or conditioning.maskmem_feat is None:
            raise ValueError('the conditioning entry must be step 0 and hold features')
        self.conditioning = conditioning
        self._entries = {}

    def clear(self) -> None:
        """Drop everything (no seed)."""
        self.conditioning = None
        self._entries = {}

    def add(self, entry: MemoryEntry) -> None:
        """Store the entry of a tracking frame, then prune what can no longer be used."""
        if self.conditioning is None:
            raise ValueError('MemoryBank.add needs a conditioning frame first (reset)')
        if entry.step <= 0 or (self._entries and entry.step <= max(self._entries)):
            raise ValueError(f'steps must increase from 1, got {entry.step} after '
                             f'{self.steps[-1:] or [0]}')
        if entry.maskmem_feat is None:
            raise ValueError('a new entry must hold its memory features')
        self._entries[entry.step] = entry
        self.prune(entry.step + 1)

    def select_frames(self, step: int) -> List[Tuple[int, MemoryEntry]]:
        """Mask memories for the frame at ``step`` as ``(t_pos, entry)``, slot order.

        Slot 0 is the conditioning frame (``t_pos`` 0); then the selected recent frames,
        oldest first, with ``t_pos`` counting up to 6 for the most recent.
        """
        if self.conditioning is None:
            raise ValueError('no conditioning frame: seed the tracker first')
        chosen: List[int] = []
        for s in range(step - 1, FIRST_SCANNED_STEP - 1, -1):
            entry = self._entries.get(s)
            if entry is not None and self.eligible(entry):
                chosen.insert(0, s)
                if len(chosen) >= NUM_RECENT_SLOTS:
                    break  # only the most recent six can be used
        if step - 1 >= 1 and step - 1 not in chosen:
            chosen.append(step - 1)
        chosen = chosen[-NUM_RECENT_SLOTS:]
        result = [(0, self.conditioning)]
        first_t_pos = NUM_RECENT_SLOTS + 1 - len(chosen)
        for offset, s in enumerate(chosen):
            entry = self._entries.get(s)
            if entry is None or entry.maskmem_feat is None:
                continue  # never stored (cannot happen for steps added in order)
            result.append((first_t_pos + offset, entry))
        return result

    def select_pointers(self, step: int) -> List[Tuple[int, MemoryEntry]]:
        """Object pointers for the frame at ``step`` as ``(t_diff, entry)``.

        The conditioning frame's first (``t_diff = step``), then steps ``step - 1`` back
        to ``step - 15`` where stored.
        """
        if self.conditioning is None:
            raise ValueError('no conditioning frame: seed the tracker first')
        result = [(step, self.conditioning)]
        for t_diff in range(1, POINTER_WINDOW + 1):
            entry = self._entries.get(step - t_diff)
            if entry is not None:
                result.append((t_diff, entry))
        return result

    def prune(self, next_step: int) -> None:
        """Forget what no frame at ``next_step`` or later can select.

        Pointers older than 15 steps go; feature maps are kept only for the 6 most recent
        eligible frames (steps >= 2) and for the newest frame.
        """
        recent_eligible = [s for s in sorted(self._entries, reverse=True)
                           if s >= FIRST_SCANNED_STEP and self.eligible(self._entries[s])]
        keep_features = set(recent_eligible[:NUM_RECENT_SLOTS])
        if self._entries:
            keep_features.add(max(self._entries))
        for s in list(self._entries):
            entry = self._entries[s]
            if s not in keep_features:
                entry.maskmem_feat = None
            if entry.maskmem_feat is None and s < next_step - POINTER_WINDOW:
                del self._entries[s]
