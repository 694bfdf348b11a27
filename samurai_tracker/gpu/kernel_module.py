"""Compile ``glue_kernels.cu`` once and launch its kernels (pycuda or CuPy).

The one CUDA C source ships as package data. Where pycuda is installed it is compiled
with ``pycuda.compiler.SourceModule`` into the device's primary context (the one PyTorch
and CuPy use); otherwise with CuPy's ``RawModule`` (NVRTC). Both are optional: importing
this module needs neither, and :func:`load_kernel_module` says how to install one when
none is there. The source is compiled with ``--fmad=false`` so that float32 arithmetic
rounds like the numpy host references.
"""

from __future__ import annotations

import atexit
from importlib import resources
from typing import Any, Dict, Optional, Sequence, Tuple

__all__ = [
    'COMPILE_OPTIONS',
    'GpuUnavailableError',
    'KERNEL_NAMES',
    'KernelModule',
    'cuda_device_count',
    'kernel_source',
    'load_kernel_module',
]

#: Kernels ``glue_kernels.cu`` defines (extern "C" names).
KERNEL_NAMES: Tuple[str, ...] = (
    'crop_resize_normalize_rgb', 'crop_resize_normalize_nv12', 'bilinear_resize',
    'scale_sigmoid', 'threshold_mask', 'mask_box_init', 'mask_box_reduce', 'transpose_bias',
    'add_bias', 'assemble_memory_bank', 'obj_ptr_tpos_encode')

#: Compiler options: no fused multiply-add, so results match float32 numpy.
COMPILE_OPTIONS: Tuple[str, ...] = ('--fmad=false',)

Dim3 = Tuple[int, int, int]


class GpuUnavailableError(RuntimeError):
    """No CUDA device or no kernel compiler (pycuda or CuPy); the message says what to do."""


def kernel_source() -> str:
    """Return the CUDA C source of the glue kernels (``samurai_tracker/gpu/glue_kernels.cu``)."""
    return resources.files('samurai_tracker.gpu').joinpath('glue_kernels.cu').read_text()


def cuda_device_count() -> int:
    """Count CUDA devices visible through CuPy, pycuda or torch (0 when none can tell)."""
    try:
        import cupy
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 - no CuPy, no driver or no device all mean "none"
        pass
    try:
        import pycuda.driver as drv
        drv.init()
        return int(drv.Device.count())
    except Exception:  # noqa: BLE001
        pass
    try:
        import torch
        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001
        return 0


