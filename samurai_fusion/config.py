"""Every knob of the fusion filter in one validated record (the node's parameters mirror it).

Frame counts are in processed images (at 30 fps, 15 frames = 0.5 s); distances in pixels
of the full frame; noise in pixels (measurements) and pixels per second squared (motion).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict

from samurai_fusion.gating import GateConfig
from samurai_tracker.records import SeedPolicy

__all__ = ['FusionConfig']


@dataclass(frozen=True)
class FusionConfig:
    """Parameters of :class:`samurai_fusion.fusion_filter.FusionFilter`.

    Parameters
    ----------
    target_class : int
        Detector class id of the followed object; -1 accepts every class.
    gate : GateConfig
        Pixel gate of the measurements (flat radius; Mahalanobis optional, off).
    tracker_full_std_px : float
        Measurement noise of a tracker box from a full SAMURAI inference (px, > 0).
    tracker_predicted_std_px : float
        Noise of a tracker box that is its own Kalman prediction (max_kf coasting); larger
        than ``tracker_full_std_px`` so extrapolated boxes pull less (px, > 0).
    detector_std_px : float
        Noise of a detector box (px, > 0).
    centre_accel_std : float
        Motion noise of the centre (px/s^2, >= 0).
    size_accel_std : float
        Motion noise of the width and height (px/s^2, >= 0).
    initial_velocity_std : float
        Uncertainty of the unknown rates when a track starts (px/s, > 0).
    min_detection_score : float
        Detections below this score are never used, in [0, 1].
    ambiguity_max_frames : int
        Longest stretch (frames, >= 1) over which look-alikes in the gate are told apart by
        the motion from before the encounter; then the anchor is renewed from the track.
    ambiguity_agree_iou : float
        Among look-alikes, the tracker box must overlap the detection chosen by motion at
        least this much (in [0, 1], stricter than ``agree_iou``) to be used.
    agree_iou : float
        A tracker box and a gated detection whose IoU is below this disagree; only the one
        nearer the prediction is used, in [0, 1].
    lost_after_frames : int
        Frames without a good measurement before the track is LOST (>= 1); OCCLUDED before.
    reacquire_frames : int
        Consecutive good frames after a reseed before REACQUIRED becomes TRACKED (>= 1).
    drift_reseed_frames : int
        Consecutive frames in which the detector holds the target but the tracker box is
        rejected before the tracker is reseeded on the fused box (>= 1).
    seed_policy : SeedPolicy
        Which detection of the target class a loss reseed names.
    coast_confidence_decay : float
        Confidence factor per coasting frame, in (0, 1].
    max_dt_s : float
        Longer gaps between stamps are treated as this many seconds (> 0), so a stalled
        stream does not blow the covariance up.

    """

    target_class: int = 0
    gate: GateConfig = field(default_factory=GateConfig)
    tracker_full_std_px: float = 4.0
    tracker_predicted_std_px: float = 12.0
    detector_std_px: float = 8.0
    centre_accel_std: float = 150.0
    size_accel_std: float = 100.0
    initial_velocity_std: float = 200.0
    min_detection_score: float = 0.3
    ambiguity_max_frames: int = 90
    ambiguity_agree_iou: float = 0.6
    agree_iou: float = 0.3
    lost_after_frames: int = 10
    reacquire_frames: int = 5
    drift_reseed_frames: int = 10
    seed_policy: SeedPolicy = SeedPolicy.MOST_CONFIDENT
    coast_confidence_decay: float = 0.85
    max_dt_s: float = 1.0

    def __post_init__(self) -> None:
        """Validate ranges; the error names the field and its allowed range."""
        object.__setattr__(self, 'seed_policy', SeedPolicy(self.seed_policy))
        if self.target_class < -1:
            raise ValueError(f'target_class must be >= -1, got {self.target_class}')
        for name in ('tracker_full_std_px', 'tracker_predicted_std_px', 'detector_std_px',
                     'initial_velocity_std', 'max_dt_s'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        for name in ('centre_accel_std', 'size_accel_std'):
            if not getattr(self, name) >= 0:
                raise ValueError(f'{name} must be >= 0, got {getattr(self, name)}')
        for name in ('min_detection_score', 'agree_iou', 'ambiguity_agree_iou'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {getattr(self, name)}')
        for name in ('lost_after_frames', 'reacquire_frames', 'drift_reseed_frames',
                     'ambiguity_max_frames'):
            if getattr(self, name) < 1:
                raise ValueError(f'{name} must be >= 1, got {getattr(self, name)}')
        if not 0.0 < self.coast_confidence_decay <= 1.0:
            raise ValueError(f'coast_confidence_decay must lie in (0, 1], '
                             f'got {self.coast_confidence_decay}')

    def as_dict(self) -> Dict[str, Any]:
        """Flat ``name -> value`` view (gate fields prefixed ``gate_``), for logs and JSON."""
        out: Dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, GateConfig):
                for sub in fields(value):
                    out[f'gate_{sub.name}'] = getattr(value, sub.name)
            else:
                out[item.name] = value.value if isinstance(value, SeedPolicy) else value
        return out
