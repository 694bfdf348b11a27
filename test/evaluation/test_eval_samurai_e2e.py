"""samurai-eval with the real SAMURAI runtime on random SAM 2.1 tiny models (ONNX Runtime).

Slow-ish (about a second per frame on 2 CPU cores), so the sequences are short and small.
Skipped with a reason while the runtime or the ``sam2_tiny_models`` fixture is missing.
"""

import json

import pytest

from samurai_tracker.evaluation.cli import main
from samurai_tracker.evaluation.synthetic_datasets import write_sequence
from samurai_tracker.records import TrackState
from samurai_tracker.synthetic import SyntheticClip

CLIP = SyntheticClip(num_frames=7, width=160, height=120, object_size=(32, 24),
                     occlusion=(3, 4), seed=4)


@pytest.fixture(scope='module')
def tiny_models(request):
    pytest.importorskip('samurai_tracker.tracker.runtime',
                        reason='the SAMURAI runtime has not landed yet')
    try:
        return request.getfixturevalue('sam2_tiny_models')
    except pytest.FixtureLookupError:
        pytest.skip('the sam2_tiny_models fixture (test/conftest.py) has not landed yet')


@pytest.mark.parametrize('view_mode, max_kf', [('crop', 2), ('full_frame', 1)])
def test_cli_runs_the_samurai_runtime(tiny_models, tmp_path, capsys, view_mode, max_kf):
    write_sequence(CLIP, tmp_path / 'data', 'lasot', 'cube-1')
    out = tmp_path / 'out'
    status = main([str(tmp_path / 'data'), '--model-dir', str(tiny_models),
                   '--backend', 'onnxruntime', '--view-mode', view_mode,
                   '--max-kf', str(max_kf), '-o', str(out), '--no-progress'])
    printed = capsys.readouterr()
    report = json.loads((out / 'report.json').read_text())
    assert report['skipped'] == [], report['skipped']
    assert status == 0, printed.err
    assert report['config']['tracker'] == 'samurai'
    assert report['config']['runtime_config']['view_mode'] == view_mode
    assert report['config']['runtime_config']['max_kf'] == max_kf
    (sequence,) = report['sequences']
    assert sequence['frames'] == CLIP.num_frames
    assert sum(sequence['state_counts'].values()) == CLIP.num_frames
    assert set(sequence['state_counts']) == {state.name for state in TrackState}
    assert 0.0 <= sequence['accuracy']['auc'] <= 1.0
    (event,) = sequence['honesty']['events']
    assert (event['first'], event['last']) == CLIP.occlusion
    stages = report['overall']['speed']['stages']
    assert stages['image_encoder']['frames'] == CLIP.num_frames - 1
    assert 0 < stages['image_encoder']['frames_run'] <= CLIP.num_frames - 1
    assert stages['total']['mean_ms'] > 0
    assert 'image_encoder' in printed.out and 'OVERALL' in printed.out
    assert (out / 'timelines' / 'cube-1.png').is_file()