class KernelModule:
    """The compiled glue kernels of one device, launched by name.

    Parameters
    ----------
    compiler : {'auto', 'pycuda', 'cupy'}
        ``'auto'`` takes pycuda where it imports, else CuPy.
    device : int
        CUDA device ordinal.

    Raises
    ------
    GpuUnavailableError
        If the requested compiler is missing or no CUDA device exists.

    Notes
    -----
    The CuPy path launches on any stream (the caller passes the raw ``cudaStream_t``),
    so it works inside PyTorch CUDA-graph capture. The pycuda path launches only on the
    legacy default stream (handle 0), which orders it with PyTorch's default stream.

    """

    def __init__(self, compiler: str = 'auto', device: int = 0) -> None:
        if compiler not in ('auto', 'pycuda', 'cupy'):
            raise ValueError(f"compiler must be 'auto', 'pycuda' or 'cupy', got {compiler!r}")
        self.device = int(device)
        self._functions: Dict[str, Any] = {}
        self._streams: Dict[int, Any] = {}
        errors = []
        order = ('pycuda', 'cupy') if compiler == 'auto' else (compiler,)
        for name in order:
            try:
                getattr(self, f'_load_{name}')()
                self.compiler = name
                return
            except ImportError as exc:
                errors.append(f'{name}: {exc}')
        raise GpuUnavailableError(
            'no CUDA kernel compiler: install CuPy for your CUDA version (for example '
            "'pip install cupy-cuda12x') or pycuda ('pip install pycuda', needs nvcc); "
            + '; '.join(errors))

    def _load_pycuda(self) -> None:
        import pycuda.driver as drv
        from pycuda.compiler import SourceModule
        drv.init()
        if drv.Device.count() <= self.device:
            raise GpuUnavailableError(f'no CUDA device {self.device} '
                                      f'({drv.Device.count()} visible)')
        self._ctx = drv.Device(self.device).retain_primary_context()
        self._ctx.push()
        atexit.register(self._pop_pycuda_context)
        module = SourceModule(kernel_source(), options=list(COMPILE_OPTIONS), no_extern_c=True)
        self._functions = {name: module.get_function(name) for name in KERNEL_NAMES}

    def _pop_pycuda_context(self) -> None:
        try:
            import pycuda.driver as drv
            drv.Context.pop()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing left to protect
            pass

    def _load_cupy(self) -> None:
        import cupy
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except cupy.cuda.runtime.CUDARuntimeError as exc:
            raise GpuUnavailableError(f'CuPy sees no CUDA device: {exc}') from exc
        if count <= self.device:
            raise GpuUnavailableError(f'no CUDA device {self.device} ({count} visible)')
        with cupy.cuda.Device(self.device):
            module = cupy.RawModule(code=kernel_source(), options=COMPILE_OPTIONS)
            self._functions = {name: module.get_function(name) for name in KERNEL_NAMES}

    def launch(self, name: str, grid: Sequence[int], block: Sequence[int],
               args: Sequence[Any], stream: int = 0, shared_mem: int = 0) -> None:
        """Launch kernel ``name`` asynchronously.

        Parameters
        ----------
        name : str
            One of :data:`KERNEL_NAMES`.
        grid, block : sequence of up to 3 int
            Launch configuration.
        args : sequence
            Kernel arguments as numpy scalars: ``np.uint64`` device pointers,
            ``np.int32`` ints and ``np.float32`` floats, in the kernel's order.
        stream : int
            Raw ``cudaStream_t`` handle; 0 is the legacy default stream.
        shared_mem : int
            Dynamic shared memory in bytes.

        """
        fn = self._functions[name]
        g = _dim3(grid)
        b = _dim3(block)
        if self.compiler == 'cupy':
            import cupy
            if cupy.cuda.runtime.getDevice() == self.device:
                fn(g, b, tuple(args), shared_mem=shared_mem, stream=self._cupy_stream(stream))
                return
            with cupy.cuda.Device(self.device):
                fn(g, b, tuple(args), shared_mem=shared_mem, stream=self._cupy_stream(stream))
            return
        if stream != 0:
            raise GpuUnavailableError(
                'the pycuda kernel path launches on the legacy default stream only; '
                "use KernelModule(compiler='cupy') on other streams or in CUDA-graph capture")
        fn(*args, grid=g, block=b, shared=shared_mem)

    def _cupy_stream(self, handle: int) -> Optional[Any]:
        import cupy
        if handle == 0:
            return cupy.cuda.Stream.null
        stream = self._streams.get(handle)
        if stream is None:
            stream = cupy.cuda.ExternalStream(handle, self.device)
            self._streams[handle] = stream
        return stream


def _dim3(value: Sequence[int]) -> Dim3:
    dims = tuple(int(v) for v in value) + (1,) * (3 - len(value))
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f'launch dimensions must be 1 to 3 positive ints, got {value}')
    return dims[0], dims[1], dims[2]


_MODULES: Dict[Tuple[str, int], KernelModule] = {}


def load_kernel_module(compiler: str = 'auto', device: int = 0) -> KernelModule:
    """Return the compiled kernels for ``(compiler, device)``, compiling on first use.

    Raises
    ------
    GpuUnavailableError
        If no compiler or device is available (message says how to install one).

    """
    key = (compiler, int(device))
    module = _MODULES.get(key)
    if module is None:
        module = KernelModule(compiler, device)
        _MODULES[key] = module
    return module
