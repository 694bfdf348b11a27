"""Export SAM 2.1 into the five ONNX models, the constants file and the manifest.

:func:`export_models` is the library entry (the demo and the test fixture call it);
``samurai-export`` (:mod:`samurai_tracker.engines.export_cli`) wraps it. The legacy
TorchScript exporter (``dynamo=False``) is used: it needs no onnxscript and traces the
wrappers of :mod:`samurai_tracker.engines.wrappers` exactly. ONNX records the graph, not
the values, so the trace inputs are seeded random tensors of the contract's shapes; the
realistic inputs are used by the parity check (``verify=True``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import datetime
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple
import warnings

from samurai_tracker.engines.constants import gather_constants, save_constants
from samurai_tracker.engines.contract import (
    CONTRACT_VERSION,
    MAX_OBJ_PTRS,
    MEMORY_SLOTS,
    MODEL_NAMES,
    MODELS,
    NUM_MASKMEM,
    PTR_TOKENS,
    SUPPORTED_CROPS,
)
from samurai_tracker.engines.manifest import check_against_contract, onnx_io, write_manifest
from samurai_tracker.engines.sam2_model import (
    BiasOffsets,
    build_sam2,
    ExportError,
    file_sha256,
    resolve_size,
    SIZES,
)

__all__ = ['DEFAULT_OPSET', 'ExportResult', 'example_inputs', 'export_models', 'tool_versions']

DEFAULT_OPSET = 17
"""ONNX opset: LayerNormalization is native from 17; TensorRT 8.6+ and 10 parse it."""

_DYNAMIC_AXES: Mapping[str, Mapping[str, Mapping[int, str]]] = {
    'mask_decoder': {'sparse': {1: 'num_points'}},
}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_models` wrote.

    Parameters
    ----------
    output_dir : str
        The model directory.
    manifest : dict
        The manifest as written.
    seconds : float
        Wall time of the whole export (build, trace, constants, parity), in seconds.
    parity : dict, optional
        The parity report when ``verify`` was set.

    """

    output_dir: str
    manifest: Dict[str, Any]
    seconds: float
    parity: Optional[Dict[str, Any]] = field(default=None)

    @property
    def parity_passed(self) -> bool:
        """True when no parity was run or every output passed its gate."""
        return self.parity is None or bool(self.parity.get('passed'))


def tool_versions() -> Dict[str, str]:
    """Versions of the tools an export depends on (``'missing'`` where not installed)."""
    versions = {'python': platform.python_version()}
    for module in ('torch', 'sam2', 'onnx', 'onnxruntime', 'numpy'):
        try:
            from importlib.metadata import version
            versions[module] = version(module)
        except Exception:  # PackageNotFoundError or a broken install
            versions[module] = 'missing'
    from samurai_tracker import __version__
    versions['samurai_tracker'] = __version__
    return versions


