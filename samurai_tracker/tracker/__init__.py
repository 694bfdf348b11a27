"""The SAMURAI per-frame runtime (ROS-free): SAM 2.1 + Kalman motion-aware memory.

``load_tracker(model_dir, backend)`` opens an exported model directory and returns a
:class:`SamuraiTracker`; ``seed`` / ``track`` / ``reset`` drive it frame by frame. The ROS
wrapper is ``tracker_node`` (not imported here).
"""

from samurai_tracker.tracker.array_ops import ArrayOps, NumpyOps, TorchOps
from samurai_tracker.tracker.config import (config_parameters, CROP, FULL_FRAME, ParameterInfo,
                                            TrackerConfig)
from samurai_tracker.tracker.errors import ModelSetError, TrackerError, TrackerInputError
from samurai_tracker.tracker.kalman import KalmanState
from samurai_tracker.tracker.lifecycle import confidence, LifeState
from samurai_tracker.tracker.memory import MemoryBank, MemoryEntry
from samurai_tracker.tracker.models import BACKENDS, open_backend, open_models, SamuraiModels
from samurai_tracker.tracker.runtime import load_tracker, SamuraiTracker, STAGES
from samurai_tracker.tracker.selection import Choice, choose_candidate, SelectionState

__all__ = [
    'ArrayOps',
    'BACKENDS',
    'CROP',
    'Choice',
    'FULL_FRAME',
    'KalmanState',
    'LifeState',
    'MemoryBank',
    'MemoryEntry',
    'ModelSetError',
    'NumpyOps',
    'ParameterInfo',
    'STAGES',
    'SamuraiModels',
    'SamuraiTracker',
    'SelectionState',
    'TorchOps',
    'TrackerConfig',
    'TrackerError',
    'TrackerInputError',
    'choose_candidate',
    'config_parameters',
    'confidence',
    'load_tracker',
    'open_backend',
    'open_models',
]
