"""Parity of the exported models against the original sam2 modules, and its gate."""

import os

import numpy as np
import pytest

from samurai_tracker.backends import OnnxRuntimeBackend
from samurai_tracker.engines import MODEL_NAMES, MODELS, read_manifest
from samurai_tracker.engines.parity import (
    capture_golden,
    check_cases,
    compare,
    COSINE_GATE,
    write_parity,
)
from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2


@pytest.fixture(scope='module')
def reference(sam2_tiny_models):
    """The SAM 2.1 model the fixture exported (rebuilt from the manifest) and its golden cases."""
    info = read_manifest(sam2_tiny_models)['model']
    model, _ = build_sam2(info['size'], 512, seed=info['seed'],
                          offsets=BiasOffsets(**info['bias_offsets']))
    return model, capture_golden(model, 512, num_frames=3)


@pytest.fixture(scope='module')
def ort(sam2_tiny_models):
    return {name: OnnxRuntimeBackend(os.path.join(sam2_tiny_models, MODELS[name].file_name))
            for name in MODEL_NAMES}


def test_compare_is_cosine_and_max_error():
    a = np.array([1.0, 0.0, 0.0])
    assert compare(a, a) == (1.0, 0.0)
    cosine, error = compare(a, np.array([0.0, 1.0, 0.0]))
    assert cosine == pytest.approx(0.0) and error == pytest.approx(1.0)
    assert compare(np.zeros(3), np.zeros(3))[0] == 1.0
    with pytest.raises(ValueError, match='shape'):
        compare(a, np.zeros(4))


def test_golden_chain_covers_every_model_and_situation(reference):
    _, cases = reference
    labels = {(c.model, c.label) for c in cases}
    assert {m for m, _ in labels} == set(MODEL_NAMES)
    sparse_points = {c.inputs['sparse'].shape[1] for c in cases if c.model == 'mask_decoder'}
    assert sparse_points == {2, 3}
    valid = [c.inputs['memory_valid'] for c in cases if c.model == 'memory_attention']
    assert min(v.sum() for v in valid) < 23 and max(v.sum() for v in valid) == 23


def test_onnx_models_pass_the_gate_and_report_is_written(reference, ort, tmp_path):
    _, cases = reference
    report = check_cases(cases, ort, 'onnxruntime')
    failures = [(m, o, e['cosine']) for m, outs in report['models'].items()
                for o, e in outs.items() if not e['pass']]
    assert report['passed'], failures
    assert report['min_cosine'] >= COSINE_GATE
    for name in MODEL_NAMES:
        assert set(report['models'][name]) == set(MODELS[name].output_names)
    # Memory attention: the static bank with garbage in unused slots equals SAM 2's
    # variable-length attention closely, not just above the gate.
    attention = report['models']['memory_attention']['conditioned']
    assert attention['max_abs_error'] < 1e-3
    path = write_parity(str(tmp_path), report)
    assert os.path.isfile(path)


class _Perturbed:
    """A real ONNX Runtime backend whose one output is shifted, to prove the gate bites."""

    def __init__(self, backend, output):
        self.backend, self.output = backend, output
        self.inputs, self.outputs, self.device = backend.inputs, backend.outputs, 'cpu'

    def run(self, feeds):
        out = self.backend.run(feeds)
        rng = np.random.default_rng(0)
        out[self.output] = out[self.output] + rng.normal(0, 1, out[self.output].shape).astype(
            np.float32) * np.abs(out[self.output]).mean()
        return out


def test_gate_fails_a_wrong_model(reference, ort):
    _, cases = reference
    backends = dict(ort, memory_encoder=_Perturbed(ort['memory_encoder'], 'maskmem_feat'))
    report = check_cases([c for c in cases if c.model == 'memory_encoder'], backends, 'x')
    assert not report['passed']
    assert not report['models']['memory_encoder']['maskmem_feat']['pass']
    assert report['models']['memory_encoder']['maskmem_pos']['pass']


def test_unused_memory_slots_are_excluded_exactly(reference, ort):
    _, cases = reference
    case = next(c for c in cases if c.model == 'memory_attention'
                and c.inputs['memory_valid'].sum() < 23)
    feeds = dict(case.inputs)
    base = ort['memory_attention'].run(feeds)['conditioned']
    valid = feeds['memory_valid'][0] > 0
    tokens = 1024
    token_valid = np.concatenate([np.repeat(valid[:7], tokens), np.repeat(valid[7:], 4)])
    changed = dict(feeds)
    changed['memory'] = feeds['memory'].copy()
    changed['memory'][~token_valid] = 50.0  # different garbage in unused slots only
    np.testing.assert_allclose(ort['memory_attention'].run(changed)['conditioned'], base,
                               atol=1e-5)
    dropped = dict(feeds)
    dropped['memory_valid'] = feeds['memory_valid'].copy()
    dropped['memory_valid'][0, 7] = 0.0  # drop a used pointer: the output must move
    assert np.abs(ort['memory_attention'].run(dropped)['conditioned'] - base).max() > 1e-4
