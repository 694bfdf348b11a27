"""TensorRT paths that run without TensorRT: commands, refusals and clear messages."""

import importlib.util
import json
import os
import shutil

import pytest

from samurai_tracker.backends import BackendError, TensorRTBackend
from samurai_tracker.backends.tensorrt_backend import check_engine_compatible
from samurai_tracker.engines.trt_build import main, trtexec_command

HAVE_TRT = importlib.util.find_spec('tensorrt') is not None


def test_decoder_trtexec_line_has_the_sparse_profile(tmp_path):
    line = trtexec_command(str(tmp_path), 'mask_decoder')
    assert '--fp16' in line
    assert '--minShapes=sparse:1x2x256' in line
    assert '--optShapes=sparse:1x3x256' in line and '--maxShapes=sparse:1x3x256' in line
    assert 'Shapes' not in trtexec_command(str(tmp_path), 'image_encoder')


def test_dry_run_prints_one_line_per_model(sam2_tiny_models, capsys):
    assert main(['--model-dir', sam2_tiny_models, '--dry-run']) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith('trtexec')]
    assert len(lines) == 5
    assert all(os.path.join(sam2_tiny_models, '') in ln for ln in lines)


def test_version_or_gpu_mismatch_is_refused_with_rebuild_command():
    recorded = {'version': '10.3.0', 'gpu_name': 'Orin', 'compute_capability': '8.7'}
    check_engine_compatible(recorded, '10.3.0', 'Orin', '8.7', '/m')  # same: accepted
    for here in (('10.7.0', 'Orin', '8.7'), ('10.3.0', 'NVIDIA H100', '9.0')):
        with pytest.raises(BackendError) as error:
            check_engine_compatible(recorded, *here, '/m')
        message = str(error.value)
        assert '\n' not in message
        assert 'samurai-build-engines --model-dir /m' in message
    with pytest.raises(BackendError, match='samurai-build-engines'):
        check_engine_compatible({}, '10.3.0', 'Orin', '8.7', '/m')


def test_missing_engine_names_the_rebuild_command(tmp_path):
    with pytest.raises(BackendError, match='samurai-build-engines --model-dir'):
        TensorRTBackend(str(tmp_path / 'mask_decoder.engine'))


@pytest.mark.skipif(HAVE_TRT, reason='TensorRT is installed here')
def test_without_tensorrt_loader_and_builder_say_how_to_install(sam2_tiny_models, tmp_path,
                                                                capsys):
    model_dir = tmp_path / 'm'
    shutil.copytree(sam2_tiny_models, model_dir,
                    ignore=shutil.ignore_patterns('image_encoder.onnx'))
    manifest = json.loads((model_dir / 'manifest.json').read_text())
    manifest['tensorrt'] = {'version': '10.3.0', 'gpu_name': 'Orin',
                            'compute_capability': '8.7'}
    (model_dir / 'manifest.json').write_text(json.dumps(manifest))
    (model_dir / 'mask_decoder.engine').write_bytes(b'not an engine')
    with pytest.raises(BackendError, match='TensorRT Python bindings are not installed'):
        TensorRTBackend(str(model_dir / 'mask_decoder.engine'))
    assert main(['--model-dir', str(model_dir), '--models', 'mask_decoder']) == 2
    captured = capsys.readouterr()
    assert 'trtexec' in captured.out
    assert 'TensorRT Python bindings are not installed' in captured.err


def test_builder_refuses_a_directory_without_manifest(tmp_path, capsys):
    assert main(['--model-dir', str(tmp_path)]) == 2
    assert 'samurai-export' in capsys.readouterr().err
