"""The fusion node in its own process over Fast DDS, with a real reseed server here."""

import math
import threading
import time

from geometry_msgs.msg import Vector3Stamped
import numpy as np
import pytest
from ros_harness import NodeProcess, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus
from samurai_interfaces.srv import Reseed
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from samurai_tracker.records import Box, BoxSource, Detections, Track, TrackState
from samurai_tracker.ros import detections_to_msg, IMAGE_QOS, ns_to_stamp, RESULT_QOS, \
    rgb_to_image, track_to_status

NODE = 'samurai_fusion.fusion_node'
BASE_NS = 1_700_000_000_000_000_000
FRAME_NS = 33_333_333
PARAMS = {'lost_after_frames': 5, 'reacquire_frames': 3, 'image_width': 640,
          'image_height': 480, 'target_class': 0, 'reseed_initial_backoff_s': 0.2}


def _truth(index):
    return Box.from_cxcywh(200 + 2 * index, 240, 60, 80)


def _header(index):
    return Header(frame_id='camera', stamp=ns_to_stamp(BASE_NS + index * FRAME_NS))


def _status(index, state=TrackState.TRACKED, track_id=1):
    box = _truth(index) if state != TrackState.IDLE else None
    track = Track(state, BoxSource.FULL_INFERENCE, box, 0.9 if box else 0.0, track_id)
    return track_to_status(track, _header(index))


def _detections(index, visible=True):
    if not visible:
        return detections_to_msg(Detections(), _header(index))
    truth = _truth(index)
    dets = Detections(truth.xyxy[None] + 1.0, [0.8], [0])
    return detections_to_msg(dets, _header(index))


class ReseedServer:
    """A real Reseed service in the test process that records and accepts every call."""

    def __init__(self, ros, name='/tracker/reseed', track_id=2):
        self.calls = []
        self.track_id = track_id
        self._lock = threading.Lock()
        self.service = ros.node.create_service(Reseed, name, self._serve)

    def _serve(self, request, response):
        with self._lock:
            self.calls.append((time.monotonic(), request))
        response.accepted = True
        response.track_id = self.track_id
        response.message = 'ok'
        return response


def _play(status_pub, det_pub, frames, statuses=None, pause=0.02):
    for index, status, detections in frames:
        if detections is not None:
            det_pub.publish(detections)
        if status is not None:
            status_pub.publish(status)
        time.sleep(pause)


def _wait_stamp(statuses, index, timeout=10.0):
    stamp = ns_to_stamp(BASE_NS + index * FRAME_NS)
    return wait_until(lambda: any(s.header.stamp == stamp for s in statuses), timeout)


def test_loss_calls_reseed_exactly_once_then_reacquires():
    with NodeProcess(NODE, name='fusion', params=PARAMS) as proc, RosClient() as ros:
        server = ReseedServer(ros)
        fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
        tracks = ros.subscribe(Detection2D, '/fusion/track', RESULT_QOS)
        offsets = ros.subscribe(Vector3Stamped, '/fusion/target_offset', RESULT_QOS)
        status_pub = ros.publisher(TrackStatus, '/tracker/status', RESULT_QOS)
        det_pub = ros.publisher(Detection2DArray, '/detections', RESULT_QOS)
        assert ros.wait_for_subscribers(status_pub, 1, 30), proc.output
        assert ros.wait_for_subscribers(det_pub, 1, 30), proc.output
        # 0..19 tracked and detected; 20..49 the tracker says OCCLUDED, nothing detected
        frames = [(i, _status(i), _detections(i)) for i in range(20)]
        frames += [(i, _status(i, TrackState.OCCLUDED), _detections(i, False))
                   for i in range(20, 50)]
        _play(status_pub, det_pub, frames)
        assert _wait_stamp(fused, 48), proc.output
        assert wait_until(lambda: len(server.calls) >= 1, 10), proc.output
        time.sleep(1.5)  # more time, more lost frames: still one call
        assert len(server.calls) == 1, proc.output
        request = server.calls[0][1]
        assert not request.use_box and request.class_id == '0'
        assert 'lost' in request.reason
        by_stamp = {(s.header.stamp.sec, s.header.stamp.nanosec): s for s in fused}
        states = [by_stamp[(h.stamp.sec, h.stamp.nanosec)].state
                  for h in (_header(i) for i in range(49)) if
                  (h.stamp.sec, h.stamp.nanosec) in by_stamp]
        assert states[:20] == [TrackStatus.STATE_TRACKED] * 20
        assert states[20:24] == [TrackStatus.STATE_OCCLUDED] * 4
        assert set(states[24:]) == {TrackStatus.STATE_LOST}
        assert all(s.source == TrackStatus.SOURCE_FUSED and 0.0 <= s.confidence <= 1.0
                   for s in fused if s.state != TrackStatus.STATE_IDLE)
        assert all(s.confidence == 0.0 for s in fused if s.state == TrackStatus.STATE_LOST)
        # offsets: only while not LOST, x from the box centre, z the area fraction
        first = next(o for o in offsets if o.header.stamp == _header(0).stamp)
        assert first.vector.x == pytest.approx((200 - 320) / 320, abs=0.02)
        assert first.vector.y == pytest.approx(0.0, abs=0.02)
        assert first.vector.z == pytest.approx(60 * 80 / (640 * 480), rel=0.05)
        lost_stamps = {(s.header.stamp.sec, s.header.stamp.nanosec) for s in fused
                       if s.state == TrackStatus.STATE_LOST}
        assert not any((o.header.stamp.sec, o.header.stamp.nanosec) in lost_stamps
                       for o in offsets)
        assert any(t.id == '1' and t.results[0].hypothesis.class_id == '0' for t in tracks)
        # the tracker comes back under the new track id: REACQUIRED x3, then TRACKED
        frames = [(i, _status(i, track_id=2), _detections(i)) for i in range(50, 60)]
        _play(status_pub, det_pub, frames)
        assert _wait_stamp(fused, 58), proc.output
        later = [s.state for s in fused if s.header.stamp.sec * 10**9 + s.header.stamp.nanosec
                 >= BASE_NS + 50 * FRAME_NS]
        assert later[:3] == [TrackStatus.STATE_REACQUIRED] * 3
        assert set(later[3:]) == {TrackStatus.STATE_TRACKED}
        assert len(server.calls) == 1
        assert proc.stop() == 0, proc.output


