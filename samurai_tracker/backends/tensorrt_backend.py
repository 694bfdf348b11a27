"""TensorRT backend: one serialized engine, pycuda device buffers and a CUDA stream.

Engines are locked to the TensorRT version and the GPU that built them. The model
directory's ``manifest.json`` records both (``tensorrt`` section, written by
``samurai-build-engines``); :class:`TensorRTBackend` refuses at load time an engine built
by another TensorRT or for another GPU, with one line naming the rebuild command.

Inputs may be numpy arrays (uploaded on the backend's stream) or device arrays (anything
with ``__cuda_array_interface__``: pycuda ``GPUArray``, CuPy, torch CUDA tensors), which
are bound in place. Outputs are fresh pycuda ``GPUArray`` objects (they expose
``__cuda_array_interface__``), so data stays on the GPU between models; with
``host_outputs=True`` they are copied to numpy instead. Written against the TensorRT 10
Python API (named I/O tensors, ``execute_async_v3``); ``tensorrt`` and ``pycuda`` are
imported when a backend is built, with a message saying how to install them.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

from samurai_tracker.backends.base import BackendError, TensorSpec

__all__ = ['ENGINE_SUFFIX', 'TensorRTBackend', 'check_engine_compatible', 'current_build_info',
           'import_pycuda', 'import_tensorrt', 'rebuild_command']

ENGINE_SUFFIX = '.engine'


def import_tensorrt() -> Any:
    """Import ``tensorrt`` or raise :class:`BackendError` saying how to get it."""
    try:
        import tensorrt
    except ImportError as error:
        raise BackendError('TensorRT Python bindings are not installed: install TensorRT 10 '
                           '(JetPack python3-libnvinfer, or pip install tensorrt-cu12), or use '
                           'the ONNX Runtime or PyTorch backend') from error
    return tensorrt


def import_pycuda() -> Any:
    """Import ``pycuda.driver`` and ``pycuda.gpuarray`` or raise :class:`BackendError`."""
    try:
        import pycuda.driver as driver
        import pycuda.gpuarray as gpuarray
    except ImportError as error:
        raise BackendError('pycuda is not installed: pip install pycuda (needs nvcc and a '
                           'GPU), or use the ONNX Runtime or PyTorch backend') from error
    return driver, gpuarray


def rebuild_command(model_dir: str) -> str:
    """Return the command that rebuilds the engines of ``model_dir``."""
    return f'samurai-build-engines --model-dir {model_dir}'


def check_engine_compatible(recorded: Mapping[str, Any], tensorrt_version: str, gpu_name: str,
                            compute_capability: str, model_dir: str) -> None:
    """Refuse engines built by another TensorRT or for another GPU.

    Parameters
    ----------
    recorded : mapping
        The manifest's ``tensorrt`` section (``version``, ``gpu_name``,
        ``compute_capability``).
    tensorrt_version, gpu_name, compute_capability : str
        This machine's TensorRT version, GPU name and compute capability (``'8.7'``).
    model_dir : str
        Named in the rebuild command of the error.

    Raises
    ------
    BackendError
        One line: what differs and the rebuild command.

    """
    if not recorded:
        raise BackendError(f'{model_dir} has no TensorRT engines recorded in its manifest; '
                           f'build them with: {rebuild_command(model_dir)}')
    built = (str(recorded.get('version')), str(recorded.get('gpu_name')),
             str(recorded.get('compute_capability')))
    here = (str(tensorrt_version), str(gpu_name), str(compute_capability))
    if built != here:
        raise BackendError(f'engines in {model_dir} were built by TensorRT {built[0]} for '
                           f'{built[1]} (sm {built[2]}) but this machine has TensorRT {here[0]} '
                           f'on {here[1]} (sm {here[2]}); rebuild them with: '
                           f'{rebuild_command(model_dir)}')


def current_build_info(device_id: int = 0) -> Dict[str, str]:
    """Return this machine's ``version``, ``gpu_name`` and ``compute_capability``."""
    trt = import_tensorrt()
    driver, _ = import_pycuda()
    driver.init()
    device = driver.Device(device_id)
    major, minor = device.compute_capability()
    return {'version': str(trt.__version__), 'gpu_name': str(device.name()),
            'compute_capability': f'{major}.{minor}'}


