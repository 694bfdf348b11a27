"""Dataset readers on sequences generated in each layout, and every kind of bad input."""

import numpy as np
import pytest

from samurai_tracker.evaluation.datasets import (
    DatasetError, detect_layout, load_dataset, load_video_sequence, SkippedSequence)
from samurai_tracker.evaluation.synthetic_datasets import write_sequence
from samurai_tracker.synthetic import SyntheticClip

CLIP = SyntheticClip(num_frames=12, width=96, height=80, object_size=(20, 16),
                     occlusion=(4, 6), seed=5)


def _truth_xywh(clip):
    return np.stack([clip.truth(i).xywh() for i in range(clip.num_frames)])


def _visible(clip):
    return np.array([clip.visible(i) for i in range(clip.num_frames)])


def _only(listing):
    assert not listing.skipped, listing.skipped
    (spec,) = listing.sequences
    return spec


@pytest.mark.parametrize('layout, name, absence_known', [
    ('lasot', 'cube-1', True), ('otb', 'Cube', False), ('uav123', 'cube1', True)])
def test_each_layout_round_trips_truth_and_absence(tmp_path, layout, name, absence_known):
    write_sequence(CLIP, tmp_path, layout, name, ext='png')
    assert detect_layout(tmp_path) == layout
    spec = _only(load_dataset(tmp_path))
    assert spec.name == name and spec.layout == layout
    assert spec.frames.num_frames == CLIP.num_frames
    visible = _visible(CLIP)
    expected = visible.tolist() if absence_known else [True] * CLIP.num_frames
    assert spec.groundtruth.present.tolist() == expected
    np.testing.assert_array_equal(spec.groundtruth.xywh[visible], _truth_xywh(CLIP)[visible])
    frames = list(spec.frames)
    assert len(frames) == CLIP.num_frames
    np.testing.assert_array_equal(frames[3], CLIP.frame(3))   # PNG is lossless, RGB order


def test_lasot_accepts_root_class_or_sequence_folder(tmp_path):
    write_sequence(CLIP, tmp_path, 'lasot', 'cube-1')
    write_sequence(CLIP, tmp_path, 'lasot', 'ball-3')
    assert [s.name for s in load_dataset(tmp_path).sequences] == ['ball-3', 'cube-1']
    assert [s.name for s in load_dataset(tmp_path / 'cube').sequences] == ['cube-1']
    assert [s.name for s in load_dataset(tmp_path / 'cube' / 'cube-1').sequences] == ['cube-1']


def test_name_filter_reports_unknown_names(tmp_path):
    write_sequence(CLIP, tmp_path, 'lasot', 'cube-1')
    write_sequence(CLIP, tmp_path, 'lasot', 'cube-2')
    listing = load_dataset(tmp_path, names=['cube-2', 'cube-9'])
    assert [s.name for s in listing.sequences] == ['cube-2']
    assert listing.skipped == (SkippedSequence('cube-9', f'sequence cube-9 not found in '
                                                         f'{tmp_path}'),)


def test_bad_sequences_are_skipped_with_reasons_and_the_rest_loads(tmp_path):
    for name in ('good-1', 'nogt-1', 'short-1', 'broken-1', 'empty-1', 'hidden-1'):
        write_sequence(CLIP, tmp_path, 'lasot', name)
    (tmp_path / 'nogt' / 'nogt-1' / 'groundtruth.txt').unlink()
    (tmp_path / 'short' / 'short-1' / 'img' / '00000012.jpg').unlink()
    gt = tmp_path / 'broken' / 'broken-1' / 'groundtruth.txt'
    lines = gt.read_text().splitlines()
    lines[6] = '1,2,3'
    gt.write_text('\n'.join(lines))
    for image in (tmp_path / 'empty' / 'empty-1' / 'img').iterdir():
        image.unlink()
    occlusion = tmp_path / 'hidden' / 'hidden-1' / 'full_occlusion.txt'
    occlusion.write_text('1' + occlusion.read_text()[1:])
    listing = load_dataset(tmp_path)
    assert [s.name for s in listing.sequences] == ['good-1']
    reasons = {item.name: item.reason for item in listing.skipped}
    assert set(reasons) == {'nogt-1', 'short-1', 'broken-1', 'empty-1', 'hidden-1'}
    assert 'no groundtruth.txt' in reasons['nogt-1']
    assert '11 frames' in reasons['short-1'] and '12 ground-truth rows' in reasons['short-1']
    assert 'groundtruth.txt:7: expected 4 values' in reasons['broken-1']
    assert 'empty sequence' in reasons['empty-1']
    assert 'first ground-truth box' in reasons['hidden-1']


