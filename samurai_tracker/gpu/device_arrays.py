"""Device arrays of any library through ``__cuda_array_interface__``.

The glue kernels take and return device arrays of the caller's library: CuPy arrays,
PyTorch CUDA tensors, or pycuda ``GPUArray``. Inputs are read through the CUDA array
interface (zero copy); outputs are allocated by the library of a reference input, so a
torch caller gets torch tensors back and a CuPy caller CuPy arrays, and launches go on
that library's current stream.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import sys
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

__all__ = ['ArrayFamily', 'DeviceView', 'family_of', 'view']


@dataclass(frozen=True)
class DeviceView:
    """What a kernel needs to know about one device array.

    Parameters
    ----------
    ptr : int
        Device address of element 0.
    shape : tuple of int
        Array shape.
    dtype : numpy.dtype
        Element type.
    strides : tuple of int
        Byte strides (C-contiguous strides when the array reports none).
    device : int
        CUDA device ordinal (-1 when unknown).

    """

    ptr: int
    shape: Tuple[int, ...]
    dtype: np.dtype
    strides: Tuple[int, ...]
    device: int

    @property
    def contiguous(self) -> bool:
        """Whether the strides are the C-contiguous ones (axes of length 1 ignored)."""
        want = _c_strides(self.shape, self.dtype.itemsize)
        return all(s == w for s, w, n in zip(self.strides, want, self.shape) if n > 1)


@functools.lru_cache(maxsize=256)
def _c_strides(shape: Tuple[int, ...], itemsize: int) -> Tuple[int, ...]:
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(int(n), 1)
    return tuple(reversed(strides))


def _device_of(array: Any) -> int:
    device = getattr(array, 'device', None)
    index = getattr(device, 'index', None)
    if index is None:
        index = getattr(device, 'id', None)
    return int(index) if index is not None else -1


def view(array: Any, name: str = 'array') -> DeviceView:
    """Describe a device array without copying it.

    Parameters
    ----------
    array : object with ``__cuda_array_interface__``
        CuPy array, PyTorch CUDA tensor (not requiring grad), pycuda GPUArray, ...
    name : str
        Name used in error messages.

    Raises
    ------
    TypeError
        If ``array`` is not a device array (a numpy array or CPU tensor, for example).

    """
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(array, torch.Tensor) and array.is_cuda:
        # fast path: torch's __cuda_array_interface__ is a slow Python property
        dtype = _TORCH_DTYPES.get(array.dtype)
        if dtype is not None and not array.requires_grad:
            size = dtype.itemsize
            return DeviceView(array.data_ptr(), tuple(array.shape), dtype,
                              tuple(st * size for st in array.stride()), array.device.index)
    try:
        iface = array.__cuda_array_interface__
    except (AttributeError, RuntimeError) as exc:
        raise TypeError(
            f'{name} must be a CUDA device array (CuPy array, torch CUDA tensor without '
            f'grad, pycuda GPUArray), got {type(array).__name__}; move it to the GPU first'
        ) from exc
    shape = tuple(int(n) for n in iface['shape'])
    dtype = np.dtype(iface['typestr'])
    strides = iface.get('strides')
    strides = _c_strides(shape, dtype.itemsize) if strides is None else tuple(strides)
    return DeviceView(int(iface['data'][0]), shape, dtype, strides, _device_of(array))


def _torch_dtypes() -> Dict[Any, np.dtype]:
    torch = sys.modules.get('torch')
    if torch is None:
        return {}
    return {torch.float32: np.dtype(np.float32), torch.uint8: np.dtype(np.uint8),
            torch.int32: np.dtype(np.int32), torch.int64: np.dtype(np.int64),
            torch.float16: np.dtype(np.float16), torch.float64: np.dtype(np.float64)}


class _LazyTorchDtypes(dict):  # type: ignore[type-arg]
    """torch dtype -> numpy dtype, filled once torch has been imported."""

    def get(self, key: Any, default: Any = None) -> Any:
        if not self:
            self.update(_torch_dtypes())
        return super().get(key, default)


_TORCH_DTYPES = _LazyTorchDtypes()


class ArrayFamily:
    """Allocation, upload and stream of one array library (torch, cupy or pycuda).

    Parameters
    ----------
    kind : {'torch', 'cupy', 'pycuda'}
        The library.
    device : int
        CUDA device ordinal the arrays live on.

    """

    def __init__(self, kind: str, device: int) -> None:
        if kind not in ('torch', 'cupy', 'pycuda'):
            raise ValueError(f"kind must be 'torch', 'cupy' or 'pycuda', got {kind!r}")
        self.kind = kind
        self.device = max(int(device), 0)

    def empty(self, shape: Sequence[int], dtype: npt.DTypeLike) -> Any:
        """Allocate an uninitialised device array of ``shape`` and numpy ``dtype``."""
        dt = np.dtype(dtype)
        shape = tuple(int(n) for n in shape)
        if self.kind == 'torch':
            import torch
            tdt = {np.dtype(np.float32): torch.float32, np.dtype(np.uint8): torch.uint8,
                   np.dtype(np.int32): torch.int32, np.dtype(np.uint64): torch.uint64,
                   np.dtype(np.int64): torch.int64}[dt]
            return torch.empty(shape, dtype=tdt, device=f'cuda:{self.device}')
        if self.kind == 'cupy':
            import cupy
            with cupy.cuda.Device(self.device):
                return cupy.empty(shape, dtype=dt)
        import pycuda.gpuarray as gpuarray
        return gpuarray.empty(shape, dt)

    def upload(self, host: npt.ArrayLike) -> Any:
        """Copy a small host array to the device, ordered on :meth:`stream`."""
        h = np.ascontiguousarray(host)
        if self.kind == 'torch':
            import torch
            return torch.from_numpy(h).to(f'cuda:{self.device}')
        if self.kind == 'cupy':
            import cupy
            with cupy.cuda.Device(self.device):
                return cupy.asarray(h)
        import pycuda.gpuarray as gpuarray
        return gpuarray.to_gpu(h)

    def download(self, array: Any) -> np.ndarray:
        """Copy a device array of this family to a new host array (synchronises)."""
        if self.kind == 'torch':
            return array.detach().cpu().numpy()
        return np.asarray(array.get())

    def fill(self, array: Any, value: float) -> None:
        """Set every element of ``array`` to ``value`` (used to poison outputs in tests)."""
        if self.kind == 'torch':
            array.fill_(value)
        else:
            array.fill(value)

    def stream(self) -> int:
        """Raw handle of the library's current stream on this device (0: legacy default)."""
        if self.kind == 'torch':
            import torch
            return int(torch.cuda.current_stream(self.device).cuda_stream)
        if self.kind == 'cupy':
            import cupy
            with cupy.cuda.Device(self.device):
                return int(cupy.cuda.get_current_stream().ptr)
        return 0


def family_of(array: Any, hint: Optional[str] = None) -> ArrayFamily:
    """Return the :class:`ArrayFamily` that allocated ``array``.

    Parameters
    ----------
    array : device array
        A torch tensor, CuPy array or pycuda GPUArray.
    hint : str, optional
        Force a family (``'torch'``, ``'cupy'`` or ``'pycuda'``).

    Raises
    ------
    TypeError
        If the array's library is not one of the three.

    """
    module = type(array).__module__.split('.')[0]
    kind = hint or {'torch': 'torch', 'cupy': 'cupy', 'pycuda': 'pycuda'}.get(module)
    if kind is None:
        raise TypeError(f'cannot allocate outputs like a {type(array).__name__}; pass torch '
                        'tensors, CuPy arrays or pycuda GPUArrays, or give out=')
    device = view(array).device
    family = _FAMILIES.get((kind, device))
    if family is None:
        family = _FAMILIES[(kind, device)] = ArrayFamily(kind, device)
    return family


_FAMILIES: Dict[Tuple[str, int], ArrayFamily] = {}
