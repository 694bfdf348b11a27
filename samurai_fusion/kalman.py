"""The master constant-velocity Kalman filter of the fused track, in frame pixels.

State vector (8,), float64, full-frame pixels and pixels per second::

    x = [cx, cy, w, h, vcx, vcy, vw, vh]

(box centre, full width and height, and their rates). The filter is state-in/state-out:
:func:`predict` and :func:`update` take a :class:`KalmanState` and return a new one, so a
caller can keep, compare or roll back states freely and the functions are trivially
testable.

Noise model
-----------
* Motion: piecewise-constant white acceleration, independent per component. Over a step
  of ``dt`` seconds a component with acceleration standard deviation ``sigma`` (px/s^2)
  gains covariance ``sigma^2 * G G^T`` with ``G = [dt^2 / 2, dt]`` over (position, rate).
  The centre and the size have their own ``sigma`` (a box moves faster than it grows).
  Noise is flat in pixels rather than proportional to the box size: the filter then
  behaves the same for a 20-pixel drone and a 400-pixel car, which is what the flat
  pixel gate (see :mod:`samurai_fusion.gating`) assumes.
* Measurement: a box ``z = [cx, cy, w, h]`` with isotropic noise ``std^2 * I4``; the
  caller picks ``std`` per source (tracker full inference < tracker prediction < detector)
  so the more trustworthy measurement pulls harder.

Time steps use the image stamps, so a dropped frame simply means a longer ``dt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box

__all__ = ['KalmanState', 'initiate', 'innovation', 'predict', 'update', 'MEASUREMENT_MATRIX']

FloatArray = npt.NDArray[np.float64]

MEASUREMENT_MATRIX = np.hstack([np.eye(4), np.zeros((4, 4))])
"""H (4, 8): the measurement is the first four state components, ``[cx, cy, w, h]``."""


@dataclass(frozen=True)
class KalmanState:
    """Mean and covariance of the fused box.

    Parameters
    ----------
    mean : numpy.ndarray, shape (8,), float64
        ``[cx, cy, w, h, vcx, vcy, vw, vh]`` in px and px/s; finite.
    covariance : numpy.ndarray, shape (8, 8), float64
        Symmetric, finite.

    """

    mean: FloatArray
    covariance: FloatArray

    def __post_init__(self) -> None:
        """Validate, copy and freeze the arrays."""
        mean = np.asarray(self.mean, np.float64).copy()
        cov = np.asarray(self.covariance, np.float64).copy()
        if mean.shape != (8,) or cov.shape != (8, 8):
            raise ValueError(f'KalmanState needs mean (8,) and covariance (8, 8), '
                             f'got {mean.shape} and {cov.shape}')
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
            raise ValueError('KalmanState mean and covariance must be finite')
        cov = (cov + cov.T) / 2
        for array in (mean, cov):
            array.setflags(write=False)
        object.__setattr__(self, 'mean', mean)
        object.__setattr__(self, 'covariance', cov)

    def box(self) -> Box:
        """Return the mean as a box (sizes floored at 1 px so the box stays valid)."""
        cx, cy, w, h = self.mean[:4]
        return Box.from_cxcywh(float(cx), float(cy), max(float(w), 1.0), max(float(h), 1.0))

    @property
    def centre(self) -> FloatArray:
        """``[cx, cy]`` of the mean, shape (2,), pixels."""
        return self.mean[:2].copy()


def _box_vector(box: Box) -> FloatArray:
    return box.cxcywh()


def initiate(box: Box, position_std: float, velocity_std: float) -> KalmanState:
    """Start a filter on a measured box with zero velocity.

    Parameters
    ----------
    box : Box
        The first measurement, full-frame pixels.
    position_std : float
        Standard deviation (px) of the box components, usually that measurement's noise.
    velocity_std : float
        Standard deviation (px/s) of the unknown rates; large, so the first updates set them.

    """
    if position_std <= 0 or velocity_std <= 0:
        raise ValueError(f'position_std and velocity_std must be > 0, '
                         f'got {position_std}, {velocity_std}')
    mean = np.concatenate([_box_vector(box), np.zeros(4)])
    cov = np.diag([position_std ** 2] * 4 + [velocity_std ** 2] * 4)
    return KalmanState(mean, cov)


def predict(state: KalmanState, dt: float, centre_accel_std: float,
            size_accel_std: float) -> KalmanState:
    """Propagate the state ``dt`` seconds ahead under constant velocity.

    Parameters
    ----------
    state : KalmanState
    dt : float
        Seconds (>= 0); 0 returns the state unchanged.
    centre_accel_std, size_accel_std : float
        Acceleration standard deviations (px/s^2) of the centre and of the size (>= 0).

    """
    if not (dt >= 0 and np.isfinite(dt)):
        raise ValueError(f'dt must be finite and >= 0 seconds, got {dt}')
    if dt == 0:
        return state
    transition = np.eye(8)
    transition[:4, 4:] = dt * np.eye(4)
    sigma = np.array([centre_accel_std] * 2 + [size_accel_std] * 2, np.float64)
    g_pos, g_vel = dt * dt / 2, dt
    q = np.zeros((8, 8))
    var = sigma ** 2
    q[:4, :4] = np.diag(var * g_pos * g_pos)
    q[:4, 4:] = np.diag(var * g_pos * g_vel)
    q[4:, :4] = np.diag(var * g_pos * g_vel)
    q[4:, 4:] = np.diag(var * g_vel * g_vel)
    mean = transition @ state.mean
    cov = transition @ state.covariance @ transition.T + q
    return KalmanState(mean, cov)


def innovation(state: KalmanState, box: Box, std: float) -> tuple[FloatArray, FloatArray]:
    """Innovation ``y = z - H x`` (4,) and its covariance ``S = H P H^T + R`` (4, 4)."""
    if std <= 0:
        raise ValueError(f'measurement std must be > 0 px, got {std}')
    residual = _box_vector(box) - MEASUREMENT_MATRIX @ state.mean
    cov = MEASUREMENT_MATRIX @ state.covariance @ MEASUREMENT_MATRIX.T + std ** 2 * np.eye(4)
    return residual, cov


def update(state: KalmanState, box: Box, std: float) -> KalmanState:
    """Correct the state with one measured box.

    Parameters
    ----------
    state : KalmanState
    box : Box
        Measured box, full-frame pixels.
    std : float
        Measurement noise standard deviation (px, > 0) of this source.

    Returns
    -------
    KalmanState
        The posterior (Joseph form, so the covariance stays symmetric positive definite).

    """
    residual, s = innovation(state, box, std)
    h = MEASUREMENT_MATRIX
    gain = np.linalg.solve(s, h @ state.covariance).T  # P H^T S^-1, (8, 4)
    mean = state.mean + gain @ residual
    identity_minus = np.eye(8) - gain @ h
    r = std ** 2 * np.eye(4)
    cov = identity_minus @ state.covariance @ identity_minus.T + gain @ r @ gain.T
    return KalmanState(mean, cov)
