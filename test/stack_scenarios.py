"""Scenarios run both by launch_testing (on a ROS install) and by the process harness (CI).

Each scenario takes a running tracking stack (tracker + fusion, started from
``samurai_tracker.launching.tracker_plan`` either by ``ros2 launch`` or by
:class:`~samurai_tracker.launching.ProcessLauncher`) and a :class:`ros_harness.RosClient`,
drives it and asserts on what comes back, so the two launchers are held to the same test.
"""

import time

from samurai_interfaces.msg import TrackStatus
from samurai_interfaces.srv import Reseed
from sensor_msgs.msg import Image
from ros_harness import wait_until
from std_msgs.msg import Header

from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image
from samurai_tracker.synthetic import SyntheticClip

CLIP = SyntheticClip(num_frames=8, width=320, height=240, object_size=(64, 48), seed=11)
SEED_ROI = CLIP.truth(0).xywh().round().tolist()
BASE_NS = 5_000_000_000


def stack_arguments(model_dir):
    """Launch arguments of the scenario (tracker stack, forced seed ROI, no detector)."""
    return {'model_dir': str(model_dir), 'seed_roi': ','.join(str(v) for v in SEED_ROI),
            'fusion_wait_s': '30'}


def play_clip_and_check_stamps(ros, frames=4, timeout=90.0):
    """Publish frames one by one; every one gets a fused status with its own stamp."""
    fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
    tracked = ros.subscribe(TrackStatus, '/tracker/status', RESULT_QOS)
    pub = ros.publisher(Image, '/image', IMAGE_QOS)
    # The tracker subscribes to images after loading its models, then serves ~/reseed.
    reseed = ros.node.create_client(Reseed, '/tracker/reseed')
    assert ros.wait_for_service(reseed, 120), 'the tracker never came up'
    assert wait_until(lambda: pub.get_subscription_count() >= 1, 30), 'nobody subscribed'
    time.sleep(1.0)
    stamps = []
    for index in range(frames):
        stamp = ns_to_stamp(BASE_NS + CLIP.stamp_ns(index))
        msg = rgb_to_image(CLIP.frame(index), Header(frame_id='camera', stamp=stamp))
        pub.publish(msg)
        assert wait_until(lambda: any(s.header.stamp == stamp for s in fused), timeout), \
            f'no fused status for frame {index}'
        stamps.append(stamp)
    tracker_states = {s.header.stamp.nanosec: s.state for s in tracked}
    fused_by_stamp = {(s.header.stamp.sec, s.header.stamp.nanosec): s for s in fused}
    for stamp in stamps:
        status = fused_by_stamp[(stamp.sec, stamp.nanosec)]
        assert status.header.frame_id == 'camera'
        assert 0.0 <= status.confidence <= 1.0
    # Seeded from the forced ROI on the first frame: the tracker reports a real state.
    assert set(tracker_states.values()) & {TrackStatus.STATE_TRACKED,
                                           TrackStatus.STATE_REACQUIRED}
    return stamps
