"""ROS glue shared by the nodes: message conversions, images, parameters, QoS, main().

The only part of samurai_tracker besides the ``*_node`` modules that imports rclpy.
"""

from samurai_tracker.ros.conversions import (box_from_msg, box_to_msg, detections_from_msg,
                                             detections_to_msg, ns_to_stamp, stamp_to_ns,
                                             status_to_track, track_to_detection,
                                             track_to_status)
from samurai_tracker.ros.images import ImageError, image_to_rgb, rgb_to_image
from samurai_tracker.ros.params import choices_validator, declare
from samurai_tracker.ros.qos import IMAGE_QOS, RESULT_QOS
from samurai_tracker.ros.spin import run_node, wants_help

__all__ = [
    'IMAGE_QOS',
    'ImageError',
    'RESULT_QOS',
    'box_from_msg',
    'box_to_msg',
    'choices_validator',
    'declare',
    'detections_from_msg',
    'detections_to_msg',
    'image_to_rgb',
    'ns_to_stamp',
    'rgb_to_image',
    'run_node',
    'stamp_to_ns',
    'status_to_track',
    'track_to_detection',
    'track_to_status',
    'wants_help',
]
