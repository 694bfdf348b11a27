"""Replay a CUDA-device model backend as a captured CUDA graph.

SAM 2.1's sub-models launch hundreds of small kernels per call; from Python each launch
costs several microseconds of host time, so at batch 1 the GPU idles between them (the
reference SAMURAI predictor spends most of its frame that way). :class:`GraphedBackend`
wraps any :class:`~samurai_tracker.backends.base.ModelBackend` whose ``device`` is
``'cuda'`` and whose ``run`` is free of host synchronisation (the PyTorch backend's
contract wrappers are): the first call per input shape warms up on a side stream and
captures ``run`` into a ``torch.cuda.CUDAGraph``; later calls copy the feeds into the
captured input tensors and replay. Outputs are cloned by default, because the runtime
keeps some of them (memory features) across frames while the next replay overwrites the
captured outputs.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from samurai_tracker.backends.base import BackendError, TensorSpec

__all__ = ['GraphedBackend']

ShapeKey = Tuple[Tuple[str, Tuple[int, ...]], ...]


class GraphedBackend:
    """A :class:`ModelBackend` that replays ``inner.run`` from a CUDA graph.

    Parameters
    ----------
    inner : ModelBackend
        Backend on a CUDA device taking and returning torch tensors.
    clone_outputs : bool
        Return copies of the captured outputs (safe to keep across calls). False returns
        the captured tensors themselves, valid until the next call.
    warmup : int
        Eager calls on a side stream before capture (lets lazy initialisation happen).

    Raises
    ------
    BackendError
        If ``inner`` is not on a CUDA device or torch is missing.

    """

    def __init__(self, inner: Any, clone_outputs: bool = True, warmup: int = 2) -> None:
        try:
            import torch
        except ImportError as error:  # pragma: no cover - depends on the install
            raise BackendError('GraphedBackend needs torch with CUDA: pip install torch') \
                from error
        if str(inner.device) != 'cuda':
            raise BackendError(f'GraphedBackend needs a backend on cuda, got {inner.device!r}')
        self._torch = torch
        self.inner = inner
        self.clone_outputs = bool(clone_outputs)
        self.warmup = max(int(warmup), 1)
        self._graphs: Dict[ShapeKey, Tuple[Any, Dict[str, Any], Dict[str, Any]]] = {}
        self.captures = 0
        """How many graphs were captured (one per distinct input-shape set)."""

    @property
    def device(self) -> str:
        """``'cuda'``: torch tensors in and out."""
        return 'cuda'

    @property
    def inputs(self) -> Tuple[TensorSpec, ...]:
        """The inner backend's inputs."""
        return tuple(self.inner.inputs)

    @property
    def outputs(self) -> Tuple[TensorSpec, ...]:
        """The inner backend's outputs."""
        return tuple(self.inner.outputs)

    def _as_tensor(self, name: str, value: Any) -> Any:
        torch = self._torch
        if isinstance(value, torch.Tensor):
            tensor = value
        elif hasattr(value, '__cuda_array_interface__'):
            tensor = torch.as_tensor(value, device='cuda')
        else:
            raise BackendError(f'{self.inner_name}: input {name!r} must be a CUDA tensor for '
                               f'graph replay, got {type(value).__name__}')
        return tensor

    @property
    def inner_name(self) -> str:
        """Name of the wrapped model (for messages)."""
        return str(getattr(self.inner, 'name', type(self.inner).__name__))

    def _capture(self, feeds: Dict[str, Any]) -> Tuple[Any, Dict[str, Any], Dict[str, Any]]:
        torch = self._torch
        static_in = {name: t.detach().clone() for name, t in feeds.items()}
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.inner.run(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                static_out = self.inner.run(static_in)
        except RuntimeError as error:
            raise BackendError(f'{self.inner_name}: its run() cannot be captured in a CUDA '
                               f'graph ({error}); use the eager backend') from error
        self.captures += 1
        return graph, static_in, static_out

    def run(self, feeds: Mapping[str, Any]) -> Dict[str, Any]:
        """Copy ``feeds`` into the captured inputs, replay, and return the outputs.

        Raises
        ------
        BackendError
            If an input is missing, not a CUDA tensor, or the model cannot be captured.

        """
        tensors: Dict[str, Any] = {}
        for spec in self.inner.inputs:
            if spec.name not in feeds:
                raise BackendError(f'{self.inner_name}: missing input {spec.name!r} '
                                   f'{spec.shape}')
            tensors[spec.name] = self._as_tensor(spec.name, feeds[spec.name])
        key: ShapeKey = tuple((n, tuple(t.shape)) for n, t in tensors.items())
        entry: Optional[Tuple[Any, Dict[str, Any], Dict[str, Any]]] = self._graphs.get(key)
        if entry is None:
            entry = self._capture(tensors)
            self._graphs[key] = entry
        graph, static_in, static_out = entry
        for name, tensor in tensors.items():
            target = static_in[name]
            if tensor.data_ptr() != target.data_ptr():
                target.copy_(tensor)
        graph.replay()
        if not self.clone_outputs:
            return dict(static_out)
        return {name: value.clone() for name, value in static_out.items()}
