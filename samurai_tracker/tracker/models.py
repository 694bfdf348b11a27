"""The model set the runtime drives: five SAM 2.1 sub-models plus the constants file.

:func:`open_models` opens a model directory (made by ``samurai-export``, and for TensorRT
by ``samurai-build-engines``) with one backend per model, chosen by name:

``'onnxruntime'``  ``<name>.onnx`` with ONNX Runtime (CPU everywhere; CUDA/TensorRT
                   execution providers where installed)
``'tensorrt'``     ``<name>.engine`` with TensorRT
``'torch'``        the PyTorch backend of the same I/O contract

Before anything heavy is loaded it checks that every file exists and names the missing
one together with the command that makes it. Any object satisfying
:class:`~samurai_tracker.backends.base.ModelBackend` can also be passed to
:class:`SamuraiModels` directly (tests and new backends do that).
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib
import os
from typing import Any, Dict, Mapping, Optional, Tuple

from samurai_tracker.backends.base import BackendError, ModelBackend
from samurai_tracker.engines.constants import ConstantsError, load_constants, SamuraiConstants
from samurai_tracker.engines.contract import CONSTANTS_FILE, MANIFEST_FILE, MODEL_NAMES, MODELS
from samurai_tracker.tracker.array_ops import ArrayOps, NumpyOps, TorchOps
from samurai_tracker.tracker.errors import ModelSetError

__all__ = ['BACKENDS', 'SamuraiModels', 'open_backend', 'open_models']

BACKENDS: Tuple[str, ...] = ('onnxruntime', 'tensorrt', 'torch')
"""Backend names :func:`open_models` accepts."""

_EXPORT_HINT = ('run `samurai-export --checkpoint <sam2.1 .pt> --out {dir}` (or '
                '`samurai-export --random-init --config tiny --out {dir}` for a test model)')
_ENGINE_HINT = 'run `samurai-build-engines {dir}` on the target machine'

# backend -> (module, class, file suffix of one model, hint for a missing file)
_REGISTRY: Mapping[str, Tuple[str, str, str, str]] = {
    'onnxruntime': ('samurai_tracker.backends.onnxruntime_backend', 'OnnxRuntimeBackend',
                    '.onnx', _EXPORT_HINT),
    'tensorrt': ('samurai_tracker.backends.tensorrt_backend', 'TensorRTBackend', '.engine',
                 _ENGINE_HINT),
    'torch': ('samurai_tracker.backends.torch_backend', 'TorchBackend', '', _EXPORT_HINT),
}


@dataclass(frozen=True)
class SamuraiModels:
    """The five loaded sub-models and the constants, ready for the runtime.

    Parameters
    ----------
    image_encoder, prompt_encoder, mask_decoder, memory_encoder, memory_attention
        One :class:`~samurai_tracker.backends.base.ModelBackend` each, with the I/O of
        :mod:`samurai_tracker.engines.contract`.
    constants : SamuraiConstants
        The constants file of the same export.
    backend : str
        Name of the backend, for reports.
    model_dir : str
        Directory the models came from ('' when assembled by hand).

    """

    image_encoder: ModelBackend
    prompt_encoder: ModelBackend
    mask_decoder: ModelBackend
    memory_encoder: ModelBackend
    memory_attention: ModelBackend
    constants: SamuraiConstants
    backend: str = 'onnxruntime'
    model_dir: str = ''

    def __post_init__(self) -> None:
        """Check every model has the contract's input and output names."""
        for name in MODEL_NAMES:
            model = getattr(self, name)
            if not isinstance(model, ModelBackend):
                raise ModelSetError(f'{name} must implement ModelBackend (device, inputs, '
                                    f'outputs, run), got {type(model).__name__}')
            contract = MODELS[name]
            have_in = {t.name for t in model.inputs}
            have_out = {t.name for t in model.outputs}
            missing = sorted((set(contract.input_names) - have_in)
                             | (set(contract.output_names) - have_out))
            if missing:
                raise ModelSetError(f'{name} lacks tensors {missing} of the contract; '
                                    + _EXPORT_HINT.format(dir=self.model_dir or '<dir>'))
        if not self.constants.scalars.get('directly_add_no_mem_embed', False):
            raise ModelSetError('these models need directly_add_no_mem_embed (every SAM 2.1 '
                                'config has it); re-export from a SAM 2.1 checkpoint')

    @property
    def crop(self) -> int:
        """Model input side S in pixels."""
        return self.constants.crop

    @property
    def device(self) -> str:
        """Device of the image encoder's outputs (``'cpu'`` or ``'cuda'``)."""
        return str(self.image_encoder.device)

    def make_ops(self) -> ArrayOps:
        """Return the array operations matching where the backends keep their tensors.

        For torch on CUDA: the CUDA glue kernels (:class:`~samurai_tracker.gpu.
        glue_array_ops.CudaGlueOps`, one kernel per glue step) where CuPy or pycuda can
        compile them, else plain :class:`TorchOps`.
        """
        devices = {str(getattr(self, n).device) for n in MODEL_NAMES}
        if devices == {'cpu'}:
            return NumpyOps()
        if self.backend == 'torch':
            device = sorted(devices - {'cpu'})[0]
            try:
                from samurai_tracker.gpu.glue_array_ops import CudaGlueOps
                from samurai_tracker.gpu.kernel_module import GpuUnavailableError
            except ImportError:
                return TorchOps(device)
            try:
                return CudaGlueOps(device)
            except (GpuUnavailableError, ValueError):
                return TorchOps(device)
        raise ModelSetError(f'no array operations for {self.backend} outputs on {devices}; '
                            'open the models with host outputs (TensorRT: host_outputs=True)')


