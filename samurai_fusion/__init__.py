"""samurai_fusion: the master Kalman filter, gating, honest loss and the reseed loop.

ROS-free core; :mod:`samurai_fusion.fusion_node` wraps it in a ROS 2 node.
"""

from samurai_fusion.config import FusionConfig
from samurai_fusion.frame_sync import Admission, FrameSync, SyncedFrame
from samurai_fusion.fusion_filter import FusionFilter, FusionStep, GOOD_TRACKER_STATES, \
    ReseedRequest
from samurai_fusion.gating import centre_distance, gate_radius, GateConfig, in_gate, \
    mahalanobis_squared
from samurai_fusion.kalman import initiate, innovation, KalmanState, predict, update
from samurai_fusion.offset import target_offset
from samurai_fusion.reseed_scheduler import ReseedScheduler

__all__ = [
    'Admission',
    'FrameSync',
    'FusionConfig',
    'FusionFilter',
    'FusionStep',
    'GOOD_TRACKER_STATES',
    'GateConfig',
    'KalmanState',
    'ReseedRequest',
    'ReseedScheduler',
    'SyncedFrame',
    'centre_distance',
    'gate_radius',
    'in_gate',
    'initiate',
    'innovation',
    'mahalanobis_squared',
    'predict',
    'target_offset',
    'update',
]
