"""Which measurements may update the fused track: a flat pixel gate, Mahalanobis optional.

A measurement is admitted when its box centre lies within a radius (pixels) of the
predicted centre. The radius is flat - the same for every box size - and widens linearly
while the track coasts, because the prediction gets less certain with every frame
without a measurement (capped so a long coast cannot swallow the whole image).

Why not the textbook Mahalanobis distance: the innovation covariance scales with the
box-size-dependent noise of the filter, so for small objects the statistical gate turns
into reject-everything or accept-everything, where a plain pixel radius keeps working
(the Jetson port this design follows measured exactly that). The Mahalanobis test is kept
as an option, off by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from samurai_fusion.kalman import innovation, KalmanState
from samurai_tracker.records import Box

__all__ = ['GateConfig', 'gate_radius', 'in_gate', 'centre_distance', 'mahalanobis_squared']


@dataclass(frozen=True)
class GateConfig:
    """Gate parameters.

    Parameters
    ----------
    radius_px : float
        Radius (px, > 0) around the predicted centre on a measured frame.
    growth_px_per_frame : float
        Added per frame since the last good measurement (px, >= 0).
    max_radius_px : float
        Upper bound of the widened radius (px, >= radius_px).
    use_mahalanobis : bool
        Gate on the squared Mahalanobis distance of the full box instead (off by default).
    mahalanobis_threshold : float
        Squared-distance bound for the Mahalanobis gate (> 0); 9.49 is the 95 % point of a
        chi-square with 4 degrees of freedom.

    """

    radius_px: float = 80.0
    growth_px_per_frame: float = 4.0
    max_radius_px: float = 200.0
    use_mahalanobis: bool = False
    mahalanobis_threshold: float = 9.4877

    def __post_init__(self) -> None:
        """Validate ranges."""
        if not self.radius_px > 0:
            raise ValueError(f'gate radius_px must be > 0, got {self.radius_px}')
        if self.growth_px_per_frame < 0:
            raise ValueError(f'gate growth_px_per_frame must be >= 0, '
                             f'got {self.growth_px_per_frame}')
        if self.max_radius_px < self.radius_px:
            raise ValueError(f'gate max_radius_px ({self.max_radius_px}) must be >= '
                             f'radius_px ({self.radius_px})')
        if not self.mahalanobis_threshold > 0:
            raise ValueError('mahalanobis_threshold must be > 0')


def gate_radius(config: GateConfig, frames_since_measurement: int) -> float:
    """Radius (px) of the pixel gate after ``frames_since_measurement`` coasting frames."""
    grown = config.radius_px + config.growth_px_per_frame * max(frames_since_measurement, 0)
    return float(min(grown, config.max_radius_px))


def centre_distance(state: KalmanState, box: Box) -> float:
    """Euclidean distance (px) between the predicted centre and the box centre."""
    return float(np.hypot(box.cx - state.mean[0], box.cy - state.mean[1]))


def mahalanobis_squared(state: KalmanState, box: Box, std: float) -> float:
    """Squared Mahalanobis distance of the box from the prediction (4 degrees of freedom)."""
    residual, cov = innovation(state, box, std)
    return float(residual @ np.linalg.solve(cov, residual))


def in_gate(config: GateConfig, state: KalmanState, box: Box, std: float,
            frames_since_measurement: int) -> bool:
    """Whether ``box`` (measured with noise ``std`` px) may update ``state``."""
    if config.use_mahalanobis:
        return mahalanobis_squared(state, box, std) <= config.mahalanobis_threshold
    return centre_distance(state, box) <= gate_radius(config, frames_since_measurement)
