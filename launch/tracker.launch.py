"""Detector + tracker + fusion on an existing ``image`` topic (another driver, a bag).

ros2 launch samurai_tracker tracker.launch.py model_dir:=models detector_model:=yolo.onnx
Remap the input with namespace:=... or a topic relay; --show-args lists every argument.
"""

from samurai_tracker.launching import tracker_plan
from samurai_tracker.ros.launch_description import plan_launch_description


def generate_launch_description():
    return plan_launch_description(tracker_plan)