def test_bad_input_is_counted_and_ignored_and_a_missing_service_is_backed_off():
    with NodeProcess(NODE, name='fusion', params=PARAMS) as proc, RosClient() as ros:
        fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
        status_pub = ros.publisher(TrackStatus, '/tracker/status', RESULT_QOS)
        det_pub = ros.publisher(Detection2DArray, '/detections', RESULT_QOS)
        assert ros.wait_for_subscribers(status_pub, 1, 30), proc.output
        assert ros.wait_for_subscribers(det_pub, 1, 30), proc.output
        frames = [(i, _status(i), _detections(i)) for i in range(10)]
        _play(status_pub, det_pub, frames)
        # junk: NaN box, negative size, unknown (non-numeric) class, empty array
        junk = _detections(10)
        bad = [Detection2D() for _ in range(3)]
        bad[0].bbox.center.position.x = math.nan
        bad[0].bbox.size_x = bad[0].bbox.size_y = 10.0
        bad[1].bbox.size_x, bad[1].bbox.size_y = -5.0, 10.0
        bad[2].bbox.size_x = bad[2].bbox.size_y = 10.0
        for det, class_id in zip(bad, ('0', '0', 'zebra?')):
            hypothesis = ObjectHypothesisWithPose()
            hypothesis.hypothesis.class_id = class_id
            hypothesis.hypothesis.score = 0.9
            det.results = [hypothesis]
        junk.detections = list(junk.detections) + bad
        det_pub.publish(junk)
        det_pub.publish(detections_to_msg(Detections(), _header(11)))
        future = _status(12)
        future.header.stamp = ns_to_stamp(BASE_NS + 3600 * 10**9)
        status_pub.publish(future)
        past = _status(12)
        past.header.stamp = ns_to_stamp(BASE_NS - 3600 * 10**9)
        status_pub.publish(past)
        nan_status = _status(12)
        nan_status.bbox.size_x = math.nan
        status_pub.publish(nan_status)
        status_pub.publish(_status(10))
        status_pub.publish(_status(10))  # duplicate
        # then lose the target with no reseed server around
        frames = [(i, _status(i, TrackState.LOST), _detections(i, False))
                  for i in range(11, 30)]
        _play(status_pub, det_pub, frames)
        assert _wait_stamp(fused, 28), proc.output
        assert fused[-1].state == TrackStatus.STATE_LOST
        time.sleep(2.0)  # backing off while the service is missing
        server = ReseedServer(ros)
        assert wait_until(lambda: len(server.calls) >= 1, 15), proc.output
        time.sleep(1.0)
        assert len(server.calls) == 1
        assert proc.alive()
        assert proc.stop() == 0, proc.output
        counts = _final_counters(proc.output)
        assert counts['bad_detections'] == 3 and counts['bad_status'] == 1, proc.output
        # the far-past status is late; the repeated status 10 and detections 11 are late or
        # duplicates depending on which topic's message arrived first
        assert counts['sync_future'] == 1, proc.output
        assert counts.get('sync_late', 0) + counts.get('sync_duplicate', 0) == 3, proc.output
        assert counts['reseed_unavailable'] >= 2 and counts['reseed_calls'] == 1, proc.output


def _final_counters(log):
    line = next(line for line in log.splitlines() if 'fusion stopped:' in line)
    pairs = line.split('fusion stopped:')[1].split(',')
    return {k.strip(): int(v) for k, v in (pair.split('=') for pair in pairs)}


def test_image_size_is_learnt_from_one_image_for_the_offset():
    params = {k: v for k, v in PARAMS.items() if k not in ('image_width', 'image_height')}
    with NodeProcess(NODE, name='fusion', params=params) as proc, RosClient() as ros:
        offsets = ros.subscribe(Vector3Stamped, '/fusion/target_offset', RESULT_QOS)
        image_pub = ros.publisher(Image, '/image', IMAGE_QOS)
        status_pub = ros.publisher(TrackStatus, '/tracker/status', RESULT_QOS)
        det_pub = ros.publisher(Detection2DArray, '/detections', RESULT_QOS)
        assert ros.wait_for_subscribers(image_pub, 1, 30), proc.output
        assert ros.wait_for_subscribers(status_pub, 1, 30), proc.output
        image = rgb_to_image(np.zeros((400, 800, 3), np.uint8), _header(0))
        assert wait_until(lambda: image_pub.publish(image) or 'image size 800x400' in
                          proc.output, 10, period=0.3), proc.output
        assert wait_until(lambda: image_pub.get_subscription_count() == 0, 10)
        _play(status_pub, det_pub, [(i, _status(i), _detections(i)) for i in range(3)])
        assert wait_until(lambda: len(offsets) >= 3, 10), proc.output
        # centre x = 200 + 2 i in an 800-wide image; y = 240 in a 400-high one
        assert offsets[0].vector.x == pytest.approx((200 - 400) / 400, abs=0.01)
        assert offsets[0].vector.y == pytest.approx((240 - 200) / 200, abs=0.01)
        assert proc.stop() == 0, proc.output
