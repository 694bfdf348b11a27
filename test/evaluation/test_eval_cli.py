"""samurai-eval end to end on generated datasets with the template baseline."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from samurai_tracker.evaluation.cli import main, parse_overrides
from samurai_tracker.evaluation.synthetic_datasets import write_sequence
from samurai_tracker.synthetic import SyntheticClip

OCCLUDED = SyntheticClip(num_frames=24, width=160, height=120, object_size=(32, 24),
                         occlusion=(8, 12), seed=1)
PLAIN = SyntheticClip(num_frames=16, width=160, height=120, object_size=(32, 24), seed=2)
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _read_csv(path):
    with open(path, newline='') as handle:
        return list(csv.DictReader(handle))


def _auc_from_rows(rows, absent_fail):
    """Success AUC recomputed with plain loops from the per-frame CSV (independent path)."""
    ious = []
    for row in rows:
        if row['present'] == '1':
            ious.append(1.0 if row['frame'] == '0' else float(row['iou']))
    denominator = len(rows) if absent_fail else len(ious)
    thresholds = [i / 20 for i in range(21)]
    return sum(sum(1 for v in ious if v > t) / denominator for t in thresholds) / 21


@pytest.fixture(scope='module')
def lasot_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('lasot')
    write_sequence(OCCLUDED, root, 'lasot', 'cube-1')
    write_sequence(PLAIN, root, 'lasot', 'cube-2')
    broken = write_sequence(PLAIN, root, 'lasot', 'broken-1')
    (broken / 'groundtruth.txt').write_text('1,2,3\n')
    corrupt = write_sequence(PLAIN, root, 'lasot', 'corrupt-1')
    (corrupt / 'img' / '00000005.jpg').write_bytes(b'garbage')
    out = tmp_path_factory.mktemp('out')
    status = main([str(root), '--tracker', 'template', '--output', str(out), '--no-progress'])
    return status, out


def test_cli_writes_report_csv_and_plots(lasot_run, capsys):
    status, out = lasot_run
    assert status == 0
    report = json.loads((out / 'report.json').read_text())
    assert [s['name'] for s in report['sequences']] == ['cube-1', 'cube-2']
    skipped = {item['name']: item['reason'] for item in report['skipped']}
    assert set(skipped) == {'broken-1', 'corrupt-1'}
    assert 'expected 4 values' in skipped['broken-1']
    assert 'failed while running' in skipped['corrupt-1'] and '00000005.jpg' in skipped[
        'corrupt-1']
    assert report['overall']['sequences'] == 2 and report['overall']['skipped'] == 2
    for name in ('success.png', 'precision.png', 'timelines/cube-1.png',
                 'timelines/cube-2.png'):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    summary = _read_csv(out / 'summary.csv')
    assert [row['sequence'] for row in summary] == ['cube-1', 'cube-2', 'OVERALL']


def test_report_figures_match_an_independent_recount(lasot_run):
    _, out = lasot_run
    report = json.loads((out / 'report.json').read_text())
    aucs = []
    for sequence in report['sequences']:
        rows = _read_csv(out / sequence['csv'])
        assert len(rows) == sequence['frames']
        auc = _auc_from_rows(rows, absent_fail=True)         # LaSOT convention
        assert sequence['accuracy']['auc'] == pytest.approx(auc)
        aucs.append(auc)
        claimed = sum(1 for row in rows[1:] if row['state'] in ('TRACKED', 'REACQUIRED'))
        assert sequence['honesty']['claimed_frames'] == claimed
        states = [row['state'] for row in rows]
        assert sum(sequence['state_counts'].values()) == len(states)
        assert sequence['state_counts']['LOST'] == states.count('LOST')
    assert report['overall']['accuracy']['auc'] == pytest.approx(np.mean(aucs))


def test_occlusion_is_found_where_the_clip_hides_the_object(lasot_run):
    _, out = lasot_run
    report = json.loads((out / 'report.json').read_text())
    occluded = report['sequences'][0]
    (event,) = occluded['honesty']['events']
    assert (event['first'], event['last']) == OCCLUDED.occlusion
    assert occluded['present_frames'] == OCCLUDED.num_frames - 5
    assert report['sequences'][1]['honesty']['events'] == []
    rows = _read_csv(out / 'sequences' / 'cube-1.csv')
    first_lost = next(int(r['frame']) for r in rows if r['state'] == 'LOST')
    assert event['frames_to_lost'] == first_lost - OCCLUDED.occlusion[0]
    speed = report['overall']['speed']
    assert speed['track_call']['frames'] == (OCCLUDED.num_frames - 1) + (PLAIN.num_frames - 1)
    assert speed['stages']['match']['fps'] > 0


def test_console_output_lists_skips_and_the_table(tmp_path, capsys):
    root = tmp_path / 'data'
    write_sequence(PLAIN, root, 'otb', 'Plain')
    empty = write_sequence(PLAIN, root, 'otb', 'Empty')
    for image in (empty / 'img').iterdir():
        image.unlink()
    status = main([str(root), '--tracker', 'template', '-o', str(tmp_path / 'o'),
                   '--no-progress', '--no-plots'])
    captured = capsys.readouterr()
    assert status == 0
    assert 'SKIP Empty:' in captured.err and 'empty sequence' in captured.err
    assert 'OVERALL' in captured.out and 'AUC' in captured.out
    assert 'skipped 1: Empty' in captured.out
    assert not (tmp_path / 'o' / 'success.png').exists()


def test_nothing_evaluable_exits_1_and_still_reports(tmp_path):
    root = tmp_path / 'data'
    folder = write_sequence(PLAIN, root, 'lasot', 'cube-1')
    (folder / 'img' / '00000001.jpg').unlink()
    status = main([str(root), '--tracker', 'template', '-o', str(tmp_path / 'o'),
                   '--no-progress'])
    assert status == 1
    report = json.loads((tmp_path / 'o' / 'report.json').read_text())
    assert report['sequences'] == [] and report['skipped'][0]['name'] == 'cube-1'
    assert report['overall']['accuracy']['auc'] is None


def test_bad_arguments_and_tracker_errors(tmp_path, capsys):
    write_sequence(PLAIN, tmp_path / 'data', 'lasot', 'cube-1')
    with pytest.raises(SystemExit) as error:
        main([])
    assert error.value.code == 2
    status = main([str(tmp_path / 'data'), '-o', str(tmp_path / 'o'), '--no-progress'])
    assert status == 2
    assert 'needs --model-dir' in capsys.readouterr().err
    status = main([str(tmp_path / 'nowhere'), '--tracker', 'template', '-o', str(tmp_path)])
    assert status == 2 and 'not found' in capsys.readouterr().err


def test_parse_overrides():
    assert parse_overrides(['max_kf=2', 'view_mode=crop', 'min_confidence=0.4',
                            'search_full_frame_when_lost=false']) == {
        'max_kf': 2, 'view_mode': 'crop', 'min_confidence': 0.4,
        'search_full_frame_when_lost': False}
    with pytest.raises(ValueError, match='KEY=VALUE'):
        parse_overrides(['max_kf'])


def test_video_input_through_the_module_entry_point(tmp_path):
    video = write_sequence(OCCLUDED, tmp_path, 'video', 'clip')
    out = tmp_path / 'out'
    env = dict(os.environ, MPLBACKEND='Agg')
    completed = subprocess.run(
        [sys.executable, '-m', 'samurai_tracker.evaluation.cli', '--video', str(video),
         '--groundtruth', str(tmp_path / 'clip.txt'), '--tracker', 'template',
         '-o', str(out), '--max-frames', '20'],
        capture_output=True, text=True, timeout=120, env=env)
    assert completed.returncode == 0, completed.stderr
    assert 'clip' in completed.stdout and 'report:' in completed.stdout
    report = json.loads((out / 'report.json').read_text())
    (sequence,) = report['sequences']
    assert sequence['frames'] == 20 and sequence['layout'] == 'video'
    assert sequence['absent_frames_policy'] == 'exclude'
    assert sequence['present_frames'] == 15     # frames 8..12 hidden (NaN rows)
