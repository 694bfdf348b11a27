"""Track states, confidence and configuration validation."""

import math

import pytest

from samurai_tracker.records import TrackState
from samurai_tracker.tracker import config_parameters, TrackerConfig, TrackerInputError
from samurai_tracker.tracker.lifecycle import (after_coast, after_measurement, after_seed,
                                               confidence)

CFG = TrackerConfig(lost_after_frames=3, reacquire_frames=2)


def test_confidence_is_the_documented_logistic():
    assert confidence(0.0, 0.5, CFG) == pytest.approx(0.5)
    assert confidence(10.0, 0.98, CFG) == pytest.approx(1 / (1 + math.exp(-(10 + 4.8))))
    assert confidence(-10.0, 0.98, CFG) < 0.01
    assert confidence(2.0, 0.3, CFG) == pytest.approx(0.5)  # 2 - 10*0.2 = 0
    assert confidence(float('nan'), 0.9, CFG) == 0.0
    assert 0.0 <= confidence(1e9, 1.0, CFG) <= 1.0


def test_occlusion_loss_and_reacquisition():
    life = after_seed(False, 0.99, 0, CFG)
    assert life.state is TrackState.TRACKED
    life = after_measurement(life, False, 0.1, None, CFG)
    assert (life.state, life.frames_since_measurement) == (TrackState.OCCLUDED, 1)
    life = after_measurement(life, True, 0.9, None, CFG)  # back before the loss
    assert (life.state, life.frames_since_measurement) == (TrackState.TRACKED, 0)
    for expected in (TrackState.OCCLUDED, TrackState.OCCLUDED, TrackState.LOST,
                     TrackState.LOST):
        life = after_measurement(life, False, 0.1, None, CFG)
        assert life.state is expected
    life = after_measurement(life, True, 0.9, None, CFG)
    assert life.state is TrackState.REACQUIRED and life.frames_since_measurement == 0
    life = after_measurement(life, False, 0.2, None, CFG)  # a relapse keeps the probation
    assert life.state is TrackState.OCCLUDED and life.probation
    life = after_measurement(life, True, 0.9, None, CFG)
    assert life.state is TrackState.REACQUIRED
    life = after_measurement(life, True, 0.9, None, CFG)
    assert life.state is TrackState.TRACKED and not life.probation


def test_reseed_starts_reacquired_and_time_based_loss():
    life = after_seed(True, 0.9, 0, CFG)
    assert life.state is TrackState.REACQUIRED
    assert after_measurement(life, True, 0.9, 1, CFG).state is TrackState.TRACKED
    timed = TrackerConfig(lost_after_frames=1000, lost_after_seconds=0.5)
    life = after_seed(False, 0.9, 0, timed)
    life = after_measurement(life, False, 0.1, 400_000_000, timed)
    assert life.state is TrackState.OCCLUDED
    life = after_measurement(life, False, 0.1, 500_000_000, timed)
    assert life.state is TrackState.LOST


def test_coasting_decays_confidence_and_can_lose():
    life = after_seed(False, 0.8, None, CFG)
    life = after_coast(life, None, CFG)
    assert life.confidence == pytest.approx(0.72) and life.state is TrackState.TRACKED
    life = after_coast(after_coast(life, None, CFG), None, CFG)
    assert life.state is TrackState.LOST


def test_config_validation_names_field_and_range():
    with pytest.raises(TrackerInputError, match=r'max_kf must lie in \[0, 30\]'):
        TrackerConfig(max_kf=31)
    with pytest.raises(TrackerInputError, match='kf_score_weight'):
        TrackerConfig(kf_score_weight=float('nan'))
    with pytest.raises(TrackerInputError, match='view_mode'):
        TrackerConfig(view_mode='zoom')
    with pytest.raises(TrackerInputError, match='an int'):
        TrackerConfig(lost_after_frames=2.5)
    with pytest.raises(TrackerInputError, match='unknown'):
        TrackerConfig().with_overrides(max_kff=2)
    assert TrackerConfig(max_kf=2.0).max_kf == 2 and isinstance(TrackerConfig(max_kf=2.0).max_kf,
                                                                int)


def test_every_field_is_described_with_a_range_or_choices():
    params = config_parameters(TrackerConfig(max_kf=2))
    names = {p.name for p in params}
    assert names == set(TrackerConfig().as_dict())
    for p in params:
        assert p.description
        assert p.choices or isinstance(p.default, bool) or p.low <= p.default <= p.high
    assert next(p for p in params if p.name == 'max_kf').default == 2
