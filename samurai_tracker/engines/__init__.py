"""SAM 2.1 -> five ONNX models, constants file, parity checks and TensorRT build.

Only :mod:`samurai_tracker.engines.contract` and the constants loader are needed at run
time; they import no torch. The exporter imports torch and sam2 inside its functions.
"""

from samurai_tracker.engines.contract import (
    CONTRACT_VERSION,
    MODEL_NAMES,
    MODELS,
    ModelContract,
    TensorContract,
    memory_tokens,
    model_contract,
)

__all__ = [
    'CONTRACT_VERSION',
    'MODEL_NAMES',
    'MODELS',
    'ModelContract',
    'TensorContract',
    'memory_tokens',
    'model_contract',
]
