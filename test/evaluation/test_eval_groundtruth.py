"""Ground-truth text formats: separators, NaN rows, flags, and clear errors on bad lines."""

import numpy as np
import pytest

from samurai_tracker.evaluation.groundtruth import (
    GroundTruth, GroundTruthError, parse_boxes, parse_flags, read_boxes, read_flags)


def test_every_separator_reads_the_same_boxes():
    expected = np.array([[1, 2, 30, 40], [5.5, 6, 7, 8]], dtype=np.float64)
    for text in ('1,2,30,40\n5.5,6,7,8\n',          # LaSOT / UAV123
                 '1\t2\t30\t40\n5.5\t6\t7\t8',       # OTB, tabs
                 '1 2 30 40\r\n5.5  6 7 8\r\n',      # OTB, spaces, CRLF
                 '1, 2,\t30 ,40\n\n5.5;6;7;8\n'):    # mixed, blank line
        np.testing.assert_array_equal(parse_boxes(text), expected)


def test_nan_rows_are_kept_and_mark_absent_frames():
    boxes = parse_boxes('1,2,3,4\nNaN,NaN,NaN,NaN\nnan,nan,nan,nan\n0,0,0,0\n')
    assert boxes.shape == (4, 4)
    assert np.isnan(boxes[1]).all() and np.isnan(boxes[2]).all()
    truth = GroundTruth.from_boxes(boxes)
    assert truth.present.tolist() == [True, False, False, False]


@pytest.mark.parametrize('text, line, fragment', [
    ('1,2,3,4\n1,2,3\n', 2, 'expected 4 values'),
    ('1,2,3,4\n1,2,3,4,5\n', 2, 'expected 4 values'),
    ('1,2,3,4\n\n1,2,x,4\n', 3, 'must be numbers'),
])
def test_malformed_lines_name_file_and_line(text, line, fragment):
    with pytest.raises(GroundTruthError) as error:
        parse_boxes(text, 'seq/groundtruth.txt')
    assert f'seq/groundtruth.txt:{line}:' in str(error.value)
    assert fragment in str(error.value)


def test_empty_ground_truth_is_an_error():
    with pytest.raises(GroundTruthError, match='empty ground truth'):
        parse_boxes('\n  \n', 'g.txt')


def test_flags_parse_and_validate():
    assert parse_flags('0,1,1,0\n').tolist() == [0, 1, 1, 0]
    assert parse_flags('0\n1\n0').tolist() == [0, 1, 0]
    with pytest.raises(GroundTruthError, match='must be 0 or 1'):
        parse_flags('0,2,0', 'full_occlusion.txt')
    with pytest.raises(GroundTruthError, match='3 flags but the ground truth has 4'):
        parse_flags('0,0,0', 'out_of_view.txt', expected=4)


def test_flags_and_invalid_boxes_combine_into_present(tmp_path):
    (tmp_path / 'gt.txt').write_text('0,0,10,10\n1,1,10,10\n2,2,0,10\n3,3,10,10\n')
    (tmp_path / 'occ.txt').write_text('0,1,0,0')
    (tmp_path / 'oov.txt').write_text('0,0,0,1')
    boxes = read_boxes(tmp_path / 'gt.txt')
    truth = GroundTruth.from_boxes(boxes, [read_flags(tmp_path / 'occ.txt', 4),
                                           read_flags(tmp_path / 'oov.txt', 4)])
    assert truth.present.tolist() == [True, False, False, False]
    np.testing.assert_array_equal(truth.xyxy[0], [0, 0, 10, 10])
    np.testing.assert_array_equal(truth.xyxy[3], [3, 3, 13, 13])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(GroundTruthError, match='file not found'):
        read_boxes(tmp_path / 'nope.txt')


def test_ground_truth_record_validates():
    with pytest.raises(ValueError, match=r'shape \(N, 4\)'):
        GroundTruth(np.zeros((3, 5)), np.ones(3, bool))
    with pytest.raises(ValueError, match='at least one frame'):
        GroundTruth(np.zeros((0, 4)), np.ones(0, bool))
    with pytest.raises(ValueError, match='not finite with positive size'):
        GroundTruth(np.array([[0, 0, 0, 5.0]]), np.array([True]))
    truth = GroundTruth(np.array([[0, 0, 4, 5.0], [1, 1, 2, 2]]), np.array([True, True]))
    with pytest.raises(ValueError):
        truth.xywh[0, 0] = 1.0
    assert len(truth.truncated(1)) == 1
