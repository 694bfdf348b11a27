"""tracker_node: the SAMURAI tracker on a ROS image stream.

Follows one object seeded by a detection, a forced ROI or a ``~/reseed`` request, and
publishes where it is and how sure it is for every image it processes.

Subscriptions
-------------
``image`` (sensor_msgs/Image, reliable, keep last 1)
    Frames (rgb8, bgr8, rgba8, bgra8). Only the newest frame is processed; frames that
    arrive while one is being processed are dropped and counted.
``detections`` (vision_msgs/Detection2DArray)
    Used to seed (and reseed) from the best detection of ``target_class``.

Publications (stamped with the processed image's stamp)
-------------------------------------------------------
``~/track`` (vision_msgs/Detection2D)
    The box in pixels; ``id`` = track id; ``results[0]`` = target class and confidence.
    Published only while a track exists.
``~/status`` (samurai_interfaces/TrackStatus)
    State, confidence, box source, frames since the last good measurement, track id,
    box and a message for every processed image (IDLE and errors included).
``~/mask`` (sensor_msgs/Image, mono8)
    The target mask, published only while someone subscribes.

Services
--------
``~/reseed`` (samurai_interfaces/Reseed)
    Seed from a box, or (empty request) from the next detection of the target class.
    Invalid requests are refused with ``accepted = false`` and the reason.

Parameters
----------
``model_dir`` (read-only), ``backend`` (read-only: onnxruntime | tensorrt | torch),
``precision`` (read-only, torch backend: auto | fp32 | fp16 | bf16; with torch on CUDA
tracking frames run as the fused CUDA-graph step), ``torch_compile`` (read-only),
``target_class`` (-1 = any class),
``seed_policy`` (most_confident | nearest_center),
``seed_roi`` ([x, y, width, height] pixels of a forced first seed; zeros = none),
``min_detection_score``, and every knob of the SAMURAI runtime (``max_kf``,
``context_factor``, ``lost_after_frames``, ...; see ``ros2 param describe``).
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from samurai_interfaces.msg import TrackStatus
from samurai_interfaces.srv import Reseed
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2D, Detection2DArray

from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, Track, TrackState
from samurai_tracker.ros import (box_from_msg, box_to_msg, declare, detections_from_msg,
                                 IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image, run_node,
                                 stamp_to_ns, track_to_detection, track_to_status)
from samurai_tracker.ros.frame_transport import FRAME_TRANSPORTS, FrameSubscriber
from samurai_tracker.transport import Frame, LatestFrameMailbox, to_host
from samurai_tracker.tracker.config import config_parameters

BACKENDS = ('onnxruntime', 'tensorrt', 'torch')


@dataclass(frozen=True)
class SeedRequest:
    """A seed waiting for the next frame: a box, or the next detection of a class."""

    box: Optional[Box]
    class_id: Optional[int] = None
    stamp_ns: int = 0
    reason: str = ''


def validate_seed_box(box: Box, image_size: Optional[Tuple[int, int]]) -> Box:
    """Check a seed box against the image (width, height) and clip it to the image.

    Raises
    ------
    ValueError
        If the box has no positive area, or does not overlap the image.

    """
    if box.width <= 0 or box.height <= 0:
        raise ValueError(f'box must have positive size, got {box.width} x {box.height}')
    if image_size is None:
        return box
    width, height = image_size
    if not box.overlaps_image(width, height):
        raise ValueError(f'box {box.xyxy.round(1).tolist()} lies outside the '
                         f'{width}x{height} image')
    return box.clip(width, height)


# Knobs owned by the node or fixed by the exported models, not exposed twice.
_NODE_OWNED = {'min_frame_side'}


class TrackerNode(Node):
    """Thin ROS wrapper around :class:`samurai_tracker.tracker.SamuraiTracker`."""

    def __init__(self) -> None:
        super().__init__('tracker')
        # ---- parameters -------------------------------------------------------------
        self.model_dir = declare(
            self, 'model_dir', '', 'directory with the exported SAMURAI models '
            '(samurai-export / samurai-build-engines output)', read_only=True)
        self.backend = declare(self, 'backend', 'onnxruntime', 'inference backend',
                               read_only=True, choices=BACKENDS)
        self.precision = declare(
            self, 'precision', 'auto', 'torch backend arithmetic: fp16 or bf16 (half-precision '
            'weights under autocast, CUDA only) or fp32; auto = fp16 on CUDA, fp32 on the '
            'CPU. ONNX Runtime and TensorRT ignore it (an engine carries its precision)',
            read_only=True, choices=['auto', 'fp32', 'fp16', 'bf16'])
        self.torch_compile = declare(
            self, 'torch_compile', False, 'torch backend: run the models through '
            'torch.compile (needs Triton; compiles for about a minute at start-up, then about '
            '1.3x faster per frame on an H200)', read_only=True)
        self.frame_transport = declare(
            self, 'frame_transport', 'standard', 'how frames arrive: sensor_msgs/Image '
            "('standard'), by reference in one process ('composed'), or Isaac ROS NITROS",
            read_only=True, choices=list(FRAME_TRANSPORTS))
        self.target_class = declare(
            self, 'target_class', 0, 'detector class index to follow (-1: any class)',
            value_range=(-1, 100000))
        self.seed_policy = SeedPolicy(declare(
            self, 'seed_policy', SeedPolicy.MOST_CONFIDENT.value,
            'which detection of the target class seeds the track',
            choices=[p.value for p in SeedPolicy]))
        self.seed_roi = declare(
            self, 'seed_roi', [0.0, 0.0, 0.0, 0.0],
            'forced first seed [x, y, width, height] in pixels; all zero = seed from a '
            'detection instead', read_only=True)
        self.min_detection_score = declare(
            self, 'min_detection_score', 0.3, 'detections below this score never seed',
            value_range=(0.0, 1.0))
        self.config_overrides: Dict[str, Any] = {}
        for info in config_parameters():
            if info.name in _NODE_OWNED:
                continue
            value = declare(self, info.name, info.default, info.description,
                            value_range=None if info.low is None else (info.low, info.high),
                            choices=list(info.choices) or None,
                            read_only=info.name in ('crop_size', 'view_mode'))
            self.config_overrides[info.name] = value
        # ---- state ------------------------------------------------------------------
        self.tracker: Any = None
        self.load_error = ''
        self._lock = threading.Lock()
        self.mailbox: LatestFrameMailbox[Frame] = LatestFrameMailbox()
        self._detections: Optional[Tuple[int, Detections]] = None
        self._pending_seed: Optional[SeedRequest] = None
        self._last_size: Optional[Tuple[int, int]] = None
        self._track_id = 0
        self.stats = {'received': 0, 'processed': 0, 'bad_images': 0,
                      'bad_detections': 0}
        self._running = True
        roi = [float(v) for v in self.seed_roi]
        if len(roi) != 4 or not all(np.isfinite(roi)):
            raise ValueError(f'seed_roi must be 4 finite numbers [x, y, width, height], got {roi}')
        if any(roi):
            if roi[2] <= 0 or roi[3] <= 0:
                raise ValueError(f'seed_roi width and height must be > 0, got {roi}')
            self._pending_seed = SeedRequest(box=Box.from_xywh(*roi), reason='seed_roi parameter')
        else:
            self._pending_seed = SeedRequest(box=None, reason='first detection')
        self._load_models()
        # ---- publishers, subscriptions, services --------------------------------------
        self.track_pub = self.create_publisher(Detection2D, '~/track', RESULT_QOS)
        self.status_pub = self.create_publisher(TrackStatus, '~/status', RESULT_QOS)
        self.mask_pub = self.create_publisher(Image, '~/mask', IMAGE_QOS)
        io_group = ReentrantCallbackGroup()
        self.frames = FrameSubscriber(self, 'image', self.frame_transport, self._on_frame,
                                      self._on_bad_image, callback_group=io_group)
        self.create_subscription(Detection2DArray, 'detections', self._on_detections,
                                 RESULT_QOS, callback_group=io_group)
        self.create_service(Reseed, '~/reseed', self._on_reseed,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self.get_logger().info(
            f"tracker ready: backend={self.backend} model_dir='{self.model_dir}' "
            f'execution={self._execution()} '
            f'target_class={self.target_class} frame_transport={self.frame_transport} '
            f'seed={self._pending_seed.reason}'
            + (f' (NOT TRACKING: {self.load_error})' if self.load_error else ''))
        self._worker = threading.Thread(target=self._work, name='tracker-worker', daemon=True)
        self._worker.start()

    # ---- model loading -------------------------------------------------------------------
    def _load_models(self) -> None:
        if not self.model_dir:
            self.load_error = ("no models: set the 'model_dir' parameter to a directory "
                               'made by samurai-export')
            self.get_logger().error(self.load_error)
            return
        try:
            from samurai_tracker.tracker import load_tracker
            options: Dict[str, Any] = {}
            if self.backend == 'torch':
                precision = self.precision
                if precision == 'auto':
                    import torch
                    precision = 'fp16' if torch.cuda.is_available() else 'fp32'
                options['precision'] = precision
                options['compile'] = bool(self.torch_compile)
            self.tracker = load_tracker(self.model_dir, backend=self.backend,
                                        backend_options=options, **self.config_overrides)
        except Exception as error:  # any load failure is reported, the node keeps running
            self.load_error = f'cannot load models from {self.model_dir!r}: {error}'
            self.get_logger().error(self.load_error)

    def _execution(self) -> str:
        """How tracking frames run, for the start-up log line."""
        if self.tracker is None:
            return 'none'
        fused = self.tracker.fused
        if fused is None:
            return f'per-model ({self.tracker.models.device})'
        return 'fused CUDA graphs' if fused.graphs else 'fused (eager)'

    # ---- callbacks (cheap: they only hand data to the worker) ----------------------------
    def _on_frame(self, frame: Frame) -> None:
        with self._lock:
            self.stats['received'] += 1
        self.mailbox.put(frame)

    def _on_bad_image(self, header: Header, reason: str) -> None:
        with self._lock:
            self.stats['bad_images'] += 1
        self.get_logger().warning(f'dropped image: {reason}', throttle_duration_sec=2.0)
        last = getattr(self.tracker, 'last_track', None) if self.tracker else None
        track = last if isinstance(last, Track) else self._idle('')
        self._status(header, Track(track.state, track.source, track.box, track.confidence,
                                   track.track_id, track.frames_since_measurement,
                                   f'dropped image: {reason}'))

    def _on_detections(self, msg: Detection2DArray) -> None:
        detections, rejected = detections_from_msg(msg)
        if rejected:
            self.stats['bad_detections'] += len(rejected)
            self.get_logger().warning(f'ignored {len(rejected)} detection(s): {rejected[0]}',
                                      throttle_duration_sec=5.0)
        with self._lock:
            self._detections = (stamp_to_ns(msg.header.stamp), detections)

    def _on_reseed(self, request: Reseed.Request, response: Reseed.Response) -> Any:
        response.track_id = self._track_id
        try:
            box = None
            if request.use_box:
                box = validate_seed_box(box_from_msg(request.box), self._last_size)
            class_id = self.target_class
            if request.class_id:
                class_id = int(request.class_id)
                if class_id < -1:
                    raise ValueError(f'class_id must be >= -1, got {class_id}')
        except ValueError as error:
            response.accepted = False
            response.message = f'refused: {error}'
            self.get_logger().warning(f'reseed {response.message} (reason: {request.reason!r})')
            return response
        if self.tracker is None:
            response.accepted = False
            response.message = f'refused: {self.load_error}'
            return response
        seed = SeedRequest(box=box, class_id=class_id, stamp_ns=stamp_to_ns(request.stamp),
                           reason=request.reason or 'reseed service')
        with self._lock:
            self._pending_seed = seed
            self._track_id += 1
            response.track_id = self._track_id
        response.accepted = True
        response.box = box_to_msg(box)
        response.message = ('seeding from the given box' if box is not None else
                            f'waiting for the next detection of class {class_id}')
        self.get_logger().info(f'reseed accepted (track {self._track_id}): '
                               f'{response.message}; reason: {seed.reason}')
        return response

    # ---- worker ------------------------------------------------------------------------
    def _work(self) -> None:
        while self._running:
            frame = self.mailbox.take(0.2)
            if frame is None:
                continue
            try:
                self._process(frame)
            except Exception as error:  # never let one frame kill the node
                self.get_logger().error(f'frame processing failed: {error!r}')

    def _status(self, header: Header, track: Track) -> None:
        # Ctrl-C shuts the context down from rclpy's signal handler while this worker may
        # be mid-frame: publishing on a dead context aborts the process.
        if not self._running or not self.context.ok():
            return
        self.status_pub.publish(track_to_status(track, header))
        if track.box is not None and track.state not in (TrackState.IDLE,):
            class_id = '' if self.target_class < 0 else str(self.target_class)
            self.track_pub.publish(track_to_detection(track, header, class_id))

    def _idle(self, message: str) -> Track:
        return Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, self._track_id,
                     message=message)

    def _process(self, received: Frame) -> None:
        header = Header(frame_id=received.frame_id, stamp=ns_to_stamp(received.stamp_ns))
        self._last_size = received.size
        if self.tracker is None:
            self._status(header, self._idle(self.load_error))
            return
        frame = (received.pixels if getattr(self.tracker, 'accepts_device_frames', False)
                 else to_host(received))
        stamp = received.stamp_ns
        seeded = self._maybe_seed(frame, stamp)
        if seeded is not None:
            track = seeded
        elif getattr(self.tracker, 'is_seeded', False):
            track = self.tracker.track(frame, stamp_ns=stamp)
        else:
            track = self._idle('waiting for a seed: a detection of class '
                               f'{self.target_class}, seed_roi or ~/reseed')
        self.stats['processed'] += 1
        self._status(header, track)
        if self.mask_pub.get_subscription_count() > 0:
            mask = getattr(self.tracker, 'last_mask', None)
            if mask is not None:
                gray = (np.asarray(mask) > 0).astype(np.uint8) * 255
                self.mask_pub.publish(rgb_to_image(np.repeat(gray[:, :, None], 3, 2),
                                                   header, 'mono8'))

    def _maybe_seed(self, frame: np.ndarray, stamp: int) -> Optional[Track]:
        with self._lock:
            seed = self._pending_seed
            detections = self._detections
        if seed is None:
            return None
        box = seed.box
        if box is None:
            if detections is None:
                return None
            dets = detections[1].of_class(None if seed.class_id is None or seed.class_id < 0
                                          else seed.class_id)
            dets = dets.select(dets.scores >= self.min_detection_score)
            index = dets.best(self.seed_policy, frame.shape[1], frame.shape[0])
            if index is None:
                return None
            box = dets.box(index)
        try:
            box = validate_seed_box(box, (frame.shape[1], frame.shape[0]))
        except ValueError as error:
            with self._lock:
                if self._pending_seed is seed:
                    self._pending_seed = None
            self.get_logger().warning(f'seed dropped: {error}')
            return None
        with self._lock:
            if self._pending_seed is seed:
                self._pending_seed = None
        track = self.tracker.seed(frame, box, stamp_ns=stamp)
        self._track_id = max(self._track_id, track.track_id)
        self.get_logger().info(f'seeded track {track.track_id} at {box.xyxy.round(1).tolist()} '
                               f'({seed.reason})')
        return track

    def close(self) -> None:
        """Stop the worker thread (called by run_node before destroy_node)."""
        self._running = False
        self.frames.close()
        self.mailbox.close()
        self._worker.join(timeout=5.0)
        stats = {**self.stats, 'dropped': self.mailbox.drops}
        self.get_logger().info(
            'tracker stopped: ' + ', '.join(f'{k}={v}' for k, v in stats.items()))


def main(args: Optional[List[str]] = None) -> int:
    """Run the tracker node (``ros2 run samurai_tracker tracker_node``)."""
    return run_node(TrackerNode, __doc__ or '', args, threads=3)


if __name__ == '__main__':
    raise SystemExit(main())
