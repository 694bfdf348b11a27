"""ONNX Runtime backend: CPU everywhere, CUDA or TensorRT execution providers where installed."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from samurai_tracker.backends.base import BackendError, TensorSpec

__all__ = ['OnnxRuntimeBackend', 'available_providers']

_ORT_TYPES = {
    'tensor(float)': 'float32',
    'tensor(float16)': 'float16',
    'tensor(double)': 'float64',
    'tensor(int64)': 'int64',
    'tensor(int32)': 'int32',
    'tensor(bool)': 'bool',
    'tensor(uint8)': 'uint8',
}


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:  # pragma: no cover - depends on the install
        raise BackendError(
            'onnxruntime is not installed: pip install onnxruntime '
            '(or onnxruntime-gpu for the CUDA provider)') from error
    return onnxruntime


def available_providers() -> Tuple[str, ...]:
    """Return the execution providers this ONNX Runtime build offers."""
    return tuple(_import_onnxruntime().get_available_providers())


class OnnxRuntimeBackend:
    """Run one ONNX model with ONNX Runtime.

    Parameters
    ----------
    model_path : str
        Path of the ``.onnx`` file.
    providers : sequence of str, optional
        Execution providers in order of preference; those this build lacks are skipped.
        Default: CPU only.
    intra_op_threads : int, optional
        Threads per operator; default lets ONNX Runtime choose (all cores).

    Raises
    ------
    BackendError
        If the file is missing or not a loadable ONNX model.

    """

    def __init__(self, model_path: str, providers: Optional[Sequence[str]] = None,
                 intra_op_threads: Optional[int] = None) -> None:
        ort = _import_onnxruntime()
        if not os.path.isfile(model_path):
            raise BackendError(f'ONNX model not found: {model_path}')
        wanted = list(providers or ['CPUExecutionProvider'])
        have = set(ort.get_available_providers())
        chosen = [p for p in wanted if p in have] or ['CPUExecutionProvider']
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if intra_op_threads:
            options.intra_op_num_threads = int(intra_op_threads)
        # Idle worker threads sleep instead of spinning: the detector, the tracker and the
        # bridge share a few cores, and a spinning pool steals them from the other nodes.
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        try:
            self._session = ort.InferenceSession(model_path, options, providers=chosen)
        except Exception as error:  # onnxruntime raises several private exception types
            raise BackendError(f'cannot load ONNX model {model_path}: {error}') from error
        self.model_path = model_path
        self.providers: Tuple[str, ...] = tuple(self._session.get_providers())
        self._inputs = tuple(
            TensorSpec(i.name, tuple(i.shape), _ORT_TYPES.get(i.type, i.type))
            for i in self._session.get_inputs())
        self._outputs = tuple(
            TensorSpec(o.name, tuple(o.shape), _ORT_TYPES.get(o.type, o.type))
            for o in self._session.get_outputs())

    @property
    def device(self) -> str:
        """Inputs and outputs are numpy arrays on the host."""
        return 'cpu'

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        """Input tensors in model order."""
        return self._inputs

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        """Output tensors in model order."""
        return self._outputs

    def run(self, feeds: Mapping[str, Any]) -> Dict[str, Any]:
        """Run the model; see :meth:`samurai_tracker.backends.base.ModelBackend.run`."""
        prepared = {}
        for spec in self._inputs:
            if spec.name not in feeds:
                raise BackendError(f'{os.path.basename(self.model_path)}: missing input '
                                   f'{spec.name!r} {spec.shape} {spec.dtype}')
            array = np.ascontiguousarray(feeds[spec.name], dtype=spec.dtype)
            if not spec.accepts(array.shape):
                raise BackendError(
                    f'{os.path.basename(self.model_path)}: input {spec.name!r} must have '
                    f'shape {spec.shape}, got {array.shape}')
            prepared[spec.name] = array
        values = self._session.run(None, prepared)
        return {spec.name: value for spec, value in zip(self._outputs, values)}
