"""Core records <-> ROS messages (vision_msgs, samurai_interfaces, builtin_interfaces).

Conventions, the same on every topic:

- boxes are ``vision_msgs/BoundingBox2D`` in image pixels: ``center.position`` is the box
  centre, ``size_x``/``size_y`` the full width/height, ``center.theta`` 0;
- a detection's class is ``results[0].hypothesis.class_id``, the detector's class index
  written as a decimal string (``'0'`` is COCO's person), with its score in ``score``;
- a track is a ``vision_msgs/Detection2D`` whose ``id`` is the decimal ``track_id`` and whose
  ``results[0].hypothesis.score`` is the track confidence;
- every header carries the stamp of the image the data was computed from.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

from builtin_interfaces.msg import Time
import numpy as np
from samurai_interfaces.msg import TrackStatus
from std_msgs.msg import Header
from vision_msgs.msg import (BoundingBox2D, Detection2D, Detection2DArray,
                             ObjectHypothesisWithPose)

from samurai_tracker.records import Box, BoxSource, Detections, Track, TrackState

__all__ = [
    'box_from_msg',
    'box_to_msg',
    'detections_from_msg',
    'detections_to_msg',
    'ns_to_stamp',
    'stamp_to_ns',
    'status_to_track',
    'track_to_detection',
    'track_to_status',
]


def stamp_to_ns(stamp: Time) -> int:
    """Convert a ``builtin_interfaces/Time`` into integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(ns: int) -> Time:
    """Convert integer nanoseconds (>= 0) into a ``builtin_interfaces/Time``."""
    if ns < 0:
        raise ValueError(f'stamp must be >= 0 ns, got {ns}')
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def box_to_msg(box: Optional[Box]) -> BoundingBox2D:
    """Convert a box into ``BoundingBox2D`` (all zero for None)."""
    msg = BoundingBox2D()
    if box is not None:
        msg.center.position.x = box.cx
        msg.center.position.y = box.cy
        msg.size_x = box.width
        msg.size_y = box.height
    return msg


def box_from_msg(msg: BoundingBox2D) -> Box:
    """Convert ``BoundingBox2D`` into a box.

    Raises
    ------
    ValueError
        If a value is not finite, a size is not positive, or the box is rotated.

    """
    values = (msg.center.position.x, msg.center.position.y, msg.size_x, msg.size_y)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f'box has a non-finite value: centre ({values[0]}, {values[1]}), '
                         f'size ({values[2]}, {values[3]})')
    if msg.size_x <= 0 or msg.size_y <= 0:
        raise ValueError(f'box size must be positive, got {msg.size_x} x {msg.size_y}')
    if abs(msg.center.theta) > 1e-6:
        raise ValueError(f'rotated boxes are not supported (theta = {msg.center.theta})')
    return Box.from_cxcywh(*values)


def _hypothesis(class_id: str, score: float) -> ObjectHypothesisWithPose:
    result = ObjectHypothesisWithPose()
    result.hypothesis.class_id = class_id
    result.hypothesis.score = float(score)
    return result


def detections_to_msg(detections: Detections, header: Header) -> Detection2DArray:
    """Convert detections into ``Detection2DArray`` (class index as a decimal string)."""
    msg = Detection2DArray()
    msg.header = header
    for i in range(len(detections)):
        det = Detection2D()
        det.header = header
        det.bbox = box_to_msg(detections.box(i))
        det.results.append(
            _hypothesis(str(int(detections.class_ids[i])), float(detections.scores[i])))
        msg.detections.append(det)
    return msg


def detections_from_msg(msg: Detection2DArray) -> Tuple[Detections, List[str]]:
    """Convert ``Detection2DArray`` into detections, skipping the unusable ones.

    Returns
    -------
    detections : Detections
        The valid detections (finite, positive size, a numeric class id, score in [0, 1]).
    rejected : list of str
        One reason per skipped detection, for counting and logging.

    """
    boxes, scores, classes = [], [], []
    rejected: List[str] = []
    for index, det in enumerate(msg.detections):
        try:
            box = box_from_msg(det.bbox)
            if not det.results:
                raise ValueError('no class hypothesis')
            best = max(det.results, key=lambda r: r.hypothesis.score)
            class_id = int(best.hypothesis.class_id)
            score = float(best.hypothesis.score)
            if not (0.0 <= score <= 1.0):
                raise ValueError(f'score {score} outside [0, 1]')
            if class_id < 0:
                raise ValueError(f'negative class id {class_id}')
        except ValueError as error:
            rejected.append(f'detection {index}: {error}')
            continue
        boxes.append(box.xyxy)
        scores.append(score)
        classes.append(class_id)
    detections = Detections(np.array(boxes, np.float64).reshape(-1, 4),
                            np.array(scores, np.float64), np.array(classes, np.int64))
    return detections, rejected


def track_to_detection(track: Track, header: Header, class_id: str = '') -> Detection2D:
    """Convert a track into ``Detection2D`` (id = track id, score = confidence)."""
    msg = Detection2D()
    msg.header = header
    msg.id = str(track.track_id)
    msg.bbox = box_to_msg(track.box)
    msg.results.append(_hypothesis(class_id, track.confidence))
    return msg


def track_to_status(track: Track, header: Header) -> TrackStatus:
    """Convert a track into ``samurai_interfaces/TrackStatus``."""
    msg = TrackStatus()
    msg.header = header
    msg.state = int(track.state)
    msg.confidence = float(track.confidence)
    msg.source = int(track.source)
    msg.frames_since_measurement = int(track.frames_since_measurement)
    msg.track_id = int(track.track_id)
    msg.bbox = box_to_msg(track.box)
    msg.message = track.message
    return msg


def status_to_track(msg: TrackStatus) -> Track:
    """Convert ``TrackStatus`` into a track (raises ValueError on an inconsistent message)."""
    state = TrackState(msg.state)
    box = None
    if msg.bbox.size_x > 0 and msg.bbox.size_y > 0:
        box = box_from_msg(msg.bbox)
    return Track(state=state, source=BoxSource(msg.source), box=box,
                 confidence=min(max(float(msg.confidence), 0.0), 1.0),
                 track_id=int(msg.track_id),
                 frames_since_measurement=int(msg.frames_since_measurement),
                 message=msg.message)