def example_inputs(name: str, crop: int, seed: int = 0, num_points: int = 3) -> Tuple[Any, ...]:
    """Seeded random trace inputs of model ``name`` with the contract's shapes (torch)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    tensors = []
    for spec in MODELS[name].input_specs(crop):
        shape = [num_points if isinstance(d, str) else d for d in spec.shape]
        if spec.name == 'box':
            tensors.append(torch.tensor([[[0.2 * crop, 0.25 * crop], [0.7 * crop, 0.8 * crop]]]))
        elif spec.name == 'memory_valid':
            tensors.append(torch.ones(1, MEMORY_SLOTS))
        else:
            tensors.append(torch.randn(*shape, generator=generator))
    return tuple(tensors)


def _prepare_output_dir(output_dir: str) -> str:
    path = os.path.abspath(output_dir)
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, '.write_test')
        with open(probe, 'w', encoding='utf-8') as handle:
            handle.write('ok')
        os.remove(probe)
    except OSError as error:
        raise ExportError(f'cannot write to output directory {path} ({error.strerror}); '
                          'choose a writable --output') from error
    return path


def _export_one(module: Any, name: str, crop: int, path: str, opset: int) -> None:
    import torch

    contract = MODELS[name]
    tmp = path + '.tmp'
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(module, example_inputs(name, crop), tmp,
                          input_names=list(contract.input_names),
                          output_names=list(contract.output_names),
                          opset_version=opset, dynamo=False, do_constant_folding=True,
                          dynamic_axes={k: dict(v) for k, v in
                                        _DYNAMIC_AXES.get(name, {}).items()} or None)
    _stamp_shapes(tmp, name, crop)
    os.replace(tmp, path)


def _stamp_shapes(path: str, name: str, crop: int) -> None:
    """Write the contract's input and output shapes into the ONNX graph.

    The tracer leaves some output dimensions symbolic (``Convfeat_s0_dim_2``); static
    shapes let TensorRT plan once and let readers check a file against the contract.
    Parity then proves the stamped shapes are the real ones.
    """
    import onnx

    model = onnx.load(path)
    contract = MODELS[name]
    for values, specs in ((model.graph.input, contract.input_specs(crop)),
                          (model.graph.output, contract.output_specs(crop))):
        by_name = {spec.name: spec for spec in specs}
        for value in values:
            spec = by_name[value.name]
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for size in spec.shape:
                dim = dims.add()
                if isinstance(size, str):
                    dim.dim_param = size
                else:
                    dim.dim_value = int(size)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def export_models(output_dir: str, size: Optional[str] = None, checkpoint: Optional[str] = None,
                  crop: int = 512, random_init: bool = False,
                  offsets: BiasOffsets = BiasOffsets(), seed: int = 0,
                  opset: int = DEFAULT_OPSET, verify: bool = False,
                  models: Sequence[str] = MODEL_NAMES,
                  log: Callable[[str], None] = lambda message: None) -> ExportResult:
    """Export SAM 2.1 to ``output_dir``: five ONNX files, constants, manifest (+ parity).

    Parameters
    ----------
    output_dir : str
        Created if missing; must be writable.
    size : str, optional
        ``tiny``, ``small``, ``base_plus`` or ``large`` (or a config name); read from
        the checkpoint when omitted, required with ``random_init``.
    checkpoint : str, optional
        SAM 2.1 ``.pt`` file. Exactly one of ``checkpoint`` and ``random_init``.
    crop : int
        Crop side S: 512 (tracking crops) or 1024 (full-frame mode).
    random_init : bool
        Export a randomly initialised model (marked ``untrained`` in the manifest).
    offsets : BiasOffsets
        Object-score / IoU head bias offsets (see :class:`BiasOffsets`).
    seed : int
        Seed of the random initialisation and the trace inputs.
    opset : int
        ONNX opset.
    verify : bool
        Run the parity check and write ``parity.json``.
    models : sequence of str
        Subset of models to export (all five by default; the manifest lists those).
    log : callable
        Receives one progress line per step.

    Returns
    -------
    ExportResult

    Raises
    ------
    ExportError
        For bad input (see :func:`samurai_tracker.engines.sam2_model.build_sam2`), an
        unwritable directory, or both/neither of checkpoint and random_init.

    """
    started = time.perf_counter()
    if (checkpoint is None) == (not random_init):
        raise ExportError('pass exactly one of --checkpoint PATH and --random-init')
    if crop not in SUPPORTED_CROPS:
        raise ExportError(f'unsupported crop size {crop}: use one of '
                          f'{", ".join(map(str, SUPPORTED_CROPS))}')
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ExportError(f'unknown models {unknown}; choose from {", ".join(MODEL_NAMES)}')
    if size is not None:
        size = resolve_size(size)
    directory = _prepare_output_dir(output_dir)
    model, size = build_sam2(size, crop, checkpoint=checkpoint, seed=seed, offsets=offsets)
    log(f'built SAM 2.1 {size} at S={crop} '
        f'({"random init" if checkpoint is None else checkpoint})')
    from samurai_tracker.engines.wrappers import build_wrappers

    wrappers = build_wrappers(model, crop)
    timings: Dict[str, float] = {}
    entries: Dict[str, Any] = {}
    for name in models:
        tick = time.perf_counter()
        path = os.path.join(directory, MODELS[name].file_name)
        _export_one(wrappers[name], name, crop, path, opset)
        timings[name] = round(time.perf_counter() - tick, 3)
        entries[name] = {'file': MODELS[name].file_name, 'sha256': file_sha256(path),
                         **onnx_io(path)}
        log(f'exported {name} in {timings[name]:.1f} s')
    arrays, scalars = gather_constants(model, crop)
    npz_path, meta_path = save_constants(directory, arrays, scalars)
    manifest: Dict[str, Any] = {
        'contract_version': CONTRACT_VERSION,
        'created_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'model': {
            'family': 'SAM 2.1',
            'size': size,
            'config': SIZES[size],
            'checkpoint': os.path.abspath(checkpoint) if checkpoint else None,
            'checkpoint_sha256': file_sha256(checkpoint) if checkpoint else None,
            'untrained': checkpoint is None,
            'seed': seed if checkpoint is None else None,
            'bias_offsets': {'object_score': offsets.object_score, 'iou': offsets.iou},
        },
        'crop': crop,
        'opset': opset,
        'tools': tool_versions(),
        'command': ' '.join(sys.argv),
        'memory_layout': {'num_maskmem': NUM_MASKMEM, 'max_obj_ptrs': MAX_OBJ_PTRS,
                          'ptr_tokens': PTR_TOKENS, 'slots': MEMORY_SLOTS,
                          'valid_input': 'memory_valid'},
        'models': entries,
        'constants': {'file': os.path.basename(npz_path), 'meta': os.path.basename(meta_path),
                      'sha256': file_sha256(npz_path)},
        'export_seconds': timings,
        'tensorrt': None,
    }
    if tuple(models) == MODEL_NAMES:
        check_against_contract(manifest)
    write_manifest(directory, manifest)
    parity = None
    if verify:
        from samurai_tracker.engines.parity import run_parity, write_parity

        parity = run_parity(directory, model, models=models)
        write_parity(directory, parity)
        log(f'parity {"passed" if parity["passed"] else "FAILED"} '
            f'(min cosine {parity["min_cosine"]:.6f})')
    seconds = time.perf_counter() - started
    manifest['export_seconds']['total'] = round(seconds, 3)
    write_manifest(directory, manifest)
    return ExportResult(directory, manifest, seconds, parity)
