"""A rosbag written with the rosbags library replays into the stack with /clock (sim time).

``ros2 bag play --clock`` is not installable here, so the test plays the bag itself: the
bag's raw CDR bytes are published as they are (the image stamps recorded in the bag), with
/clock advanced to each message's bag time before it, into nodes started from the replay
plan (use_sim_time on). Every fused status must carry the stamp of a bag image.
"""

from rclpy.serialization import serialize_message
from ros_harness import ros_environment, RosClient, wait_until
from rosbags.rosbag2 import Reader, Writer
from rosbags.typesys import get_typestore, Stores
from rosgraph_msgs.msg import Clock
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import Image
from stack_scenarios import CLIP, stack_arguments
from std_msgs.msg import Header

from samurai_tracker.launching import parse_arguments, ProcessLauncher, replay_plan
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image

BAG_START_NS = 1_700_000_000_000_000_000
FRAMES = 4


def write_bag(path):
    typestore = get_typestore(Stores.ROS2_KILTED)
    with Writer(path, version=9) as writer:
        connection = writer.add_connection('/image', 'sensor_msgs/msg/Image',
                                           typestore=typestore)
        for index in range(FRAMES):
            stamp = BAG_START_NS + CLIP.stamp_ns(index)
            msg = rgb_to_image(CLIP.frame(index), Header(frame_id='camera',
                                                         stamp=ns_to_stamp(stamp)))
            writer.write(connection, stamp, serialize_message(msg))


def test_bag_replay_with_sim_time(sam2_tiny_models, tmp_path):
    bag = tmp_path / 'clip_bag'
    write_bag(bag)
    given = stack_arguments(sam2_tiny_models)
    given.update({'use_sim_time': 'true', 'bag': str(bag)})
    launcher = ProcessLauncher(replay_plan(parse_arguments(given)), env=ros_environment(),
                               log_dir=str(tmp_path / 'logs'))
    with launcher, RosClient() as ros:
        fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
        clock = ros.publisher(Clock, '/clock', 10)
        image = ros.publisher(Image, '/image', IMAGE_QOS)
        from samurai_interfaces.srv import Reseed
        reseed = ros.node.create_client(Reseed, '/tracker/reseed')
        assert ros.wait_for_service(reseed, 120), launcher.log('tracker')
        assert wait_until(lambda: image.get_subscription_count() >= 1, 30)
        bag_stamps = []
        with Reader(bag) as reader:
            for connection, timestamp, rawdata in reader.messages():
                clock.publish(Clock(clock=ns_to_stamp(timestamp)))
                image.publish(rawdata)  # the recorded CDR bytes, unchanged
                bag_stamps.append(ns_to_stamp(timestamp))
                stamp = bag_stamps[-1]
                assert wait_until(lambda: any(s.header.stamp == stamp for s in fused), 90), \
                    launcher.log('fusion')[-1500:]
        got = {(s.header.stamp.sec, s.header.stamp.nanosec) for s in fused}
        assert got == {(s.sec, s.nanosec) for s in bag_stamps}
        assert all(s.header.frame_id == 'camera' for s in fused)
    codes = launcher.stop()
    assert set(codes.values()) == {0}, codes
