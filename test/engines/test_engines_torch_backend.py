"""The PyTorch backend has the ONNX models' I/O contract and their values."""

import os

import numpy as np
import pytest

from samurai_tracker.backends import BackendError, load_torch_backends, ModelBackend
from samurai_tracker.backends import OnnxRuntimeBackend
from samurai_tracker.engines import MODEL_NAMES, MODELS, read_manifest
from samurai_tracker.engines.export import example_inputs
from samurai_tracker.engines.parity import compare
from samurai_tracker.engines.sam2_model import BiasOffsets


@pytest.fixture(scope='module')
def torch_backends(sam2_tiny_models):
    info = read_manifest(sam2_tiny_models)['model']
    return load_torch_backends(size='tiny', crop=512, seed=info['seed'],
                               offsets=BiasOffsets(**info['bias_offsets']), device='cpu')


@pytest.mark.parametrize('name', [n for n in MODEL_NAMES if n != 'image_encoder'])
def test_torch_backend_matches_onnx(torch_backends, sam2_tiny_models, name):
    backend = torch_backends[name]
    assert isinstance(backend, ModelBackend) and backend.device == 'cpu'
    assert backend.inputs == MODELS[name].input_specs(512)
    assert backend.outputs == MODELS[name].output_specs(512)
    feeds = {spec.name: tensor.numpy() for spec, tensor in
             zip(backend.inputs, example_inputs(name, 512, seed=7))}
    onnx = OnnxRuntimeBackend(os.path.join(sam2_tiny_models, MODELS[name].file_name))
    expected = onnx.run(feeds)
    got = backend.run(feeds)
    for output in MODELS[name].output_names:
        assert isinstance(got[output], np.ndarray) and got[output].dtype == np.float32
        cosine, _ = compare(expected[output], got[output])
        assert cosine > 0.9999, (output, cosine)


def test_torch_backend_validates_input(torch_backends):
    with pytest.raises(BackendError, match='box'):
        torch_backends['prompt_encoder'].run({'box': np.zeros((1, 4), np.float32)})
    with pytest.raises(BackendError, match='missing input'):
        torch_backends['memory_encoder'].run({})


def test_torch_backend_refuses_half_precision_on_cpu(torch_backends):
    from samurai_tracker.backends import TorchBackend
    module = torch_backends['prompt_encoder']._module
    with pytest.raises(BackendError, match='cuda'):
        TorchBackend('prompt_encoder', module, 512, device='cpu', precision='fp16')


def test_memory_attention_without_mask_equals_all_slots_valid(torch_backends):
    torch = pytest.importorskip('torch')
    backend = torch_backends['memory_attention']
    feeds = {spec.name: tensor for spec, tensor in
             zip(backend.inputs, example_inputs('memory_attention', 512, seed=3))}
    everything = torch.ones_like(feeds['memory_valid'])
    args = [feeds[n] for n in ('curr', 'curr_pos', 'memory', 'memory_pos')]
    with torch.no_grad():
        masked = backend.module(*args, everything)
        unmasked = backend.module(*args, None)
        partial = backend.module(*args, torch.cat([everything[:, :1],
                                                   torch.zeros_like(everything[:, 1:])], 1))
    assert torch.allclose(masked, unmasked, atol=1e-5)
    assert not torch.allclose(partial, unmasked, atol=1e-3)  # the mask does switch slots off
    assert backend.precision == 'fp32'
