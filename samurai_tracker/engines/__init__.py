"""SAM 2.1 -> five ONNX models, constants file, parity checks and TensorRT build.

Only :mod:`~samurai_tracker.engines.contract`, the constants loader and the manifest
reader are needed at run time; nothing re-exported here imports torch at import time (the
exporter imports torch and sam2 inside its functions).
"""

from samurai_tracker.engines.constants import (
    ConstantsError,
    load_constants,
    SamuraiConstants,
)
from samurai_tracker.engines.contract import (
    CONTRACT_VERSION,
    MODEL_NAMES,
    MODELS,
    ModelContract,
    TensorContract,
    memory_tokens,
    model_contract,
)
from samurai_tracker.engines.export import export_models, ExportResult
from samurai_tracker.engines.manifest import ManifestError, read_manifest
from samurai_tracker.engines.sam2_model import BiasOffsets, ExportError

__all__ = [
    'BiasOffsets',
    'CONTRACT_VERSION',
    'ConstantsError',
    'ExportError',
    'ExportResult',
    'MODEL_NAMES',
    'MODELS',
    'ManifestError',
    'ModelContract',
    'SamuraiConstants',
    'TensorContract',
    'export_models',
    'load_constants',
    'memory_tokens',
    'model_contract',
    'read_manifest',
]
