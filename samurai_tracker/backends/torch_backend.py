"""PyTorch backend: the five SAMURAI models straight from a SAM 2.1 checkpoint (or random).

It wraps the exporter's own modules (:mod:`samurai_tracker.engines.wrappers` and
:mod:`samurai_tracker.engines.memory_attention_model`), so its inputs and outputs are
exactly those of the ONNX models (``samurai_tracker.engines.contract``). It is the golden
reference on the CPU and the GPU path where TensorRT is not installed.

On ``cpu`` it takes and returns numpy arrays. On ``cuda`` it takes torch tensors (or
anything with ``__cuda_array_interface__``, or numpy, which is uploaded) and returns
float32 torch tensors on the device, so data stays there between models; ``precision``
``'fp16'`` or ``'bf16'`` runs under autocast. torch is imported when a backend is built.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from samurai_tracker.backends.base import BackendError, TensorSpec

__all__ = ['TorchBackend', 'load_torch_backends']

_PRECISIONS = ('fp32', 'fp16', 'bf16')


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the install
        raise BackendError('torch is not installed: pip install torch (and sam2==1.1.0) to use '
                           'the PyTorch backend, or use the ONNX Runtime backend') from error
    return torch


class TorchBackend:
    """Run one contract model (a wrapper ``nn.Module``) in PyTorch.

    Parameters
    ----------
    name : str
        Model name in ``samurai_tracker.engines.contract.MODELS``.
    module : torch.nn.Module
        The wrapper with the contract's I/O (see :func:`load_torch_backends`).
    crop : int
        Crop side S the module was built for.
    device : str, optional
        ``'cpu'`` or ``'cuda'`` (``'cuda:N'``); default cuda when available.
    precision : str
        ``'fp32'``, ``'fp16'`` or ``'bf16'`` (the latter two: autocast on cuda only).
    cast_weights : bool, optional
        With fp16/bf16, also store the weights in that type (the default; False keeps
        float32 weights under autocast). Autocast then has no weight
        casts left to do on every call (inside a CUDA graph it cannot cache them, so each
        replay would re-run one cast kernel per layer); normalisations and softmax still
        run in float32 under autocast. The module is converted in place.

    """

    def __init__(self, name: str, module: Any, crop: int, device: Optional[str] = None,
                 precision: str = 'fp32', cast_weights: Optional[bool] = None,
                 compile: bool = False) -> None:
        torch = _import_torch()
        from samurai_tracker.engines.contract import model_contract

        try:
            contract = model_contract(name)
        except KeyError as error:
            raise BackendError(str(error)) from error
        if precision not in _PRECISIONS:
            raise BackendError(f'precision must be one of {_PRECISIONS}, got {precision!r}')
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if device.startswith('cuda') and not torch.cuda.is_available():
            raise BackendError('device cuda requested but torch sees no CUDA device; use '
                               "device='cpu'")
        if precision != 'fp32' and not device.startswith('cuda'):
            raise BackendError(f'precision {precision} needs a cuda device; use fp32 on cpu')
        self.name = name
        self.crop = crop
        self._torch = torch
        self._device = torch.device(device)
        self._precision = precision
        self._module = module.to(self._device).eval()
        if (cast_weights is None or cast_weights) and precision != 'fp32':
            self._module.to(torch.float16 if precision == 'fp16' else torch.bfloat16)
        self._forward: Any = self._module
        if compile:
            if self._device.type == 'cuda':
                try:
                    import triton  # noqa: F401  (TorchInductor's GPU code generator)
                except ImportError as error:
                    raise BackendError('compile=True needs Triton on CUDA (pip install '
                                       'triton, or run without compile)') from error
            self._forward = torch.compile(self._module, dynamic=False)
        self._inputs = contract.input_specs(crop)
        self._outputs = contract.output_specs(crop)

    @property
    def module(self) -> Any:
        """The wrapped ``nn.Module`` (for callers that drive it directly)."""
        return self._module

    @property
    def forward(self) -> Any:
        """The callable that runs the module (compiled when asked for)."""
        return self._forward

    @property
    def precision(self) -> str:
        """``'fp32'``, ``'fp16'`` or ``'bf16'``."""
        return self._precision

    @property
    def device(self) -> str:
        """``'cpu'`` (numpy in/out) or ``'cuda'`` (torch tensors on the device in/out)."""
        return 'cuda' if self._device.type == 'cuda' else 'cpu'

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        """Input tensors in model order (the contract's)."""
        return self._inputs

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        """Output tensors in model order (the contract's)."""
        return self._outputs

    def _tensor(self, spec: TensorSpec, value: Any) -> Any:
        torch = self._torch
        if isinstance(value, torch.Tensor):
            tensor = value
        elif hasattr(value, '__cuda_array_interface__'):
            tensor = torch.as_tensor(value, device=self._device)
        else:
            import numpy as np
            tensor = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        shape = tuple(tensor.shape)
        if not spec.accepts(shape):
            raise BackendError(f'{self.name}: input {spec.name!r} must have shape {spec.shape}, '
                               f'got {shape}')
        return tensor.to(device=self._device, dtype=torch.float32)

    def run(self, feeds: Mapping[str, Any]) -> Dict[str, Any]:
        """Run the model; see :meth:`samurai_tracker.backends.base.ModelBackend.run`."""
        torch = self._torch
        args = []
        for spec in self._inputs:
            if spec.name not in feeds:
                raise BackendError(f'{self.name}: missing input {spec.name!r} {spec.shape} '
                                   f'{spec.dtype}')
            args.append(self._tensor(spec, feeds[spec.name]))
        with torch.inference_mode():
            if self._precision == 'fp32':
                values = self._forward(*args)
            else:
                dtype = torch.float16 if self._precision == 'fp16' else torch.bfloat16
                with torch.autocast(device_type='cuda', dtype=dtype):
                    values = self._forward(*args)
        if isinstance(values, torch.Tensor):
            values = (values,)
        result = {spec.name: value.detach().float().contiguous()
                  for spec, value in zip(self._outputs, values)}
        if self.device == 'cpu':
            return {name: value.numpy() for name, value in result.items()}
        return result


def load_torch_backends(checkpoint: Optional[str] = None, size: Optional[str] = None,
                        crop: int = 512, seed: int = 0, offsets: Any = None,
                        device: Optional[str] = None, precision: str = 'fp32',
                        cast_weights: Optional[bool] = None,
                        compile: bool = False) -> Dict[str, TorchBackend]:
    """Build SAM 2.1 once and return one :class:`TorchBackend` per contract model.

    Parameters
    ----------
    checkpoint : str, optional
        SAM 2.1 ``.pt`` file; ``None`` builds a random model of ``size``.
    size : str, optional
        ``tiny``, ``small``, ``base_plus`` or ``large``; read from the checkpoint if omitted.
    crop : int
        Crop side S (512 or 1024).
    seed : int
        Seed of the random initialisation.
    offsets : BiasOffsets, optional
        Score-head bias offsets (as for ``samurai-export --bias-offsets``).
    device, precision, cast_weights, compile
        As for :class:`TorchBackend`.

    Raises
    ------
    BackendError
        If the model cannot be built (the message says why and what to do).

    """
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2, ExportError

    try:
        model, _ = build_sam2(size, crop, checkpoint=checkpoint, seed=seed,
                              offsets=offsets if offsets is not None else BiasOffsets())
    except ExportError as error:
        raise BackendError(str(error)) from error
    from samurai_tracker.engines.wrappers import build_wrappers

    return {name: TorchBackend(name, module, crop, device=device, precision=precision,
                               cast_weights=cast_weights, compile=compile)
            for name, module in build_wrappers(model, crop).items()}
