"""YOLO detector core: letterbox, decoding, class-aware NMS, class names, test models.

ROS-free; :mod:`samurai_tracker.detector.detector_node` wraps it in a ROS 2 node.
"""

from samurai_tracker.detector.class_names import COCO_NAMES_PATH, load_class_names, \
    resolve_class_filter
from samurai_tracker.detector.letterbox import Letterbox, letterbox, LETTERBOX_PAD_VALUE
from samurai_tracker.detector.nms import batched_nms, nms
from samurai_tracker.detector.yolo_decode import check_output_shape, DecodeConfig, \
    decode_yolo_output
from samurai_tracker.detector.yolo_detector import open_detector_backend, YoloDetector

__all__ = [
    'COCO_NAMES_PATH',
    'DecodeConfig',
    'LETTERBOX_PAD_VALUE',
    'Letterbox',
    'YoloDetector',
    'batched_nms',
    'check_output_shape',
    'decode_yolo_output',
    'letterbox',
    'load_class_names',
    'nms',
    'open_detector_backend',
    'resolve_class_filter',
]
