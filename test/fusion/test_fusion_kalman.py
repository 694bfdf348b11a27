"""The master constant-velocity Kalman filter and its gate."""

import numpy as np
import pytest

from samurai_fusion import centre_distance, gate_radius, GateConfig, in_gate, initiate, \
    KalmanState, mahalanobis_squared, predict, update
from samurai_tracker.records import Box


def test_predict_moves_the_mean_by_velocity_and_grows_uncertainty():
    state = KalmanState(np.array([100, 50, 20, 10, 30, -60, 2, 0], float), np.eye(8))
    out = predict(state, 0.5, centre_accel_std=10.0, size_accel_std=1.0)
    np.testing.assert_allclose(out.mean, [115, 20, 21, 10, 30, -60, 2, 0])
    assert np.all(np.diag(out.covariance) > np.diag(state.covariance))
    # position variance: p + dt^2 v + sigma^2 dt^4 / 4 (p = v = 1, no initial cross term)
    assert out.covariance[0, 0] == pytest.approx(1 + 0.25 + 100 * 0.5 ** 4 / 4)
    assert predict(state, 0.0, 10.0, 1.0) is state


def test_update_is_the_scalar_kalman_gain_per_component():
    state = KalmanState(np.array([0, 0, 10, 10, 0, 0, 0, 0], float),
                        np.diag([9.0] * 4 + [1.0] * 4))
    out = update(state, Box.from_cxcywh(10, -20, 14, 10), std=4.0)  # R = 16, P = 9
    gain = 9 / (9 + 16)
    np.testing.assert_allclose(out.mean[:4], [10 * gain, -20 * gain, 10 + 4 * gain, 10])
    np.testing.assert_allclose(np.diag(out.covariance)[:4], 9 * (1 - gain))
    assert np.all(np.linalg.eigvalsh(out.covariance) > 0)


def test_constant_motion_velocity_is_learnt():
    state = initiate(Box.from_cxcywh(50, 60, 40, 30), 4.0, 200.0)
    rng = np.random.default_rng(0)
    dt, velocity = 1 / 30, np.array([90.0, -45.0])
    for k in range(1, 120):
        state = predict(state, dt, 150.0, 50.0)
        centre = np.array([50, 60]) + velocity * k * dt + rng.normal(0, 2, 2)
        state = update(state, Box.from_cxcywh(*centre, 40, 30), 4.0)
    np.testing.assert_allclose(state.mean[4:6], velocity, atol=10)  # px/s, 0.3 px/frame
    np.testing.assert_allclose(state.mean[2:4], [40, 30], atol=2)


def test_a_less_trusted_measurement_pulls_less():
    state = initiate(Box.from_cxcywh(0, 0, 10, 10), 4.0, 100.0)
    far = Box.from_cxcywh(20, 0, 10, 10)
    full = update(state, far, 4.0).mean[0]
    predicted = update(state, far, 12.0).mean[0]
    assert 0 < predicted < full < 20


def test_bad_values_are_refused_with_shapes_and_ranges():
    with pytest.raises(ValueError, match=r'\(8,\)'):
        KalmanState(np.zeros(4), np.eye(8))
    with pytest.raises(ValueError, match='finite'):
        KalmanState(np.full(8, np.nan), np.eye(8))
    state = initiate(Box.from_cxcywh(0, 0, 10, 10), 1.0, 1.0)
    with pytest.raises(ValueError, match='dt'):
        predict(state, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match='std'):
        update(state, Box.from_cxcywh(0, 0, 10, 10), 0.0)


def test_flat_pixel_gate_radius_grows_while_coasting_and_is_capped():
    config = GateConfig(radius_px=50, growth_px_per_frame=10, max_radius_px=80)
    assert [gate_radius(config, n) for n in (0, 1, 3, 10)] == [50, 60, 80, 80]
    state = initiate(Box.from_cxcywh(100, 100, 20, 20), 4.0, 100.0)
    inside = Box.from_cxcywh(130, 140, 20, 20)  # 50 px away
    outside = Box.from_cxcywh(131, 140, 20, 20)
    assert centre_distance(state, inside) == pytest.approx(50)
    assert in_gate(config, state, inside, 8.0, 0)
    assert not in_gate(config, state, outside, 8.0, 0)
    assert in_gate(config, state, outside, 8.0, 1)


def test_the_gate_does_not_depend_on_box_size_but_mahalanobis_does():
    """Seed 000's lesson: a statistical gate changes with the box, a pixel radius does not."""
    pixel = GateConfig(radius_px=40)
    maha = GateConfig(radius_px=40, use_mahalanobis=True)
    for size in (8, 400):
        state = initiate(Box.from_cxcywh(100, 100, size, size), 4.0, 100.0)
        shifted = Box.from_cxcywh(130, 100, size * 1.5, size * 1.5)
        assert in_gate(pixel, state, shifted, 8.0, 0)
    small = initiate(Box.from_cxcywh(100, 100, 8, 8), 4.0, 100.0)
    big = initiate(Box.from_cxcywh(100, 100, 400, 400), 4.0, 100.0)
    d_small = mahalanobis_squared(small, Box.from_cxcywh(130, 100, 12, 12), 8.0)
    d_big = mahalanobis_squared(big, Box.from_cxcywh(130, 100, 600, 600), 8.0)
    assert d_big > d_small
    assert in_gate(maha, small, Box.from_cxcywh(101, 100, 8, 8), 8.0, 0)
    assert not in_gate(maha, big, Box.from_cxcywh(130, 100, 600, 600), 8.0, 0)
    with pytest.raises(ValueError, match='max_radius_px'):
        GateConfig(radius_px=50, max_radius_px=10)
