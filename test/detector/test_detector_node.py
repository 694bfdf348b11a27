"""The detector node in its own process over Fast DDS, on a generated model and clip."""

import numpy as np
import pytest
from ros_harness import NodeProcess, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from samurai_tracker.detector.random_model import build_band_detector_onnx
from samurai_tracker.records import Box
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image
from samurai_tracker.synthetic import SyntheticClip

NODE = 'samurai_tracker.detector.detector_node'
CLIP = SyntheticClip(num_frames=20, width=480, height=360, object_size=(64, 48), seed=5)
BASE_NS = 1_700_000_000_000_000_000


@pytest.fixture(scope='module')
def band_model(tmp_path_factory):
    return build_band_detector_onnx(str(tmp_path_factory.mktemp('det') / 'band.onnx'),
                                    num_classes=80, class_id=0, input_size=320)


def _frame(index):
    header = Header(frame_id='camera', stamp=ns_to_stamp(BASE_NS + CLIP.stamp_ns(index)))
    return rgb_to_image(CLIP.frame(index), header)


def _send_until(pub, msg, received, timeout=20.0):
    """Publish ``msg`` until an answer with its stamp arrives (best effort may drop it)."""
    def answered():
        return any(m.header.stamp == msg.header.stamp for m in received)

    def attempt():
        if not answered():
            pub.publish(msg)
        return answered()
    return wait_until(attempt, timeout, period=0.3)


def test_publishes_detections_with_the_image_stamp_and_survives_bad_images(band_model):
    params = {'model_path': band_model, 'input_size': 320, 'confidence_threshold': 0.5}
    with NodeProcess(NODE, name='detector', params=params) as proc, RosClient() as ros:
        received = ros.subscribe(Detection2DArray, '/detections', RESULT_QOS)
        pub = ros.publisher(Image, '/image', IMAGE_QOS)
        assert ros.wait_for_subscribers(pub, 1, 30), proc.output
        for index in (0, 7):
            msg = _frame(index)
            assert _send_until(pub, msg, received), proc.output
            out = next(m for m in received if m.header.stamp == msg.header.stamp)
            assert out.header.frame_id == 'camera' and len(out.detections) == 1
            det = out.detections[0]
            assert det.header.stamp == msg.header.stamp
            assert det.results[0].hypothesis.class_id == '0'
            assert det.results[0].hypothesis.score == pytest.approx(1.0)
            box = Box.from_cxcywh(det.bbox.center.position.x, det.bbox.center.position.y,
                                  det.bbox.size_x, det.bbox.size_y)
            assert box.iou(CLIP.truth(index)) > 0.85
        bad = _frame(3)
        bad.encoding = 'yuv422'
        truncated = _frame(4)
        truncated.data = truncated.data[:100]
        for _ in range(10):  # best effort, depth 1: send each a few times
            pub.publish(bad)
            wait_until(lambda: False, 0.1)
            pub.publish(truncated)
            wait_until(lambda: False, 0.1)
        assert wait_until(lambda: 'skipped image' in proc.output, 10), proc.output
        blank = rgb_to_image(np.full((360, 480, 3), 100, np.uint8),
                             Header(frame_id='camera', stamp=ns_to_stamp(BASE_NS + 1)))
        assert _send_until(pub, blank, received), proc.output
        empty = next(m for m in received if m.header.stamp == blank.header.stamp)
        assert len(empty.detections) == 0
        assert not any(m.header.stamp in (bad.header.stamp, truncated.header.stamp)
                       for m in received)
        assert proc.alive()
        assert proc.stop() == 0, proc.output
        stopped = next(line for line in proc.output.splitlines() if 'detector stopped' in line)
        bad_images = int(stopped.split('bad_images=')[1].split()[0])
        assert bad_images >= 2, proc.output  # both kinds seen, none published


def test_every_n_throttles_only_while_the_tracker_holds_the_target(band_model):
    params = {'model_path': band_model, 'input_size': 320, 'every_n': 3}
    with NodeProcess(NODE, name='detector', params=params) as proc, RosClient() as ros:
        received = ros.subscribe(Detection2DArray, '/detections', RESULT_QOS)
        pub = ros.publisher(Image, '/image', IMAGE_QOS)
        status_pub = ros.publisher(TrackStatus, '/track_status', RESULT_QOS)
        assert ros.wait_for_subscribers(pub, 1, 30), proc.output
        assert ros.wait_for_subscribers(status_pub, 1, 30), proc.output
        # no tracker heard yet: every image is processed
        assert _send_until(pub, _frame(0), received), proc.output
        status = TrackStatus(state=TrackStatus.STATE_TRACKED)
        status_pub.publish(status)
        wait_until(lambda: False, 1.0)
        answered = []
        for index in range(1, 7):
            msg = _frame(index)
            before = len(received)
            pub.publish(msg)
            answered.append(wait_until(lambda: len(received) > before, 2.0))
        assert answered == [False, False, True, False, False, True], proc.output
        status_pub.publish(TrackStatus(state=TrackStatus.STATE_LOST))
        wait_until(lambda: False, 1.0)
        assert _send_until(pub, _frame(7), received, timeout=3.0), proc.output
        assert _send_until(pub, _frame(8), received, timeout=3.0), proc.output


def test_missing_model_refuses_to_start_with_the_reason(tmp_path):
    with NodeProcess(NODE, params={'model_path': str(tmp_path / 'none.onnx')}) as proc:
        assert proc.wait_exit(30) == 2
        assert 'not found' in proc.output
