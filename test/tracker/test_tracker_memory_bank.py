"""Memory-bank selection as the SAMURAI reference does it, and its bounded size."""

import numpy as np
import pytest

from samurai_tracker.tracker.memory import MemoryBank, MemoryEntry


def reference_frames(scores, t):
    """The reference's selection over *all* past frames (no pruning): list of (t_pos, step)."""
    valid = []
    for i in range(t - 1, 1, -1):
        iou, obj, kf = scores[i]
        if iou > 0.5 and obj > 0.0 and (kf is None or kf > 0.0):
            valid.insert(0, i)
        if len(valid) >= 15:
            break
    if t - 1 not in valid:
        valid.append(t - 1)
    chosen = [(0, 0)]
    for t_pos in range(1, 7):
        idx = t_pos - 7
        if idx < -len(valid) or valid[idx] == 0:
            continue
        chosen.append((t_pos, valid[idx]))
    return chosen


def reference_pointers(t):
    return [(t, 0)] + [(d, t - d) for d in range(1, 16) if t - d >= 1]


def make_entry(step, scores):
    iou, obj, kf = scores[step]
    return MemoryEntry(step, f'feat{step}', f'ptr{step}', iou, obj, kf)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_selection_matches_the_unbounded_reference_over_a_long_run(seed):
    rng = np.random.default_rng(seed)
    steps = 400
    scores = {0: (1.0, 10.0, None)}
    for i in range(1, steps):
        iou = float(rng.choice([0.3, 0.9], p=[0.4, 0.6]))
        obj = float(rng.choice([-2.0, 5.0], p=[0.2, 0.8]))
        kf = None if rng.random() < 0.3 else float(rng.choice([0.0, 0.7], p=[0.2, 0.8]))
        scores[i] = (iou, obj, kf)
    bank = MemoryBank(0.5, 0.0, 0.0)
    bank.reset(make_entry(0, scores))
    for t in range(1, steps):
        frames = [(t_pos, e.step) for t_pos, e in bank.select_frames(t)]
        assert frames == reference_frames(scores, t), f'step {t}'
        pointers = [(d, e.step) for d, e in bank.select_pointers(t)]
        assert pointers == reference_pointers(t), f'step {t}'
        assert all(e.maskmem_feat is not None for _, e in bank.select_frames(t))
        bank.add(make_entry(t, scores))
        assert bank.feature_count() <= 8  # seed + 6 eligible + newest
        assert len(bank) <= 15 + 7


def test_first_frames_use_what_exists():
    scores = {0: (1.0, 1.0, None), 1: (0.9, 1.0, None), 2: (0.9, 1.0, None)}
    bank = MemoryBank(0.5, 0.0, 0.0)
    bank.reset(make_entry(0, scores))
    assert [(p, e.step) for p, e in bank.select_frames(1)] == [(0, 0)]
    bank.add(make_entry(1, scores))
    assert [(p, e.step) for p, e in bank.select_frames(2)] == [(0, 0), (6, 1)]
    bank.add(make_entry(2, scores))
    # the reference's scan stops before step 1: step 1 is never selected again
    assert [(p, e.step) for p, e in bank.select_frames(3)] == [(0, 0), (6, 2)]


def test_gates_are_strict_and_kalman_gate_applies_only_when_scored():
    bank = MemoryBank(0.5, 0.0, 0.0)
    assert not bank.eligible(MemoryEntry(5, None, None, 0.5, 1.0, None))
    assert not bank.eligible(MemoryEntry(5, None, None, 0.9, 0.0, None))
    assert not bank.eligible(MemoryEntry(5, None, None, 0.9, 1.0, 0.0))
    assert bank.eligible(MemoryEntry(5, None, None, 0.9, 1.0, None))
    assert bank.eligible(MemoryEntry(5, None, None, 0.9, 1.0, 0.01))


def test_misuse_raises():
    bank = MemoryBank(0.5, 0.0, 0.0)
    with pytest.raises(ValueError, match='conditioning'):
        bank.add(MemoryEntry(1, 'f', 'p', 1.0, 1.0))
    with pytest.raises(ValueError, match='seed'):
        bank.select_frames(1)
    bank.reset(MemoryEntry(0, 'f', 'p', 1.0, 1.0))
    bank.add(MemoryEntry(1, 'f', 'p', 1.0, 1.0))
    with pytest.raises(ValueError, match='increase'):
        bank.add(MemoryEntry(1, 'f', 'p', 1.0, 1.0))
