"""QoS profiles used on every topic, so that the nodes, RViz and rosbag agree.

- Images: reliable, keep last 1. Keep-last-1 means a node always works on the newest
  frame and never builds a queue (a slow reader just sees the publisher overwrite the
  older sample). Reliable because Fast DDS loses most fragments of a best-effort image of
  a few hundred kB or more between processes (measured: most 640x480 and 1080p frames
  never arrived), which is worse than useless for a tracker. It matches RViz's default
  and ``ros2 bag play``. A camera driver that publishes best effort needs a relay or
  ``frame_transport:=composed``.
- Results (detections, tracks, status, offsets): reliable, keep last 10, volatile. They
  are small, and a gimbal loop or recorder must not silently miss one.
"""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy)

__all__ = ['IMAGE_QOS', 'RESULT_QOS']

IMAGE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=1,
    reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)

RESULT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST, depth=10,
    reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
