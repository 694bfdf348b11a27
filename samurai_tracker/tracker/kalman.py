"""SAMURAI's box Kalman filter: constant velocity in ``xyah``, state-in/state-out.

State vector (8,), full-frame pixels per frame::

    [cx, cy, a, h, vcx, vcy, va, vh]

``(cx, cy)`` is the box centre (pixels), ``a = w / h`` the aspect ratio, ``h`` the height
(pixels) and the last four their velocities per frame. The measurement is ``xyah`` of a
box. The noise model is the reference one (yangchris11/samurai
``sam2/utils/kalman_filter.py``, inherited from DeepSORT): standard deviations of
position and size proportional to the current height (weights 1/20 and 1/160), a fixed
1e-2 / 1e-5 / 1e-1 on the aspect ratio. The filter runs in *frame* pixels, not crop
pixels: the crop moves every frame, and a crop-relative state breaks as soon as frames
are skipped (``max_kf``).

Every function is pure: it takes a :class:`KalmanState` and returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box

__all__ = [
    'KalmanState',
    'STD_WEIGHT_POSITION',
    'STD_WEIGHT_VELOCITY',
    'initiate',
    'predict',
    'project',
    'state_box',
    'update',
]

FloatArray = npt.NDArray[np.float64]

STD_WEIGHT_POSITION = 1.0 / 20.0
"""Position/size standard deviation per pixel of height (reference value)."""
STD_WEIGHT_VELOCITY = 1.0 / 160.0
"""Velocity standard deviation per pixel of height (reference value)."""

_MOTION = np.eye(8)
_MOTION[:4, 4:] = np.eye(4)  # x_{t+1} = x_t + v_t (dt = 1 frame)
_OBSERVE = np.eye(4, 8)


@dataclass(frozen=True)
class KalmanState:
    """Mean and covariance of the box state.

    Parameters
    ----------
    mean : numpy.ndarray, shape (8,), float64
        ``[cx, cy, a, h, vcx, vcy, va, vh]`` (pixels, ratio, pixels; per frame).
    covariance : numpy.ndarray, shape (8, 8), float64
        Symmetric positive semi-definite.

    """

    mean: FloatArray
    covariance: FloatArray

    def __post_init__(self) -> None:
        """Validate shapes and finiteness, and freeze the arrays."""
        mean = np.array(self.mean, dtype=np.float64)
        cov = np.array(self.covariance, dtype=np.float64)
        if mean.shape != (8,) or cov.shape != (8, 8):
            raise ValueError(f'KalmanState needs mean of shape (8,) and covariance (8, 8), got '
                             f'{mean.shape} and {cov.shape}')
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
            raise ValueError('KalmanState must be finite')
        mean.setflags(write=False)
        cov.setflags(write=False)
        object.__setattr__(self, 'mean', mean)
        object.__setattr__(self, 'covariance', cov)


def _measurement(box_or_xyah: Box | npt.ArrayLike) -> FloatArray:
    if isinstance(box_or_xyah, Box):
        return box_or_xyah.xyah()
    xyah = np.asarray(box_or_xyah, dtype=np.float64)
    if xyah.shape != (4,) or not np.all(np.isfinite(xyah)) or xyah[3] <= 0:
        raise ValueError(f'measurement must be xyah of shape (4,) with h > 0, got {xyah}')
    return xyah


def initiate(measurement: Box | npt.ArrayLike) -> KalmanState:
    """Start a track at a measured box with zero velocity.

    Parameters
    ----------
    measurement : Box or array_like, shape (4,)
        A box, or its ``xyah``; the height must be > 0.

    Returns
    -------
    KalmanState
        Mean ``[xyah, 0, 0, 0, 0]``; diagonal covariance with standard deviations
        ``2 h/20`` (position, height), ``1e-2`` (aspect), ``10 h/160`` (velocities of
        position and height), ``1e-5`` (aspect velocity).

    """
    xyah = _measurement(measurement)
    h = xyah[3]
    std = np.array([
        2 * STD_WEIGHT_POSITION * h, 2 * STD_WEIGHT_POSITION * h, 1e-2,
        2 * STD_WEIGHT_POSITION * h, 10 * STD_WEIGHT_VELOCITY * h,
        10 * STD_WEIGHT_VELOCITY * h, 1e-5, 10 * STD_WEIGHT_VELOCITY * h])
    return KalmanState(np.concatenate([xyah, np.zeros(4)]), np.diag(std ** 2))


def predict(state: KalmanState) -> KalmanState:
    """Advance the state by one frame (constant velocity).

    The process noise has standard deviations ``h/20`` (position, height), ``1e-2``
    (aspect), ``h/160`` (velocities), ``1e-5`` (aspect velocity), with ``h`` the height of
    the state *before* the step, as in the reference.
    """
    h = state.mean[3]
    std = np.array([
        STD_WEIGHT_POSITION * h, STD_WEIGHT_POSITION * h, 1e-2, STD_WEIGHT_POSITION * h,
        STD_WEIGHT_VELOCITY * h, STD_WEIGHT_VELOCITY * h, 1e-5, STD_WEIGHT_VELOCITY * h])
    mean = _MOTION @ state.mean
    cov = _MOTION @ state.covariance @ _MOTION.T + np.diag(std ** 2)
    return KalmanState(mean, cov)


def project(state: KalmanState) -> Tuple[FloatArray, FloatArray]:
    """Project the state into measurement space.

    Returns
    -------
    mean : numpy.ndarray, shape (4,)
        Expected ``xyah``.
    covariance : numpy.ndarray, shape (4, 4)
        Its covariance plus the measurement noise (std ``h/20``, ``h/20``, ``1e-1``,
        ``h/20``).

    """
    h = state.mean[3]
    std = np.array([STD_WEIGHT_POSITION * h, STD_WEIGHT_POSITION * h, 1e-1,
                    STD_WEIGHT_POSITION * h])
    mean = _OBSERVE @ state.mean
    cov = _OBSERVE @ state.covariance @ _OBSERVE.T + np.diag(std ** 2)
    return mean, cov


def update(state: KalmanState, measurement: Box | npt.ArrayLike) -> KalmanState:
    """Correct the state with a measured box (standard Kalman update).

    Parameters
    ----------
    state : KalmanState
        Usually the output of :func:`predict` for the same frame.
    measurement : Box or array_like, shape (4,)
        The measured box or its ``xyah``.

    Returns
    -------
    KalmanState
        ``mean + K (z - H mean)``, ``P - K S K^T`` with ``K = P H^T S^-1``.

    """
    z = _measurement(measurement)
    projected_mean, projected_cov = project(state)
    cross = state.covariance @ _OBSERVE.T  # (8, 4)
    gain = np.linalg.solve(projected_cov, cross.T).T  # S symmetric: K = P H^T S^-1
    mean = state.mean + gain @ (z - projected_mean)
    cov = state.covariance - gain @ projected_cov @ gain.T
    return KalmanState(mean, 0.5 * (cov + cov.T))


def state_box(state: KalmanState) -> Box:
    """Return the box of the state's position part (height clamped to >= 0)."""
    cx, cy, a, h = state.mean[:4]
    h = max(float(h), 0.0)
    w = max(float(a) * h, 0.0)
    return Box.from_cxcywh(float(cx), float(cy), w, h)
