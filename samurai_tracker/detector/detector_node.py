"""detector_node: an Ultralytics YOLO (v8 / 11) detector on a ROS image stream.

Runs the ROS-free :class:`~samurai_tracker.detector.YoloDetector` (letterbox, ONNX Runtime
or TensorRT, class-aware NMS, boxes mapped back to the image) on each image and publishes
what it found. Export your own weights with
``yolo export model=yolo11n.pt format=onnx imgsz=640`` and pass the ``.onnx`` file (or a
TensorRT ``.engine`` built from it) as ``model_path``.

Subscriptions
-------------
``image`` (sensor_msgs/Image, reliable, keep last 1; or frames by reference with
    ``frame_transport:=composed``)
    Frames (rgb8, bgr8, rgba8, bgra8, mono8). Unusable images are counted, logged
    (throttled) and skipped.
``track_status`` (samurai_interfaces/TrackStatus; remap to the tracker's ``~/status``)
    Optional. Used only to throttle: while the tracker reports TRACKED, the detector runs on
    every ``every_n``-th image; while the tracker needs a seed (IDLE, LOST, OCCLUDED,
    REACQUIRED) or nothing is heard from it, on every image.

Publications
------------
``detections`` (vision_msgs/Detection2DArray, reliable, depth 10)
    One message per processed image, header = the image's header (stamp and frame).
    Each detection: ``bbox`` centre and full size in image pixels (theta 0),
    ``results[0].hypothesis.class_id`` = class index as a decimal string (``'0'`` is COCO
    person), ``results[0].hypothesis.score`` = confidence in [0, 1]. Empty when nothing
    was found (so consumers can tell "saw nothing" from "did not run").

Parameters
----------
``model_path`` (string, read-only)
    ``.onnx`` (ONNX Runtime) or ``.engine`` / ``.plan`` (TensorRT). Required.
``providers`` (string array, read-only)
    ONNX Runtime execution providers in order of preference (default CPU only).
``input_size`` (int, read-only, 32..4096, default 640)
    Square model input side S in pixels (the ``imgsz`` of the export).
``class_names_file`` (string, read-only)
    One class name per line; empty = the 80 COCO names shipped with the package. Must list
    exactly ``nc`` names for an output of ``[1, 4 + nc, N]``.
``confidence_threshold`` (double, 0..1, default 0.25)
    Minimum class score kept.
``iou_threshold`` (double, 0..1, default 0.45)
    Class-aware NMS IoU threshold.
``class_filter`` (string, default '')
    Comma-separated class ids or names to keep (``'person,car'`` or ``'0,2'``); empty
    keeps all classes.
``max_detections`` (int, 1..10000, default 300)
    Most boxes published per image.
``every_n`` (int, 1..1000, default 1)
    Run on every n-th image while the tracker reports TRACKED (see ``track_status``).

Run-time changes of the thresholds, ``class_filter``, ``max_detections`` and ``every_n``
take effect on the next image.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from samurai_interfaces.msg import TrackStatus
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from samurai_tracker.backends import BackendError
from samurai_tracker.detector.class_names import load_class_names, resolve_class_filter
from samurai_tracker.detector.yolo_decode import DecodeConfig
from samurai_tracker.detector.yolo_detector import open_detector_backend, YoloDetector
from samurai_tracker.records import TrackState
from samurai_tracker.ros import declare, detections_to_msg, ns_to_stamp, RESULT_QOS, run_node
from samurai_tracker.ros.frame_transport import FRAME_TRANSPORTS, FrameSubscriber
from samurai_tracker.transport import Frame, LatestFrameMailbox, to_host

_LIVE = ('confidence_threshold', 'iou_threshold', 'class_filter', 'max_detections', 'every_n')


def _split_filter(text: str) -> List[str]:
    return [item.strip() for item in str(text).split(',') if item.strip()]


class DetectorNode(Node):
    """Thin ROS wrapper around :class:`samurai_tracker.detector.YoloDetector`."""

    def __init__(self) -> None:
        super().__init__('detector')
        # ---- parameters -------------------------------------------------------------
        self.model_path = declare(self, 'model_path', '',
                                  'detector model: .onnx, or .engine/.plan (TensorRT)',
                                  read_only=True)
        self.frame_transport = declare(
            self, 'frame_transport', 'standard', 'how frames arrive: sensor_msgs/Image '
            "('standard'), by reference in one process ('composed'), or Isaac ROS NITROS",
            read_only=True, choices=list(FRAME_TRANSPORTS))
        self.providers = declare(self, 'providers', ['CPUExecutionProvider'],
                                 'ONNX Runtime execution providers, in order of preference',
                                 read_only=True)
        self.input_size = declare(self, 'input_size', 640,
                                  'square model input side in pixels (the export imgsz)',
                                  value_range=(32, 4096), read_only=True)
        self.class_names_file = declare(self, 'class_names_file', '',
                                        'class names, one per line (empty: COCO 80)',
                                        read_only=True)
        self.confidence_threshold = declare(self, 'confidence_threshold', 0.25,
                                            'minimum class score kept', value_range=(0.0, 1.0))
        self.iou_threshold = declare(self, 'iou_threshold', 0.45,
                                     'class-aware NMS IoU threshold', value_range=(0.0, 1.0))
        self.class_filter = declare(self, 'class_filter', '',
                                    "comma-separated class ids or names to keep ('' = all)")
        self.max_detections = declare(self, 'max_detections', 300,
                                      'most boxes published per image', value_range=(1, 10000))
        self.every_n = declare(self, 'every_n', 1,
                               'run on every n-th image while the tracker reports TRACKED',
                               value_range=(1, 1000))
        # ---- model (a bad model path or class file refuses to start, with the reason) ---
        if not self.model_path:
            raise ValueError("set the 'model_path' parameter to a YOLO .onnx file (export: "
                             '`yolo export model=yolo11n.pt format=onnx imgsz=640`)')
        self.class_names = load_class_names(self.class_names_file or None)
        try:
            backend = open_detector_backend(self.model_path, providers=list(self.providers))
        except BackendError as error:
            raise ValueError(str(error)) from error
        self.detector = YoloDetector(backend, self.class_names, self.input_size,
                                     self._decode_config(self.confidence_threshold,
                                                         self.iou_threshold, self.class_filter,
                                                         self.max_detections))
        self.add_on_set_parameters_callback(self._on_set_parameters)
        # ---- state ------------------------------------------------------------------
        self.stats: Dict[str, Any] = {'received': 0, 'processed': 0, 'throttled': 0,
                                      'bad_images': 0, 'errors': 0, 'detect_ms_total': 0.0}
        self._tracker_state: Optional[TrackState] = None
        self._since_run = 0
        # ---- publishers, subscriptions ------------------------------------------------
        self.detections_pub = self.create_publisher(Detection2DArray, 'detections', RESULT_QOS)
        self.mailbox: LatestFrameMailbox[Frame] = LatestFrameMailbox()
        self._running = True
        self.frames = FrameSubscriber(self, 'image', self.frame_transport, self._on_frame,
                                      self._on_bad_image, allow_mono=True)
        self._worker = threading.Thread(target=self._work, name='detector-worker', daemon=True)
        self._worker.start()
        self.create_subscription(TrackStatus, 'track_status', self._on_status, RESULT_QOS)
        self.get_logger().info(
            f"detector ready: model '{self.model_path}', {len(self.class_names)} classes, "
            f'input {self.detector.input_size}, conf {self.confidence_threshold}, '
            f'iou {self.iou_threshold}, class_filter {self.class_filter!r}, '
            f'every_n {self.every_n}')

    def _decode_config(self, confidence: float, iou: float, class_filter: str,
                       max_detections: int) -> DecodeConfig:
        ids = resolve_class_filter(_split_filter(class_filter), self.class_names)
        return DecodeConfig(confidence_threshold=float(confidence), iou_threshold=float(iou),
                            class_filter=tuple(ids), max_detections=int(max_detections))

    def _on_set_parameters(self, params: list) -> SetParametersResult:
        values = {name: getattr(self, name) for name in _LIVE}
        for param in params:
            if param.name in _LIVE:
                values[param.name] = param.value
        try:
            config = self._decode_config(values['confidence_threshold'],
                                         values['iou_threshold'], values['class_filter'],
                                         values['max_detections'])
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        for name, value in values.items():
            setattr(self, name, value)
        self.detector.config = config
        return SetParametersResult(successful=True)

    def _on_status(self, msg: TrackStatus) -> None:
        try:
            self._tracker_state = TrackState(msg.state)
        except ValueError:
            self._tracker_state = None

    def _throttled(self) -> bool:
        """Whether to skip this image (only while the tracker holds its target)."""
        if self.every_n <= 1 or self._tracker_state != TrackState.TRACKED:
            self._since_run = 0
            return False
        self._since_run += 1
        if self._since_run >= self.every_n:
            self._since_run = 0
            return False
        return True

    def _on_frame(self, frame: Frame) -> None:
        # Cheap on purpose: in composed mode this runs on the camera bridge's thread.
        self.stats['received'] += 1
        if self._throttled():
            self.stats['throttled'] += 1
            return
        self.mailbox.put(frame)

    def _on_bad_image(self, header: Header, reason: str) -> None:
        self.stats['bad_images'] += 1
        self.get_logger().warning(f'skipped image: {reason}', throttle_duration_sec=2.0)

    def _work(self) -> None:
        while self._running:
            frame = self.mailbox.take(0.2)
            if frame is not None:
                self._detect(frame)

    def _detect(self, frame: Frame) -> None:
        rgb = to_host(frame)
        header = Header(frame_id=frame.frame_id, stamp=ns_to_stamp(frame.stamp_ns))
        start = time.perf_counter()
        try:
            detections = self.detector.detect(rgb)
        except (BackendError, ValueError) as error:
            self.stats['errors'] += 1
            self.get_logger().error(f'detection failed: {error}', throttle_duration_sec=2.0)
            return
        self.stats['detect_ms_total'] += (time.perf_counter() - start) * 1000
        self.stats['processed'] += 1
        if self._running and self.context.ok():  # not while shutting down
            self.detections_pub.publish(detections_to_msg(detections, header))

    def close(self) -> None:
        """Stop the worker and log the counters (called before destroy_node)."""
        self._running = False
        self.mailbox.close()
        self._worker.join(timeout=5.0)
        self.frames.close()
        done = max(self.stats['processed'], 1)
        self.get_logger().info(
            f"detector stopped: received={self.stats['received']} "
            f"processed={self.stats['processed']} throttled={self.stats['throttled']} "
            f"dropped={self.mailbox.drops} "
            f"bad_images={self.stats['bad_images']} errors={self.stats['errors']} "
            f"mean_detect_ms={self.stats['detect_ms_total'] / done:.1f}")


def main(args: Optional[List[str]] = None) -> int:
    """Run the detector node (``ros2 run samurai_tracker detector_node``)."""
    return run_node(DetectorNode, __doc__ or '', args)


if __name__ == '__main__':
    raise SystemExit(main())