class TensorRTBackend:
    """Run one TensorRT engine of a model directory.

    Parameters
    ----------
    engine_path : str
        ``<model_dir>/<name>.engine``; the directory's ``manifest.json`` must record the
        TensorRT build.
    device_id : int
        CUDA device ordinal.
    host_outputs : bool
        Copy outputs to numpy (``device == 'cpu'``) instead of returning GPUArrays.

    Raises
    ------
    BackendError
        If the engine or manifest is missing, TensorRT or pycuda is not installed, or the
        engine was built by another TensorRT or GPU.

    """

    def __init__(self, engine_path: str, device_id: int = 0, host_outputs: bool = False) -> None:
        from samurai_tracker.engines.manifest import ManifestError, read_manifest

        model_dir = os.path.dirname(os.path.abspath(engine_path))
        if not os.path.isfile(engine_path):
            raise BackendError(f'TensorRT engine not found: {engine_path}; build it with: '
                               f'{rebuild_command(model_dir)}')
        try:
            manifest = read_manifest(model_dir)
        except ManifestError as error:
            raise BackendError(str(error)) from error
        recorded = manifest.get('tensorrt') or {}
        trt = import_tensorrt()
        driver, gpuarray = import_pycuda()
        info = current_build_info(device_id)
        check_engine_compatible(recorded, info['version'], info['gpu_name'],
                                info['compute_capability'], model_dir)
        self._driver, self._gpuarray = driver, gpuarray
        self._context_handle = driver.Device(device_id).retain_primary_context()
        self._context_handle.push()
        logger = trt.Logger(trt.Logger.WARNING)
        with open(engine_path, 'rb') as handle:
            self._engine = trt.Runtime(logger).deserialize_cuda_engine(handle.read())
        if self._engine is None:
            raise BackendError(f'TensorRT could not deserialize {engine_path}; rebuild with: '
                               f'{rebuild_command(model_dir)}')
        self._context = self._engine.create_execution_context()
        self._stream = driver.Stream()
        self._host_outputs = host_outputs
        self.engine_path = engine_path
        inputs, outputs = [], []
        for index in range(self._engine.num_io_tensors):
            name = self._engine.get_tensor_name(index)
            shape = tuple(int(d) if d >= 0 else 'dynamic'
                          for d in self._engine.get_tensor_shape(name))
            dtype = np.dtype(trt.nptype(self._engine.get_tensor_dtype(name))).name
            spec = TensorSpec(name, shape, dtype)
            if self._engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                inputs.append(spec)
            else:
                outputs.append(spec)
        self._inputs: Tuple[TensorSpec, ...] = tuple(inputs)
        self._outputs: Tuple[TensorSpec, ...] = tuple(outputs)
        self._staging: Dict[str, Any] = {}

    @property
    def device(self) -> str:
        """``'cuda'`` (GPUArrays out) or ``'cpu'`` with ``host_outputs``."""
        return 'cpu' if self._host_outputs else 'cuda'

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        """Input tensors in engine order."""
        return self._inputs

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        """Output tensors in engine order."""
        return self._outputs

    def _bind_input(self, spec: TensorSpec, value: Any) -> Any:
        """Return a device address for ``value``, uploading host arrays; keeps refs alive."""
        interface = getattr(value, '__cuda_array_interface__', None)
        if interface is not None:
            shape = tuple(interface['shape'])
            if np.dtype(interface['typestr']).name != spec.dtype:
                raise BackendError(f'input {spec.name!r} must be {spec.dtype}, got '
                                   f'{np.dtype(interface["typestr"]).name}')
            if interface.get('strides') not in (None, ()):
                expected = tuple(int(s) for s in np.empty(shape, spec.dtype).strides)
                if tuple(interface['strides']) != expected:
                    raise BackendError(f'input {spec.name!r} must be C-contiguous')
            pointer = int(interface['data'][0])
        else:
            array = np.ascontiguousarray(value, dtype=spec.dtype)
            shape = array.shape
            staged = self._staging.get(spec.name)
            if staged is None or staged.shape != shape:
                staged = self._gpuarray.empty(shape, spec.dtype)
                self._staging[spec.name] = staged
            staged.set_async(array, stream=self._stream)
            pointer = int(staged.gpudata)
        if not spec.accepts(shape):
            raise BackendError(f'{os.path.basename(self.engine_path)}: input {spec.name!r} '
                               f'must have shape {spec.shape}, got {shape}')
        self._context.set_input_shape(spec.name, shape)
        self._context.set_tensor_address(spec.name, pointer)
        return value

    def run(self, feeds: Mapping[str, Any]) -> Dict[str, Any]:
        """Run the engine once on the backend's stream and wait for it."""
        keep = []
        for spec in self._inputs:
            if spec.name not in feeds:
                raise BackendError(f'{os.path.basename(self.engine_path)}: missing input '
                                   f'{spec.name!r} {spec.shape} {spec.dtype}')
            keep.append(self._bind_input(spec, feeds[spec.name]))
        results: Dict[str, Any] = {}
        for spec in self._outputs:
            shape = tuple(int(d) for d in self._context.get_tensor_shape(spec.name))
            array = self._gpuarray.empty(shape, spec.dtype)
            self._context.set_tensor_address(spec.name, int(array.gpudata))
            results[spec.name] = array
        if not self._context.execute_async_v3(self._stream.handle):
            raise BackendError(f'TensorRT execution of {self.engine_path} failed')
        if self._host_outputs:
            results = {k: v.get_async(stream=self._stream) for k, v in results.items()}
        self._stream.synchronize()
        del keep
        return results

    def close(self, pop_context: Optional[bool] = True) -> None:
        """Release the execution context and pop the CUDA context pushed at load."""
        self._context = None
        self._engine = None
        if pop_context:
            self._driver.Context.pop()
