"""The one small interface every inference backend implements.

A backend runs one model (a detector, or one of SAMURAI's five sub-models) on named
inputs and returns named outputs. The runtime never knows which engine is behind it:
ONNX Runtime on the CPU for development and CI, TensorRT on a Jetson, PyTorch on a GPU
without TensorRT.

Arrays cross this interface as numpy arrays on CPU backends. GPU backends may accept
and return device arrays (anything with ``__cuda_array_interface__``) so that data stays
on the device between models; ``ModelBackend.device`` tells which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Protocol, Tuple, runtime_checkable

__all__ = ['BackendError', 'ModelBackend', 'TensorSpec']


class BackendError(RuntimeError):
    """A model could not be loaded or run; the message says what to do about it."""


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape and dtype of one model input or output.

    Parameters
    ----------
    name : str
        Tensor name as in the model file.
    shape : tuple of (int or str)
        Dimensions; a str names a dynamic axis (for example ``'num_points'``).
    dtype : str
        numpy dtype name, for example ``'float32'``.

    """

    name: str
    shape: Tuple[Any, ...]
    dtype: str

    def accepts(self, shape: Tuple[int, ...]) -> bool:
        """Whether a concrete ``shape`` fits: same rank, every fixed dimension equal."""
        return len(shape) == len(self.shape) and all(
            not isinstance(d, int) or d == s for d, s in zip(self.shape, shape))


@runtime_checkable
class ModelBackend(Protocol):
    """A loaded model that maps named input arrays to named output arrays."""

    @property
    def device(self) -> str:
        """``'cpu'`` when inputs and outputs are numpy arrays, ``'cuda'`` for device arrays."""
        ...

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        """Input tensors in model order."""
        ...

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        """Output tensors in model order."""
        ...

    def run(self, feeds: Mapping[str, Any]) -> Dict[str, Any]:
        """Run the model once.

        Parameters
        ----------
        feeds : mapping of str to array
            One array per input name, with the input's shape and dtype.

        Returns
        -------
        dict of str to array
            One array per output name.

        Raises
        ------
        BackendError
            If an input is missing or has the wrong shape or dtype.

        """
        ...
