"""Inference backends behind one small interface (ONNX Runtime, TensorRT, PyTorch)."""

from samurai_tracker.backends.base import BackendError, ModelBackend, TensorSpec
from samurai_tracker.backends.onnxruntime_backend import available_providers, OnnxRuntimeBackend
from samurai_tracker.backends.tensorrt_backend import TensorRTBackend
from samurai_tracker.backends.torch_backend import load_torch_backends, TorchBackend

__all__ = [
    'BackendError',
    'ModelBackend',
    'OnnxRuntimeBackend',
    'TensorRTBackend',
    'TensorSpec',
    'TorchBackend',
    'available_providers',
    'load_torch_backends',
]
