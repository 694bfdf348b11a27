"""Stamp matching: pairing, order, late / duplicate / future messages, skipped images."""

import numpy as np

from samurai_fusion import Admission, FrameSync
from samurai_tracker.records import Box, BoxSource, Detections, Track, TrackState

MS = 1_000_000


def _track(tag=0):
    return Track(TrackState.TRACKED, BoxSource.FULL_INFERENCE,
                 Box.from_cxcywh(100 + tag, 100, 10, 10), 0.9, 1)


def _dets(n=1):
    return Detections(np.tile([0.0, 0, 10, 10], (n, 1)), np.full(n, 0.5), np.zeros(n, np.int64))


def test_pairs_by_stamp_whatever_the_arrival_order():
    sync = FrameSync()
    sync.add_detections(33 * MS, _dets(2))
    assert sync.pop_ready() == []  # waits for the tracker
    sync.add_track(0, _track(0))
    sync.add_detections(0, _dets(1))
    sync.add_track(33 * MS, _track(1))
    frames = sync.pop_ready()
    assert [f.stamp_ns for f in frames] == [0, 33 * MS]
    assert len(frames[0].detections) == 1 and len(frames[1].detections) == 2
    assert frames[1].track.box.cx == 101


def test_out_of_order_within_the_buffer_is_reordered_and_late_is_dropped():
    sync = FrameSync()
    for stamp in (66, 0, 33):
        sync.add_track(stamp * MS, _track(stamp))
        sync.add_detections(stamp * MS, _dets())
    assert [f.stamp_ns for f in sync.pop_ready()] == [0, 33 * MS, 66 * MS]
    assert sync.add_detections(33 * MS, _dets()) == Admission.LATE
    assert sync.add_track(66 * MS, _track()) == Admission.LATE
    assert sync.counters['late'] == 2


def test_duplicates_keep_the_first_message():
    sync = FrameSync()
    assert sync.add_track(10 * MS, _track(1)) == Admission.ACCEPTED
    assert sync.add_track(10 * MS, _track(2)) == Admission.DUPLICATE
    sync.add_detections(10 * MS, _dets())
    (frame,) = sync.pop_ready()
    assert frame.track.box.cx == 101 and sync.counters['duplicate'] == 1


def test_tracker_only_frames_wait_a_bounded_number_of_frames():
    sync = FrameSync(max_lag_frames=2)
    sync.add_detections(0, _dets())  # the detector is alive...
    sync.add_track(0, _track())
    sync.pop_ready()
    sync.add_track(33 * MS, _track())  # ...but skipped the next images
    sync.add_track(66 * MS, _track())
    assert sync.pop_ready() == []
    sync.add_track(99 * MS, _track())
    frames = sync.pop_ready()
    assert [f.stamp_ns for f in frames] == [33 * MS]
    assert frames[0].detections is None


def test_detections_for_a_newer_image_release_older_tracker_frames():
    sync = FrameSync(max_lag_frames=5)
    sync.add_track(0, _track())
    sync.add_detections(33 * MS, _dets())
    frames = sync.pop_ready()
    assert [(f.stamp_ns, f.detections) for f in frames] == [(0, None)]


def test_an_image_the_tracker_skipped_goes_out_with_detections_only():
    sync = FrameSync()
    sync.add_detections(0, _dets())
    sync.add_detections(33 * MS, _dets())
    sync.add_track(33 * MS, _track())
    frames = sync.pop_ready()
    assert [(f.stamp_ns, f.track is None) for f in frames] == [(0, True), (33 * MS, False)]


def test_without_a_detector_tracker_frames_wait_only_at_start_up():
    sync = FrameSync(max_lag_frames=3, stream_timeout_ns=500 * MS)
    released = []
    for k in range(30):
        sync.add_track(k * 33 * MS, _track())
        released.append([f.stamp_ns // (33 * MS) for f in sync.pop_ready()])
    assert released[:3] == [[], [], []] and released[3] == [0]
    # once the detector has been silent for 0.5 s of stamps, nothing waits any more
    assert all(r == [k] for k, r in enumerate(released) if k > 16)


def test_a_silent_detector_is_not_waited_for():
    sync = FrameSync(stream_timeout_ns=100 * MS, max_lag_frames=10)
    sync.add_detections(0, _dets())
    sync.add_track(0, _track())
    sync.pop_ready()
    sync.add_track(200 * MS, _track())
    assert [f.stamp_ns for f in sync.pop_ready()] == [200 * MS]


def test_far_future_and_far_past_stamps_are_counted_and_ignored_then_resync():
    sync = FrameSync(max_future_ns=1_000 * MS, max_past_ns=1_000 * MS, resync_after=3)
    sync.add_track(5_000 * MS, _track())
    sync.add_detections(5_000 * MS, _dets())
    sync.pop_ready()
    assert sync.add_track(3_600_000 * MS, _track()) == Admission.FUTURE
    assert sync.add_detections(1 * MS, _dets()) == Admission.LATE
    assert sync.add_track(-5, _track()) == Admission.INVALID
    assert sync.add_track(5_033 * MS, _track()) == Admission.ACCEPTED
    sync.add_detections(5_033 * MS, _dets())
    assert [f.stamp_ns for f in sync.pop_ready()] == [5_033 * MS]
    assert sync.counters['future'] == 1 and sync.counters['late'] == 1
    # a clock that really jumped (bag restarted): after 3 consistent messages, start over
    verdicts = [sync.add_track(k * 33 * MS, _track()) for k in range(1, 4)]
    assert verdicts[:2] == [Admission.LATE, Admission.LATE]
    assert verdicts[2] == Admission.RESYNC
    sync.add_detections(99 * MS, _dets())
    assert [f.stamp_ns for f in sync.pop_ready()] == [99 * MS]


def test_capacity_bounds_the_buffer():
    sync = FrameSync(capacity=4, max_lag_frames=100)
    sync.add_detections(0, _dets())
    for k in range(10):
        sync.add_track((k + 1) * MS, _track())
        sync.pop_ready()
        assert len(sync) <= 4
    assert sync.counters['overflow'] > 0
    rest = [f.stamp_ns for f in sync.flush()]
    assert rest == sorted(rest) and len(sync) == 0


def test_flush_can_keep_detections_waiting_for_a_slow_tracker():
    sync = FrameSync()
    sync.add_detections(0, _dets())
    sync.add_detections(33 * MS, _dets())
    assert sync.pop_ready() == []
    assert sync.flush(detections_only=False) == []  # the tracker is slow, not gone
    sync.add_track(0, _track())
    assert [f.stamp_ns for f in sync.pop_ready()] == [0]
    assert [(f.stamp_ns, f.track) for f in sync.flush()] == [(33 * MS, None)]
