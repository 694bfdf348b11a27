"""``manifest.json``: what a model directory holds and how it was made.

Written by the exporter, extended by the TensorRT build (``tensorrt`` section) and read by
every backend loader. It records the checkpoint (path and SHA-256, or ``untrained: true``
for a random model and its bias offsets), the config, the crop size, the ONNX opset, tool
versions, and every model's input and output names, shapes and dtypes as read back from
the ONNX files, so a reader can check a directory against the contract without torch.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping

from samurai_tracker.engines.contract import (
    CONTRACT_VERSION,
    MANIFEST_FILE,
    MODEL_NAMES,
    MODELS,
)

__all__ = ['MANIFEST_FORMAT_VERSION', 'ManifestError', 'check_against_contract',
           'onnx_io', 'read_manifest', 'write_manifest']

MANIFEST_FORMAT_VERSION = 1

_ONNX_DTYPES = {1: 'float32', 10: 'float16', 11: 'float64', 7: 'int64', 6: 'int32', 9: 'bool',
                2: 'uint8'}


class ManifestError(ValueError):
    """A model directory's manifest is missing, unreadable or inconsistent."""


def onnx_io(path: str) -> Dict[str, List[Dict[str, Any]]]:
    """Read input and output names, shapes and dtypes of an ONNX file (weights not loaded).

    Returns
    -------
    dict
        ``{'inputs': [...], 'outputs': [...]}``, each entry ``{'name', 'shape', 'dtype'}``
        with a dynamic dimension given by its name.

    """
    import onnx

    model = onnx.load(path, load_external_data=False)

    def describe(values: Any) -> List[Dict[str, Any]]:
        described = []
        for value in values:
            tensor = value.type.tensor_type
            shape = [d.dim_param if d.dim_param else int(d.dim_value)
                     for d in tensor.shape.dim]
            described.append({'name': value.name, 'shape': shape,
                              'dtype': _ONNX_DTYPES.get(tensor.elem_type,
                                                        str(tensor.elem_type))})
        return described

    return {'inputs': describe(model.graph.input), 'outputs': describe(model.graph.output)}


def check_against_contract(manifest: Mapping[str, Any]) -> None:
    """Check the manifest's model I/O equals the contract at its crop size.

    Raises
    ------
    ManifestError
        Naming the first model and tensor that differ.

    """
    crop = int(manifest['crop'])
    for name in MODEL_NAMES:
        entry = manifest.get('models', {}).get(name)
        if entry is None:
            raise ManifestError(f'manifest lists no {name}; re-export with samurai-export')
        contract = MODELS[name]
        for kind, specs in (('inputs', contract.input_specs(crop)),
                            ('outputs', contract.output_specs(crop))):
            have = [(t['name'], [d if isinstance(d, str) else int(d) for d in t['shape']],
                     t['dtype']) for t in entry[kind]]
            want = [(s.name, list(s.shape), s.dtype) for s in specs]
            if have != want:
                raise ManifestError(f'{name} {kind} {have} differ from the contract {want}; '
                                    're-export with this version of samurai-export')


def write_manifest(directory: str, manifest: Mapping[str, Any]) -> str:
    """Write ``manifest.json`` into ``directory`` and return its path."""
    path = os.path.join(directory, MANIFEST_FILE)
    body = dict(manifest)
    body.setdefault('format_version', MANIFEST_FORMAT_VERSION)
    body.setdefault('contract_version', CONTRACT_VERSION)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(body, handle, indent=2, sort_keys=False)
    os.replace(tmp, path)
    return path


def read_manifest(directory: str) -> Dict[str, Any]:
    """Read and sanity-check ``manifest.json`` of a model directory.

    Raises
    ------
    ManifestError
        If it is missing, not JSON, of another format or contract version.

    """
    path = os.path.join(directory, MANIFEST_FILE)
    if not os.path.isfile(path):
        raise ManifestError(f'no {MANIFEST_FILE} in {directory}; run samurai-export first')
    try:
        with open(path, encoding='utf-8') as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as error:
        raise ManifestError(f'{path} is not readable JSON ({error}); re-export') from error
    if manifest.get('format_version') != MANIFEST_FORMAT_VERSION:
        raise ManifestError(f'{path} has format version {manifest.get("format_version")}, '
                            f'expected {MANIFEST_FORMAT_VERSION}; re-export')
    if manifest.get('contract_version') != CONTRACT_VERSION:
        raise ManifestError(f'{path} was written for contract version '
                            f'{manifest.get("contract_version")}, this code uses '
                            f'{CONTRACT_VERSION}; re-export with samurai-export')
    return manifest
