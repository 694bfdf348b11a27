"""samurai-export: bad input exits 2 with one line saying what to do; checkpoints work."""

import json
import os

import pytest

from samurai_tracker.engines.export_cli import main
from samurai_tracker.engines.sam2_model import file_sha256


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith('samurai-export: error:')
    return err


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A SAM 2.1 tiny checkpoint in the official layout ({'model': state_dict})."""
    import torch
    from samurai_tracker.engines.sam2_model import build_sam2
    model, _ = build_sam2('tiny', 512, seed=5)
    path = tmp_path_factory.mktemp('ckpt') / 'sam2.1_hiera_tiny.pt'
    torch.save({'model': model.state_dict()}, path)
    return str(path)


def test_missing_checkpoint(tmp_path, capsys):
    assert main(['--checkpoint', str(tmp_path / 'nope.pt'), '-o', str(tmp_path / 'o')]) == 2
    assert 'not found' in _one_line_error(capsys)


def test_corrupt_checkpoint(tmp_path, capsys):
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(os.urandom(4096))
    assert main(['--checkpoint', str(bad), '-o', str(tmp_path / 'o')]) == 2
    assert 'not a readable torch checkpoint' in _one_line_error(capsys)


def test_config_that_does_not_match_the_checkpoint(tiny_checkpoint, tmp_path, capsys):
    assert main(['--checkpoint', tiny_checkpoint, '--config', 'large',
                 '-o', str(tmp_path / 'o')]) == 2
    err = _one_line_error(capsys)
    assert 'tiny' in err and 'does not match' in err


def test_sam2_0_checkpoint_is_refused(tmp_path, capsys):
    import torch
    from samurai_tracker.engines.sam2_model import build_sam2
    model, _ = build_sam2('tiny', 512)
    state = {k: v for k, v in model.state_dict().items() if k != 'no_obj_embed_spatial'}
    path = tmp_path / 'sam2_hiera_tiny.pt'
    torch.save({'model': state}, path)
    assert main(['--checkpoint', str(path), '-o', str(tmp_path / 'o')]) == 2
    assert 'SAM 2.0' in _one_line_error(capsys)


def test_unwritable_output_and_bad_crop_and_size(tmp_path, capsys):
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    assert main(['--random-init', '--config', 'tiny', '-o', str(blocker / 'sub')]) == 2
    assert 'output directory' in _one_line_error(capsys)
    assert main(['--random-init', '--config', 'tiny', '--crop', '640', '-o',
                 str(tmp_path / 'o')]) == 2
    assert '512, 1024' in _one_line_error(capsys)
    assert main(['--random-init', '--config', 'huge', '-o', str(tmp_path / 'o')]) == 2
    assert 'base_plus' in _one_line_error(capsys)
    assert main(['--random-init', '-o', str(tmp_path / 'o')]) == 2
    assert '--config' in _one_line_error(capsys)


def test_checkpoint_export_records_sha_and_size(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / 'models'
    assert main(['--checkpoint', tiny_checkpoint, '-o', str(out), '--models', 'prompt_encoder',
                 'memory_encoder', '--verify', '--quiet']) == 0
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['model']['size'] == 'tiny'
    assert manifest['model']['untrained'] is False
    assert manifest['model']['checkpoint_sha256'] == file_sha256(tiny_checkpoint)
    assert set(manifest['models']) == {'prompt_encoder', 'memory_encoder'}
    parity = json.loads((out / 'parity.json').read_text())
    assert parity['passed'] and set(parity['models']) == {'prompt_encoder', 'memory_encoder'}
