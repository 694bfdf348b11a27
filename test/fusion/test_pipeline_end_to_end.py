"""Detector, tracker and fusion nodes in three processes on a generated clip.

The detector runs the band-finding test model (it really sees the clip's object) plus a
constant, more confident decoy; the tracker runs a random SAM 2.1 tiny export (biased to
"object present"); the fusion node fuses both. Checked end to end: which box the track
is seeded from under each seed policy and under a forced ``seed_roi``, that the fused
status carries the tracker's track id and the image stamps, and that the fusion node's
reseed reaches the real tracker service.
"""

import re

import numpy as np
import pytest
from ros_harness import NodeProcess, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from samurai_tracker.detector.random_model import build_band_detector_onnx
from samurai_tracker.records import Box
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image
from samurai_tracker.synthetic import SyntheticClip

# A long clip, so the object moves only ~3.4 px per frame: the tracker seeds from the newest
# detections it has, which may be one frame older than the image it seeds on.
CLIP = SyntheticClip(num_frames=400, width=640, height=480, object_size=(96, 72), seed=2)
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


def _centre_distance(a, b):
    """Pixels between two box centres."""
    return float(((a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2) ** 0.5)


def _status_box(status):
    return Box.from_cxcywh(status.bbox.center.position.x, status.bbox.center.position.y,
                           status.bbox.size_x, status.bbox.size_y)


def _seed_box(tracker_log):
    """The box the tracker seeded from, as its log reports it (a random model's first mask
    box says little about the seed, so the seed itself is read from the log)."""
    found = re.search(r'seeded track (\d+) at \[([^\]]+)\]', tracker_log)
    assert found, f'no seed in the tracker log:\n{tracker_log}'
    return int(found.group(1)), Box(np.array([float(v) for v in found.group(2).split(',')]))


def _check_fused_start(raw, fused, track_id, logs):
    """The first fused TRACKED status starts from the tracker's box on the same image."""
    first = next((s for s in fused if s.state == TrackStatus.STATE_TRACKED), None)
    assert first is not None, logs
    assert first.source == TrackStatus.SOURCE_FUSED and first.track_id == track_id, logs
    same = next(s for s in raw if s.header.stamp == first.header.stamp)
    assert same.track_id == track_id
    assert _centre_distance(_status_box(first), _status_box(same)) < 1.0, logs


@pytest.mark.parametrize('policy,expected', [('most_confident', 'decoy'),
                                             ('nearest_center', 'object')])
def test_seed_policy_picks_the_detection_end_to_end(sam2_tiny_models, decoy_model, policy,
                                                    expected):
    frames = 6
    raw, fused, logs = _run_pipeline(sam2_tiny_models, decoy_model, {'seed_policy': policy},
                                     frames=frames)
    track_id, seed = _seed_box(logs)
    to_object = min(_centre_distance(seed, CLIP.truth(i)) for i in range(frames))
    to_decoy = _centre_distance(seed, DECOY_BOX)
    if expected == 'decoy':
        assert to_decoy < 1.0 and to_object > 100, logs
    else:
        assert to_object < 4.0 and to_decoy > 100, logs
    _check_fused_start(raw, fused, track_id, logs)


def test_forced_seed_roi_bypasses_the_detector_end_to_end(sam2_tiny_models, decoy_model):
    roi = CLIP.truth(0)
    params = {'seed_roi': [float(v) for v in roi.xywh()], 'seed_policy': 'most_confident'}
    raw, fused, logs = _run_pipeline(sam2_tiny_models, decoy_model, params, frames=4)
    track_id, seed = _seed_box(logs)
    np.testing.assert_allclose(seed.xyxy, roi.xyxy, atol=0.5)
    first_raw = next(s for s in raw if s.state == TrackStatus.STATE_TRACKED)
    assert first_raw.header.stamp == ns_to_stamp(BASE_NS), logs
    _check_fused_start(raw, fused, track_id, logs)
