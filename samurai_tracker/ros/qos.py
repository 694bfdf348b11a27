"""QoS profiles used on every topic, so that the nodes, RViz and rosbag agree.

- Images: best effort, keep last 1. A tracker must always work on the newest frame and
  never build a queue; a best-effort subscription also accepts reliable publishers
  (rosbag play, most camera drivers). In RViz set the image display to Best Effort.
- Results (detections, tracks, status, offsets): reliable, keep last 10, volatile. They
  are small, and a gimbal loop or recorder must not silently miss one.
"""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy)

__all__ = ['IMAGE_QOS', 'RESULT_QOS']

IMAGE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=1,
    reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE)

RESULT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=10,
    reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
