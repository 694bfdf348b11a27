"""The xyah Kalman filter against hand-computed predict/update steps."""

import numpy as np
import pytest

from samurai_tracker.records import Box
from samurai_tracker.tracker import kalman


def test_initiate_uses_reference_standard_deviations():
    state = kalman.initiate(Box.from_cxcywh(100, 50, 40, 20))  # a = 2, h = 20
    np.testing.assert_allclose(state.mean, [100, 50, 2, 20, 0, 0, 0, 0])
    # std: 2*h/20 = 2 (x, y, h), 1e-2 (a), 10*h/160 = 1.25 (velocities), 1e-5 (va)
    np.testing.assert_allclose(np.diag(state.covariance),
                               [4, 4, 1e-4, 4, 1.5625, 1.5625, 1e-10, 1.5625])
    assert np.count_nonzero(state.covariance - np.diag(np.diag(state.covariance))) == 0


def test_predict_moves_by_velocity_and_adds_process_noise():
    mean = np.array([10.0, 20.0, 0.5, 40.0, 1.0, -2.0, 0.0, 0.5])
    cov = np.diag([1.0, 1.0, 0.01, 1.0, 0.25, 0.25, 1e-6, 0.25])
    out = kalman.predict(kalman.KalmanState(mean, cov))
    np.testing.assert_allclose(out.mean, [11.0, 18.0, 0.5, 40.5, 1.0, -2.0, 0.0, 0.5])
    # position variance: P + P_v + (h/20)^2 with h = 40 -> 1 + 0.25 + 4
    assert out.covariance[0, 0] == pytest.approx(5.25)
    assert out.covariance[0, 4] == pytest.approx(0.25)  # cross term P_v
    assert out.covariance[4, 4] == pytest.approx(0.25 + (40 / 160) ** 2)
    assert out.covariance[2, 2] == pytest.approx(0.01 + 1e-6 + 1e-4)


def test_update_on_one_axis_is_the_scalar_kalman_gain():
    state = kalman.initiate(Box.from_cxcywh(100, 100, 20, 20))  # h = 20
    measured = np.array([104.0, 100.0, 1.0, 20.0])
    out = kalman.update(state, measured)
    # x: prior var 4, measurement var (20/20)^2 = 1 -> gain 0.8
    assert out.mean[0] == pytest.approx(100 + 0.8 * 4)
    assert out.covariance[0, 0] == pytest.approx(4 - 0.8 * 4)
    # velocity picks up nothing (no prior correlation with position)
    assert out.mean[4] == pytest.approx(0.0)
    assert out.mean[1] == pytest.approx(100.0)


def test_update_after_predict_learns_velocity():
    state = kalman.initiate(Box.from_cxcywh(0, 0, 10, 10))
    for step in range(1, 30):
        state = kalman.update(kalman.predict(state), Box.from_cxcywh(3.0 * step, 0, 10, 10))
    assert state.mean[4] == pytest.approx(3.0, abs=0.05)
    predicted = kalman.state_box(kalman.predict(state))
    assert predicted.cx == pytest.approx(3.0 * 30, abs=0.5)


def test_states_are_immutable_and_validated():
    state = kalman.initiate(Box.from_cxcywh(5, 5, 4, 4))
    with pytest.raises(ValueError):
        state.mean[0] = 1.0
    with pytest.raises(ValueError, match='shape'):
        kalman.KalmanState(np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match='h > 0'):
        kalman.initiate([1.0, 1.0, 1.0, 0.0])
