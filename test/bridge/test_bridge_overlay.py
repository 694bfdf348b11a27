"""Overlay pixels and stamp matching."""

import numpy as np
import pytest

from samurai_tracker.bridge.overlay import DETECTION_COLOUR, draw_overlay, STATE_COLOURS
from samurai_tracker.bridge.stamp_match import StampMatcher
from samurai_tracker.records import Box, BoxSource, Detections, Track, TrackState


def _track(state=TrackState.TRACKED, box=(40, 30, 120, 90), track_id=7, confidence=0.8):
    return Track(state, BoxSource.FUSED, Box.from_xyxy(*box), confidence, track_id)


@pytest.mark.parametrize('state', [TrackState.TRACKED, TrackState.OCCLUDED, TrackState.LOST,
                                   TrackState.REACQUIRED])
def test_box_edges_carry_the_state_colour(state):
    image = np.full((120, 160, 3), 50, np.uint8)
    out = draw_overlay(image, _track(state), thickness=3)
    colour = np.array(STATE_COLOURS[state])
    # Left and right edges at mid-height, bottom edge at mid-width (the label sits on top).
    for y, x in [(60, 40), (60, 41), (60, 120), (90, 80)]:
        assert np.array_equal(out[y, x], colour), (y, x, out[y, x])
    # Inside and far outside the box the frame is untouched; the input is not modified.
    assert np.array_equal(out[60, 80], [50, 50, 50]) and np.array_equal(out[110, 5], [50] * 3)
    assert np.all(image == 50)


def test_states_have_distinct_colours_and_label_patch_is_drawn():
    assert len(set(STATE_COLOURS.values())) == len(STATE_COLOURS)
    image = np.zeros((240, 320, 3), np.uint8)
    out = draw_overlay(image, _track(box=(100, 100, 200, 180)))
    # The label patch above the box is filled with the state colour (text in black).
    patch = out[85:99, 100:160].reshape(-1, 3)
    assert (patch == STATE_COLOURS[TrackState.TRACKED]).all(axis=1).mean() > 0.3


def test_stale_track_is_thin_and_detections_and_mask_are_drawn():
    image = np.zeros((120, 160, 3), np.uint8)
    out = draw_overlay(image, _track(), stale=True, thickness=3)
    assert np.array_equal(out[60, 40], STATE_COLOURS[TrackState.TRACKED])
    assert np.array_equal(out[60, 41], [0, 0, 0])          # 1 px line only
    dets = Detections(np.array([[10.0, 10.0, 30.0, 30.0]]), np.array([0.9]), np.array([0]))
    mask = np.zeros((120, 160), np.uint8)
    mask[50:70, 60:100] = 1
    out = draw_overlay(np.full((120, 160, 3), 100, np.uint8), _track(), dets, mask)
    assert np.array_equal(out[20, 10], DETECTION_COLOUR)
    tinted = out[60, 80].astype(int)
    expected = (np.array([100] * 3) * 0.65 + np.array(STATE_COLOURS[TrackState.TRACKED]) * 0.35)
    assert np.abs(tinted - expected).max() <= 1
    with pytest.raises(ValueError, match='mask'):
        draw_overlay(image, _track(), mask=np.zeros((10, 10)))
    with pytest.raises(ValueError, match='uint8 RGB'):
        draw_overlay(np.zeros((10, 10), np.uint8), _track())


def test_idle_track_and_boxes_outside_the_frame_draw_nothing_harmful():
    image = np.zeros((50, 60, 3), np.uint8)
    idle = Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, 0)
    assert np.array_equal(draw_overlay(image, idle), image)
    out = draw_overlay(image, _track(box=(-50, -50, 500, 500)))  # clipped, no exception
    assert out.shape == image.shape


def test_matcher_pairs_by_stamp_not_by_arrival():
    matcher = StampMatcher(max_pending=10, max_wait_s=1.0)
    for k in range(4):
        assert matcher.add_frame(100 + k, f'f{k}', now_s=0.0) == []
    # The track of frame 2 arrives first: frames 0..2 leave in order, 2 with its track,
    # 0 and 1 without one of their own (nothing earlier is known, so no stale box either).
    released = matcher.add_track(102, _track(track_id=2))
    assert [m.frame for m in released] == ['f0', 'f1', 'f2']
    assert released[2].track.track_id == 2 and not released[2].stale
    assert released[0].track is None and released[1].track is None
    # A late track for an already released frame matches nothing but becomes the
    # newest knowledge for the stale box of the next frame released without a track.
    assert matcher.add_track(101, _track(track_id=1)) == []
    released = matcher.poll(now_s=2.0)
    assert [m.frame for m in released] == ['f3']
    assert released[0].stale and released[0].track.track_id == 1
    assert matcher.matched == 1 and matcher.released_without_track == 3


def test_matcher_overflow_early_annotations_and_tolerance():
    matcher = StampMatcher(max_pending=2, max_wait_s=10.0, tolerance_ns=5)
    dets = Detections(np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([0.5]), np.array([0]))
    matcher.add_detections(200, dets)               # before its frame
    matcher.add_track(200, _track(track_id=9))
    released = matcher.add_frame(200, 'a', 0.0)
    assert [m.frame for m in released] == ['a'] and released[0].detections is dets
    assert released[0].track.track_id == 9
    matcher.add_frame(300, 'b', 0.0)
    matcher.add_frame(400, 'c', 0.0)
    assert [m.frame for m in matcher.add_frame(500, 'd', 0.0)] == ['b']  # overflow
    released = matcher.add_track(403, _track(track_id=4))                 # within 5 ns
    assert [m.frame for m in released] == ['c'] and released[0].track.track_id == 4
    assert [m.frame for m in matcher.flush()] == ['d']
    # A frame older than what already left is released at once (order is kept).
    assert [m.frame for m in matcher.add_frame(250, 'old', 0.0)] == ['old']
    with pytest.raises(ValueError):
        StampMatcher(max_pending=0)
