"""Replay a rosbag into the tracking stack with sim time.

ros2 launch samurai_tracker replay.launch.py bag:=flight1 model_dir:=models use_sim_time:=true
The bag is played with --clock and its recorded QoS; the image stamps drive the stack and
every output carries the stamp of the bag image it was computed from.
"""

from samurai_tracker.launching import replay_plan
from samurai_tracker.ros.launch_description import plan_launch_description


def generate_launch_description():
    return plan_launch_description(replay_plan, play_bag=True)
