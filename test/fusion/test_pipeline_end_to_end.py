"""Detector, tracker and fusion nodes in three processes on a generated clip.

The detector runs the band-finding test model (it really sees the clip's object) plus a
constant, more confident decoy; the tracker runs a random SAM 2.1 tiny export (biased to
"object present"); the fusion node fuses both. Checked end to end: which box the track
is seeded from under each seed policy and under a forced ``seed_roi``, that the fused
status carries the tracker's track id and the image stamps, and that the fusion node's
reseed reaches the real tracker service.
"""

import pytest
from ros_harness import NodeProcess, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from samurai_tracker.detector.random_model import build_band_detector_onnx
from samurai_tracker.records import Box
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image
from samurai_tracker.synthetic import SyntheticClip

CLIP = SyntheticClip(num_frames=40, width=640, height=480, object_size=(96, 72), seed=2)
BASE_NS = 1_800_000_000_000_000_000
# decoy (input pixels of the 320 input): centre (60, 100) -> image box [90, 100, 150, 140]
DECOY = (60.0, 100.0, 30.0, 20.0, 0.9)
DECOY_BOX = Box.from_xyxy(90, 100, 150, 140)


@pytest.fixture(scope='module')
def decoy_model(tmp_path_factory):
    return build_band_detector_onnx(str(tmp_path_factory.mktemp('e2e') / 'band.onnx'),
                                    num_classes=80, class_id=0, input_size=320,
                                    object_score=0.6, decoy=DECOY)


def _frame(index):
    header = Header(frame_id='camera', stamp=ns_to_stamp(BASE_NS + CLIP.stamp_ns(index)))
    return rgb_to_image(CLIP.frame(index), header)


def _run_pipeline(models, detector_model, tracker_params, frames=6):
    """Start the three nodes, play ``frames`` images, return (tracker, fused) statuses."""
    # a CPU tracker needs seconds for its first frames: let fusion wait for it
    fusion_params = {'image_width': CLIP.width, 'image_height': CLIP.height,
                     'target_class': 0, 'tracker_timeout_s': 120.0}
    tracker_params = {'model_dir': str(models), 'target_class': 0, **tracker_params}
    detector_params = {'model_path': detector_model, 'input_size': 320}
    with NodeProcess('samurai_tracker.detector.detector_node', name='detector',
                     params=detector_params,
                     extra_args=['-r', 'track_status:=tracker/status']) as detector, \
            NodeProcess('samurai_tracker.tracker.tracker_node', name='tracker',
                        params=tracker_params) as tracker, \
            NodeProcess('samurai_fusion.fusion_node', name='fusion',
                        params=fusion_params) as fusion, RosClient() as ros:
        raw = ros.subscribe(TrackStatus, '/tracker/status', RESULT_QOS)
        fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
        pub = ros.publisher(Image, '/image', IMAGE_QOS)
        logs = lambda: detector.output + tracker.output + fusion.output  # noqa: E731
        assert ros.wait_for_subscribers(pub, 2, 60), logs()
        assert wait_until(lambda: 'fusion ready' in fusion.output, 30), logs()
        for index in range(frames):
            msg = _frame(index)

            def seen():
                return any(s.header.stamp == msg.header.stamp for s in raw)

            def attempt():
                if not seen():
                    pub.publish(msg)
                return seen()
            assert wait_until(attempt, 60, period=1.0), logs()
        assert wait_until(lambda: len(fused) >= frames - 1, 20), logs()
        for proc in (detector, tracker, fusion):
            assert proc.stop() == 0, logs()
        return list(raw), list(fused), logs()


def _centre_error(bbox, target):
    """Pixels between a status box centre and a target box centre.

    The tracker's first box is the mask of a random model around the seed, so its size
    means little; its centre is the seed's.
    """
    return float(((bbox.center.position.x - target.cx) ** 2 +
                  (bbox.center.position.y - target.cy) ** 2) ** 0.5)


def _first_tracked(statuses):
    locked = (TrackStatus.STATE_TRACKED, TrackStatus.STATE_REACQUIRED)
    return next(s for s in statuses if s.state in locked and s.bbox.size_x > 0)


@pytest.mark.parametrize('policy,expected', [('most_confident', 'decoy'),
                                             ('nearest_center', 'object')])
def test_seed_policy_picks_the_detection_end_to_end(sam2_tiny_models, decoy_model, policy,
                                                    expected):
    raw, fused, logs = _run_pipeline(sam2_tiny_models, decoy_model, {'seed_policy': policy})
    seeded = _first_tracked(raw)
    index = next(i for i in range(CLIP.num_frames)
                 if ns_to_stamp(BASE_NS + CLIP.stamp_ns(i)) == seeded.header.stamp)
    target = DECOY_BOX if expected == 'decoy' else CLIP.truth(index)
    other = CLIP.truth(index) if expected == 'decoy' else DECOY_BOX
    assert _centre_error(seeded.bbox, target) < 12, logs
    assert _centre_error(seeded.bbox, other) > 100, logs
    assert seeded.track_id >= 1
    first = next(s for s in fused if s.header.stamp == seeded.header.stamp)
    assert first.state == TrackStatus.STATE_TRACKED and first.source == TrackStatus.SOURCE_FUSED
    assert first.track_id == seeded.track_id
    assert _centre_error(first.bbox, target) < 12, logs


def test_forced_seed_roi_bypasses_the_detector_end_to_end(sam2_tiny_models, decoy_model):
    roi = CLIP.truth(0)
    params = {'seed_roi': [float(v) for v in roi.xywh()], 'seed_policy': 'most_confident'}
    raw, fused, logs = _run_pipeline(sam2_tiny_models, decoy_model, params, frames=4)
    seeded = _first_tracked(raw)
    assert seeded.header.stamp == ns_to_stamp(BASE_NS), logs
    assert _centre_error(seeded.bbox, roi) < 12, logs
    first = next(s for s in fused if s.header.stamp == seeded.header.stamp)
    assert first.state == TrackStatus.STATE_TRACKED and first.track_id == seeded.track_id, \
        "\n".join(str(x) for x in (first, seeded, *fused, logs))
