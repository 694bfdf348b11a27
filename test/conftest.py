"""Shared pytest set-up: the test folder on sys.path, session fixtures of every area.

Each area owns one clearly delimited block below; add yours as a new block.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# ---- lead: nothing else yet (ROS helpers live in ros_harness.py) ------------------------

# ---- engines (engineer A): one random SAM 2.1 tiny export per test run ------------------
# sam2_tiny_models: directory of a random-init SAM 2.1 tiny export at S=512 with bias
# offsets +10 (object score) and +4 (IoU), i.e. "object present, IoU ~0.98" on every frame.
# Cached under artifacts/test_models/<key>/; the key holds the sam2/torch versions, size,
# crop, offsets and a hash of samurai_tracker/engines/*.py, so a changed exporter
# re-exports. Files: image_encoder.onnx, prompt_encoder.onnx, mask_decoder.onnx,
# memory_encoder.onnx, memory_attention.onnx, samurai_constants.npz/.json, manifest.json.
import pytest  # noqa: E402


@pytest.fixture(scope='session')
def sam2_tiny_models():
    """Return the model directory of a cached random SAM 2.1 tiny export (S=512)."""
    from samurai_tracker.engines.cache import cached_random_export
    from samurai_tracker.engines.sam2_model import BiasOffsets

    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        'artifacts', 'test_models')
    return cached_random_export(root, size='tiny', crop=512,
                                offsets=BiasOffsets(object_score=10.0, iou=4.0), seed=0)
# ---- end engines --------------------------------------------------------------------------