def test_truncate_and_max_frames(tmp_path):
    folder = write_sequence(CLIP, tmp_path, 'lasot', 'cube-1')
    gt = folder / 'groundtruth.txt'
    gt.write_text('\n'.join(gt.read_text().splitlines()[:10]))
    for flag in ('full_occlusion.txt', 'out_of_view.txt'):
        (folder / flag).write_text(','.join((folder / flag).read_text().strip().split(',')[:10]))
    assert load_dataset(tmp_path).skipped[0].name == 'cube-1'
    spec = _only(load_dataset(tmp_path, truncate=True))
    assert spec.frames.num_frames == 10 and len(list(spec.frames)) == 10
    assert 'first 10 frames' in spec.notes[0]
    quick = _only(load_dataset(tmp_path, truncate=True, max_frames=3))
    assert len(quick.groundtruth) == 3 and len(list(quick.frames)) == 3


def test_missing_flag_file_is_a_note_not_a_skip(tmp_path):
    folder = write_sequence(CLIP, tmp_path, 'lasot', 'cube-1')
    (folder / 'out_of_view.txt').unlink()
    spec = _only(load_dataset(tmp_path))
    assert any('out_of_view.txt missing' in note for note in spec.notes)


def test_otb_two_targets_and_missing_truth(tmp_path):
    folder = write_sequence(CLIP, tmp_path, 'otb', 'Jogging')
    text = (folder / 'groundtruth_rect.txt').read_text()
    (folder / 'groundtruth_rect.txt').unlink()
    (folder / 'groundtruth_rect.1.txt').write_text(text)
    (folder / 'groundtruth_rect.2.txt').write_text(text.replace('\t', ','))
    lone = write_sequence(CLIP, tmp_path, 'otb', 'Lonely')
    (lone / 'groundtruth_rect.txt').unlink()
    listing = load_dataset(tmp_path, layout='otb')
    assert [s.name for s in listing.sequences] == ['Jogging_1', 'Jogging_2']
    assert listing.skipped[0].name == 'Lonely'
    assert 'no groundtruth_rect.txt' in listing.skipped[0].reason


def test_uav_sub_sequence_from_config_and_unannotated_folder(tmp_path):
    long_clip = SyntheticClip(num_frames=20, width=96, height=80, object_size=(20, 16), seed=9)
    write_sequence(long_clip, tmp_path, 'uav123', 'bird1')
    anno = tmp_path / 'anno' / 'UAV123'
    lines = (anno / 'bird1.txt').read_text().splitlines()
    (anno / 'bird1.txt').unlink()
    (anno / 'bird1_2.txt').write_text('\n'.join(lines[7:15]))   # frames 8..15 (1-based)
    (anno / 'car9.txt').write_text('\n'.join(lines[:5]))        # no images anywhere
    (tmp_path / 'data_seq' / 'UAV123' / 'boat3').mkdir()        # images without anno
    listing = load_dataset(tmp_path)
    reasons = {item.name: item.reason for item in listing.skipped}
    assert 'configSeqs.m' in reasons['bird1_2'] and 'no image folder' in reasons['car9']
    assert 'no ground truth' in reasons['boat3']
    (tmp_path / 'configSeqs.m').write_text(
        "seqs={struct('name','bird1_2','path','D:\\UAV123\\data_seq\\UAV123\\bird1\\',"
        "'startFrame',8,'endFrame',15,'nz',6,'ext','jpg','init_rect',[0,0,0,0]),...\n}")
    listing = load_dataset(tmp_path)
    (spec,) = listing.sequences
    assert spec.name == 'bird1_2' and spec.frames.num_frames == 8
    assert [p.name for p in spec.frames.paths][:2] == ['000008.jpg', '000009.jpg']
    np.testing.assert_array_equal(spec.groundtruth.xywh[0], long_clip.truth(7).xywh())


def test_video_with_groundtruth(tmp_path):
    video = write_sequence(CLIP, tmp_path, 'video', 'clip')
    spec = load_video_sequence(video, tmp_path / 'clip.txt')
    assert not isinstance(spec, SkippedSequence), spec
    assert spec.layout == 'video' and spec.frames.fps == pytest.approx(CLIP.fps)
    frames = list(spec.frames)
    assert len(frames) == CLIP.num_frames and frames[0].shape == (80, 96, 3)
    # MJPG is lossy: compare loosely with the rendered frame
    assert np.abs(frames[2].astype(int) - CLIP.frame(2).astype(int)).mean() < 12
    assert spec.groundtruth.present.tolist() == _visible(CLIP).tolist()
    (tmp_path / 'short.txt').write_text('\n'.join(
        (tmp_path / 'clip.txt').read_text().splitlines()[:5]))
    skipped = load_video_sequence(video, tmp_path / 'short.txt')
    assert isinstance(skipped, SkippedSequence) and '5 ground-truth rows' in skipped.reason
    missing = load_video_sequence(tmp_path / 'none.avi', tmp_path / 'clip.txt')
    assert isinstance(missing, SkippedSequence) and 'not found' in missing.reason


def test_unknown_layout_and_missing_root(tmp_path):
    with pytest.raises(DatasetError, match='not found'):
        load_dataset(tmp_path / 'absent')
    (tmp_path / 'stuff').mkdir()
    with pytest.raises(DatasetError, match='no known layout'):
        load_dataset(tmp_path)
