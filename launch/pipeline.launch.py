"""Camera bridge -> detector -> tracker -> fusion -> overlay and encode.

ros2 launch samurai_tracker pipeline.launch.py source:=clip.mp4 model_dir:=models \
    detector_model:=yolo11n.onnx target_class:=0 rtp_port:=5600
Add composed:=true to run every node in one process (frames passed by reference), and
namespace:=cam1 to run one pipeline per camera side by side. --show-args lists them all.
"""

from samurai_tracker.launching import pipeline_plan
from samurai_tracker.ros.launch_description import plan_launch_description


def generate_launch_description():
    return plan_launch_description(pipeline_plan)