def _import_backend_class(backend: str) -> Any:
    module_name, class_name, _, _ = _REGISTRY[backend]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelSetError(f'backend {backend!r} cannot be imported ({error}); install its '
                            'runtime or pick another backend') from error
    return getattr(module, class_name)


def _open_torch(model_dir: str, options: Dict[str, Any]) -> Dict[str, ModelBackend]:
    """Rebuild SAM 2.1 in PyTorch from what the directory's manifest records."""
    from samurai_tracker.engines.manifest import ManifestError, read_manifest
    from samurai_tracker.engines.sam2_model import BiasOffsets

    try:
        manifest = read_manifest(model_dir)
    except ManifestError as error:
        raise ModelSetError(str(error)) from error
    info = manifest.get('model', {})
    module = importlib.import_module('samurai_tracker.backends.torch_backend')
    offsets = BiasOffsets(**info.get('bias_offsets', {}))
    try:
        backends = module.load_torch_backends(
            checkpoint=info.get('checkpoint'), size=info.get('size'),
            crop=int(manifest['crop']), seed=int(info.get('seed') or 0), offsets=offsets,
            **options)
    except BackendError as error:
        raise ModelSetError(f'torch cannot rebuild the models of {model_dir}: {error}') from error
    return {name: backends[name] for name in MODEL_NAMES}


def open_backend(model_dir: str, name: str, backend: str = 'onnxruntime',
                 **options: Any) -> ModelBackend:
    """Open one sub-model of a model directory with the chosen backend.

    Parameters
    ----------
    model_dir : str
        Model directory.
    name : str
        One of :data:`~samurai_tracker.engines.contract.MODEL_NAMES`.
    backend : str
        One of :data:`BACKENDS`.
    **options
        Passed to the backend's constructor (``providers``, ``intra_op_threads`` for ONNX
        Runtime; ``device_id``, ``host_outputs`` (default True) for TensorRT; ``device``,
        ``precision`` for torch, which rebuilds the model from the manifest's checkpoint).

    Raises
    ------
    ModelSetError
        If the backend is unknown or unavailable, or the file is missing (naming the
        command that makes it), or the backend cannot load it.

    """
    if name not in MODELS:
        raise ModelSetError(f'unknown model {name!r}; expected one of {", ".join(MODEL_NAMES)}')
    if backend not in _REGISTRY:
        raise ModelSetError(f'unknown backend {backend!r}; choose one of {", ".join(BACKENDS)}')
    if backend == 'torch':
        return _open_torch(model_dir, options)[name]
    _, _, suffix, hint = _REGISTRY[backend]
    path = os.path.join(model_dir, name + suffix)
    if not os.path.isfile(path):
        raise ModelSetError(f'missing {name}{suffix} in {model_dir}: '
                            + hint.format(dir=model_dir))
    opener = _import_backend_class(backend)
    if backend == 'tensorrt':
        options = {'host_outputs': True, **options}
    try:
        return opener(path, **options)
    except BackendError as error:
        raise ModelSetError(f'{backend} cannot load {name} from {model_dir}: {error}') from error


def open_models(model_dir: str, backend: str = 'onnxruntime',
                **options: Any) -> SamuraiModels:
    """Open all five sub-models and the constants of ``model_dir``.

    Every file is checked before any model is loaded, so a missing one fails fast with a
    message that names it and the command that makes it.

    Raises
    ------
    ModelSetError
        See :func:`open_backend`; also for a missing or inconsistent constants file or
        models exported for another crop size.

    """
    if not os.path.isdir(model_dir):
        raise ModelSetError(f'model directory {model_dir!r} does not exist: '
                            + _EXPORT_HINT.format(dir=model_dir))
    if backend not in _REGISTRY:
        raise ModelSetError(f'unknown backend {backend!r}; choose one of {", ".join(BACKENDS)}')
    _, _, suffix, hint = _REGISTRY[backend]
    needed = [n + suffix for n in MODEL_NAMES] if suffix else [MANIFEST_FILE]
    missing = [f for f in needed if not os.path.isfile(os.path.join(model_dir, f))]
    if not os.path.isfile(os.path.join(model_dir, CONSTANTS_FILE)):
        missing.append(CONSTANTS_FILE)
        hint = _EXPORT_HINT
    if missing:
        raise ModelSetError(f'{model_dir} lacks {", ".join(missing)}: '
                            + hint.format(dir=model_dir))
    try:
        constants = load_constants(model_dir)
    except ConstantsError as error:
        raise ModelSetError(str(error)) from error
    if backend == 'torch':
        models = _open_torch(model_dir, options)
    else:
        models = {name: open_backend(model_dir, name, backend, **options)
                  for name in MODEL_NAMES}
    crop = constants.crop
    image_spec = {t.name: t for t in models['image_encoder'].inputs}.get('image')
    if image_spec is not None and isinstance(image_spec.shape[-1], int) and \
            image_spec.shape[-1] != crop:
        raise ModelSetError(f'image_encoder takes {image_spec.shape[-1]} px but the constants '
                            f'say {crop}; re-export the directory in one go')
    return SamuraiModels(constants=constants, backend=backend, model_dir=model_dir,
                         **models)  # type: ignore[arg-type]


def describe(models: SamuraiModels) -> Dict[str, Optional[str]]:
    """Return a short description of a model set for reports."""
    return {'backend': models.backend, 'model_dir': models.model_dir,
            'crop': str(models.crop), 'device': models.device}
