"""Inference backends behind one small interface (ONNX Runtime, TensorRT, PyTorch)."""

from samurai_tracker.backends.base import BackendError, ModelBackend, TensorSpec
from samurai_tracker.backends.onnxruntime_backend import available_providers, OnnxRuntimeBackend

__all__ = [
    'BackendError',
    'ModelBackend',
    'OnnxRuntimeBackend',
    'TensorSpec',
    'available_providers',
]
