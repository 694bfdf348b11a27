"""The tracker node in its own process, over Fast DDS: discovery, reseed service, status."""

import math

import numpy as np
import pytest
from ros_harness import NodeProcess, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus
from samurai_interfaces.srv import Reseed
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2D

from samurai_tracker.records import TrackState
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, rgb_to_image, RESULT_QOS
from samurai_tracker.synthetic import SyntheticClip

NODE = 'samurai_tracker.tracker.tracker_node'
CLIP = SyntheticClip(num_frames=12, width=320, height=240, object_size=(64, 48), seed=3)


def _frame_msg(index: int) -> Image:
    header = Header(frame_id='camera', stamp=ns_to_stamp(1_000_000_000 + CLIP.stamp_ns(index)))
    return rgb_to_image(CLIP.frame(index), header)


def _reseed(cx=0.0, cy=0.0, w=0.0, h=0.0, use_box=True, reason='test') -> Reseed.Request:
    request = Reseed.Request()
    request.use_box = use_box
    request.box.center.position.x = cx
    request.box.center.position.y = cy
    request.box.size_x = w
    request.box.size_y = h
    request.reason = reason
    return request


def _publish_until(ros, pub, msg, statuses, count, timeout=30.0):
    """Publish ``msg`` repeatedly until ``count`` statuses with its stamp arrived."""
    def arrived():
        return sum(s.header.stamp == msg.header.stamp for s in statuses) >= count

    def step():
        if not arrived():
            pub.publish(msg)
        return arrived()
    return wait_until(step, timeout, period=0.5)


def test_node_without_models_reports_and_refuses_but_keeps_running():
    with NodeProcess(NODE, name='tracker') as proc, RosClient() as ros:
        statuses = ros.subscribe(TrackStatus, '/tracker/status', RESULT_QOS)
        pub = ros.publisher(Image, '/image', IMAGE_QOS)
        client = ros.node.create_client(Reseed, '/tracker/reseed')
        assert ros.wait_for_service(client, 30), proc.output
        assert wait_until(lambda: '/tracker' in ros.node_names(), 20), ros.node_names()
        # A bad request is refused for its own reason, before the missing models.
        response = ros.call(client, _reseed(float('nan'), 10.0, 20.0, 20.0))
        assert not response.accepted
        assert 'non-finite' in response.message
        # A good request is refused because there are no models, and says how to fix it.
        response = ros.call(client, _reseed(100.0, 100.0, 40.0, 40.0))
        assert not response.accepted
        assert 'model_dir' in response.message
        # Images still get an honest status.
        msg = _frame_msg(0)
        assert _publish_until(ros, pub, msg, statuses, 1), proc.output
        status = next(s for s in statuses if s.header.stamp == msg.header.stamp)
        assert status.state == TrackStatus.STATE_IDLE
        assert 'model_dir' in status.message
        assert proc.alive()
        assert proc.stop() == 0, proc.output


def test_reseed_service_validates_requests_and_tracking_publishes_status(sam2_tiny_models):
    params = {'model_dir': str(sam2_tiny_models), 'target_class': 0}
    with NodeProcess(NODE, name='tracker', params=params) as proc, RosClient() as ros:
        statuses = ros.subscribe(TrackStatus, '/tracker/status', RESULT_QOS)
        tracks = ros.subscribe(Detection2D, '/tracker/track', RESULT_QOS)
        pub = ros.publisher(Image, '/image', IMAGE_QOS)
        client = ros.node.create_client(Reseed, '/tracker/reseed')
        assert ros.wait_for_service(client, 60), proc.output
        assert ros.wait_for_subscribers(pub, 1, 30)

        # Without a seed the node publishes IDLE for each image (and learns the image size).
        first = _frame_msg(0)
        assert _publish_until(ros, pub, first, statuses, 1, timeout=60), proc.output
        assert statuses[-1].state == TrackStatus.STATE_IDLE

        bad = {
            'non-finite': _reseed(math.nan, 50.0, 20.0, 20.0),
            'positive': _reseed(50.0, 50.0, -5.0, 20.0),
            'outside': _reseed(5000.0, 5000.0, 20.0, 20.0),
        }
        for reason, request in bad.items():
            response = ros.call(client, request)
            assert not response.accepted, reason
            assert reason in response.message, response.message
        assert proc.alive()

        truth = CLIP.truth(1)
        response = ros.call(client, _reseed(truth.cx, truth.cy, truth.width, truth.height))
        assert response.accepted, response.message
        assert response.track_id >= 1
        assert response.box.size_x == pytest.approx(truth.width)

        for index in (1, 2, 3):
            msg = _frame_msg(index)
            assert _publish_until(ros, pub, msg, statuses, 1, timeout=60), proc.output
            status = next(s for s in statuses if s.header.stamp == msg.header.stamp)
            assert status.state in (TrackStatus.STATE_REACQUIRED, TrackStatus.STATE_TRACKED)
            assert status.track_id == response.track_id
            assert 0.0 <= status.confidence <= 1.0
            centre = np.array([status.bbox.center.position.x, status.bbox.center.position.y])
            assert np.all(np.isfinite(centre))
        assert wait_until(lambda: any(t.header.stamp == msg.header.stamp for t in tracks), 10)

        # Bad images are reported on the status topic and do not stop tracking.
        broken = _frame_msg(4)
        broken.encoding = 'yuv422'
        assert _publish_until(ros, pub, broken, statuses, 1), proc.output
        status = next(s for s in statuses if s.header.stamp == broken.header.stamp)
        assert 'unsupported encoding' in status.message
        tiny = rgb_to_image(np.zeros((1, 1, 3), np.uint8), Header(stamp=ns_to_stamp(7)))
        assert _publish_until(ros, pub, tiny, statuses, 1), proc.output
        status = next(s for s in statuses if s.header.stamp == tiny.header.stamp)
        assert 'too small' in status.message
        good = _frame_msg(5)
        assert _publish_until(ros, pub, good, statuses, 1, timeout=60), proc.output
        status = next(s for s in statuses if s.header.stamp == good.header.stamp)
        assert status.state != TrackState.IDLE and status.message == ''
        assert proc.stop() == 0, proc.output
