"""fusion_node: one honest fused track from the tracker and the detector, and the reseed loop.

Runs the ROS-free :class:`~samurai_fusion.fusion_filter.FusionFilter` (master
constant-velocity Kalman filter, flat pixel gate, OCCLUDED / LOST / REACQUIRED logic) on
messages matched by image stamp (:class:`~samurai_fusion.frame_sync.FrameSync`), and calls
the tracker's reseed service once per loss (or drift) event, backing off while the
service is missing (:class:`~samurai_fusion.reseed_scheduler.ReseedScheduler`).

Subscriptions
-------------
``tracker/status`` (samurai_interfaces/TrackStatus)
    The tracker's per-image status (the tracker node named ``tracker`` publishes it as
    ``~/status``); its box is the primary measurement.
``detections`` (vision_msgs/Detection2DArray)
    The detector's boxes; the best one of ``target_class`` inside the gate is the secondary
    measurement. Detections with non-finite values, non-positive sizes, non-numeric class
    ids or scores outside [0, 1] are counted and skipped.
``camera_info`` (sensor_msgs/CameraInfo)
    Optional; its width and height override ``image_width`` / ``image_height``.
``image`` (sensor_msgs/Image, reliable, keep last 1)
    Subscribed only while the image size is unknown (no ``image_width`` /
    ``image_height`` and no ``camera_info``): the first image's width and height are kept
    and the subscription is dropped, so the offset works out of the box at the cost of one
    image.

Publications (stamped with the image's stamp; frame id from the tracker's status)
---------------------------------------------------------------------------------
``~/status`` (samurai_interfaces/TrackStatus)
    State (TRACKED, OCCLUDED, LOST, REACQUIRED, or IDLE before the first lock), confidence
    in [0, 1] (0 when LOST or IDLE), source FUSED, frames since the last good measurement,
    the tracker's track id, the fused box, and a note. One per fused image stamp.
``~/track`` (vision_msgs/Detection2D)
    The fused box (``id`` = track id, ``results[0]`` = target class and confidence);
    published whenever a box exists (also while LOST: the last known box, confidence 0).
``~/target_offset`` (geometry_msgs/Vector3Stamped)
    For gimbal and follow loops: ``x``, ``y`` = box centre offset from the image centre as a
    fraction of the half-width / half-height, in [-1, 1], +x right, +y down; ``z`` = box
    area / image area in [0, 1] (a range cue). Published only while TRACKED, REACQUIRED or
    OCCLUDED and when the image size is known; never while LOST, so a loop holds still.

Service client
--------------
``reseed_service`` parameter (samurai_interfaces/Reseed, default ``tracker/reseed``)
    Called once per loss event with the best detection of ``target_class`` by
    ``seed_policy`` (or empty: the tracker takes the next detection), and once per drift
    event with the fused box.

Parameters
----------
``target_class`` (-1 = any), ``seed_policy`` (most_confident | nearest_center),
``gate_radius_px``, ``gate_growth_px_per_frame``, ``gate_max_radius_px``,
``use_mahalanobis_gate`` (off), ``mahalanobis_threshold``, ``tracker_full_std_px``,
``tracker_predicted_std_px``, ``detector_std_px``, ``centre_accel_std``,
``size_accel_std``, ``min_detection_score``, ``agree_iou``, ``lost_after_frames``,
``reacquire_frames``, ``drift_reseed_frames`` (all live; see
:class:`~samurai_fusion.config.FusionConfig` for units), ``reseed_service``
(read-only), ``reseed_initial_backoff_s``, ``reseed_max_backoff_s``,
``reseed_call_timeout_s`` (read-only), ``image_width``, ``image_height`` (pixels, 0 =
unknown until ``camera_info``), ``max_lag_frames``, ``stream_timeout_s``,
``max_stamp_jump_s`` (read-only: stamp matching), ``flush_after_s`` (release waiting
stamps after this long without input), ``tracker_timeout_s`` (only then fuse detections
that have no tracker status).
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from geometry_msgs.msg import Vector3Stamped
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from samurai_interfaces.msg import TrackStatus
from samurai_interfaces.srv import Reseed
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2D, Detection2DArray

from samurai_fusion.config import FusionConfig
from samurai_fusion.frame_sync import Admission, FrameSync, SyncedFrame
from samurai_fusion.fusion_filter import FusionFilter, ReseedRequest
from samurai_fusion.gating import GateConfig
from samurai_fusion.offset import target_offset
from samurai_fusion.reseed_scheduler import ReseedScheduler
from samurai_tracker.records import SeedPolicy, TrackState
from samurai_tracker.ros import box_to_msg, declare, detections_from_msg, IMAGE_QOS, \
    ns_to_stamp, RESULT_QOS, run_node, stamp_to_ns, status_to_track, track_to_detection, \
    track_to_status

# name -> (default, description, range); all of them map onto FusionConfig / GateConfig.
_FILTER_PARAMS: Dict[str, Tuple[Any, str, Optional[Tuple[float, float]]]] = {
    'gate_radius_px': (80.0, 'pixel gate radius around the prediction (px)', (1.0, 10000.0)),
    'gate_growth_px_per_frame': (4.0, 'gate growth per coasting frame (px)', (0.0, 1000.0)),
    'gate_max_radius_px': (200.0, 'largest gate radius (px)', (1.0, 10000.0)),
    'use_mahalanobis_gate': (False, 'gate on Mahalanobis distance instead (not advised)', None),
    'mahalanobis_threshold': (9.4877, 'squared Mahalanobis bound (chi2, 4 dof)', (0.1, 1000.0)),
    'tracker_full_std_px': (4.0, 'noise of full-inference tracker boxes (px)', (0.1, 1000.0)),
    'tracker_predicted_std_px': (12.0, 'noise of predicted tracker boxes (px)', (0.1, 1000.0)),
    'detector_std_px': (8.0, 'noise of detector boxes (px)', (0.1, 1000.0)),
    'centre_accel_std': (150.0, 'centre acceleration noise (px/s^2)', (0.0, 100000.0)),
    'size_accel_std': (100.0, 'size acceleration noise (px/s^2)', (0.0, 100000.0)),
    'min_detection_score': (0.3, 'detections below this score are ignored', (0.0, 1.0)),
    'agree_iou': (0.3, 'tracker/detection IoU below which they disagree', (0.0, 1.0)),
    'lost_after_frames': (10, 'frames without a good measurement before LOST', (1, 100000)),
    'reacquire_frames': (5, 'good frames published REACQUIRED after a reseed', (1, 100000)),
    'drift_reseed_frames': (10, 'frames of tracker-vs-detector disagreement before a '
                            'drift reseed', (1, 100000)),
}


class FusionNode(Node):
    """Thin ROS wrapper around :class:`samurai_fusion.fusion_filter.FusionFilter`."""

    def __init__(self) -> None:
        super().__init__('fusion')
        # ---- parameters -------------------------------------------------------------
        self.params: Dict[str, Any] = {
            'target_class': declare(self, 'target_class', 0,
                                    'detector class id to follow (-1: any class)',
                                    value_range=(-1, 100000)),
            'seed_policy': declare(self, 'seed_policy', SeedPolicy.MOST_CONFIDENT.value,
                                   'which detection a loss reseed names',
                                   choices=[p.value for p in SeedPolicy]),
        }
        for name, (default, description, value_range) in _FILTER_PARAMS.items():
            self.params[name] = declare(self, name, default, description,
                                        value_range=value_range)
        self.reseed_service = declare(self, 'reseed_service', 'tracker/reseed',
                                      "the tracker's Reseed service", read_only=True)
        backoff = declare(self, 'reseed_initial_backoff_s', 0.5,
                          'first wait after the reseed service was missing (s)',
                          value_range=(0.01, 60.0), read_only=True)
        max_backoff = declare(self, 'reseed_max_backoff_s', 8.0,
                              'longest wait between reseed attempts (s)',
                              value_range=(0.01, 600.0), read_only=True)
        call_timeout = declare(self, 'reseed_call_timeout_s', 5.0,
                               'an unanswered reseed call counts as missing after (s)',
                               value_range=(0.1, 600.0), read_only=True)
        self.image_size = (declare(self, 'image_width', 0, 'image width (px, 0 = unknown)',
                                   value_range=(0, 100000)),
                           declare(self, 'image_height', 0, 'image height (px, 0 = unknown)',
                                   value_range=(0, 100000)))
        max_lag = declare(self, 'max_lag_frames', 3,
                          'release a tracker-only stamp after this many newer ones',
                          value_range=(1, 1000), read_only=True)
        stream_timeout = declare(self, 'stream_timeout_s', 1.0,
                                 'stop waiting for a stream silent this long (s of stamps)',
                                 value_range=(0.01, 600.0), read_only=True)
        max_jump = declare(self, 'max_stamp_jump_s', 10.0,
                           'stamps further than this from the newest are rejected (s)',
                           value_range=(0.1, 1e6), read_only=True)
        self.flush_after_s = declare(self, 'flush_after_s', 0.5,
                                     'release waiting stamps after this long without input (s)',
                                     value_range=(0.01, 60.0))
        self.tracker_timeout_s = declare(
            self, 'tracker_timeout_s', 5.0, 'fuse detections without a tracker status once '
            'the tracker has been silent this long (s; the first frames of a CPU tracker are '
            'slow)', value_range=(0.01, 3600.0))
        # ---- core -------------------------------------------------------------------
        self.fusion = FusionFilter(self._config(self.params))
        self.sync = FrameSync(max_lag_frames=max_lag,
                              stream_timeout_ns=int(stream_timeout * 1e9),
                              max_future_ns=int(max_jump * 1e9), max_past_ns=int(max_jump * 1e9))
        self.scheduler = ReseedScheduler(backoff, max(backoff, max_backoff), call_timeout)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.counters: Dict[str, int] = {'bad_status': 0, 'bad_detections': 0,
                                         'reseed_calls': 0, 'reseed_accepted': 0}
        self._frame_id = ''
        self._last_input = time.monotonic()
        self._last_status = time.monotonic()
        self._warned_size = False
        # ---- publishers, subscriptions, clients, timers ------------------------------
        self.status_pub = self.create_publisher(TrackStatus, '~/status', RESULT_QOS)
        self.track_pub = self.create_publisher(Detection2D, '~/track', RESULT_QOS)
        self.offset_pub = self.create_publisher(Vector3Stamped, '~/target_offset', RESULT_QOS)
        self.create_subscription(TrackStatus, 'tracker/status', self._on_status, RESULT_QOS)
        self.create_subscription(Detection2DArray, 'detections', self._on_detections,
                                 RESULT_QOS)
        self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info, RESULT_QOS)
        self._size_sub: Any = None
        if self._known_size() is None:
            self._size_sub = self.create_subscription(Image, 'image', self._on_size_image,
                                                      IMAGE_QOS)
        self.reseed_client: Any = self.create_client(Reseed, self.reseed_service)
        # Wall-clock timer: under sim time a paused /clock must not stop the flush of
        # stamps whose other half will never come (ros2 bag play --clock, paused bags).
        self.create_timer(0.1, self._on_timer, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(
            f"fusion ready: target_class={self.params['target_class']} "
            f"gate={self.params['gate_radius_px']} px lost_after="
            f"{self.params['lost_after_frames']} frames, reseed via "
            f"'{self.reseed_client.srv_name}'")

    # ---- parameters ---------------------------------------------------------------------
    @staticmethod
    def _config(p: Dict[str, Any]) -> FusionConfig:
        gate = GateConfig(radius_px=float(p['gate_radius_px']),
                          growth_px_per_frame=float(p['gate_growth_px_per_frame']),
                          max_radius_px=max(float(p['gate_max_radius_px']),
                                            float(p['gate_radius_px'])),
                          use_mahalanobis=bool(p['use_mahalanobis_gate']),
                          mahalanobis_threshold=float(p['mahalanobis_threshold']))
        return FusionConfig(
            target_class=int(p['target_class']), gate=gate,
            tracker_full_std_px=float(p['tracker_full_std_px']),
            tracker_predicted_std_px=float(p['tracker_predicted_std_px']),
            detector_std_px=float(p['detector_std_px']),
            centre_accel_std=float(p['centre_accel_std']),
            size_accel_std=float(p['size_accel_std']),
            min_detection_score=float(p['min_detection_score']),
            agree_iou=float(p['agree_iou']), lost_after_frames=int(p['lost_after_frames']),
            reacquire_frames=int(p['reacquire_frames']),
            drift_reseed_frames=int(p['drift_reseed_frames']),
            seed_policy=SeedPolicy(p['seed_policy']))

    def _on_set_parameters(self, params: list) -> SetParametersResult:
        values = dict(self.params)
        for param in params:
            if param.name in values:
                values[param.name] = param.value
            elif param.name in ('flush_after_s', 'tracker_timeout_s'):
                setattr(self, param.name, float(param.value))
            elif param.name in ('image_width', 'image_height'):
                width, height = self.image_size
                self.image_size = (int(param.value), height) if param.name == 'image_width' \
                    else (width, int(param.value))
        try:
            config = self._config(values)
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        self.params = values
        self.fusion.config = config
        return SetParametersResult(successful=True)

    # ---- inputs ----------------------------------------------------------------------
    def _on_status(self, msg: TrackStatus) -> None:
        self._last_input = self._last_status = time.monotonic()
        try:
            track = status_to_track(msg)
        except ValueError as error:
            self.counters['bad_status'] += 1
            self.get_logger().warning(f'ignored tracker status: {error}',
                                      throttle_duration_sec=2.0)
            return
        if msg.header.frame_id:
            self._frame_id = msg.header.frame_id
        self._admitted(self.sync.add_track(stamp_to_ns(msg.header.stamp), track), 'status')
        self._drain()

    def _on_detections(self, msg: Detection2DArray) -> None:
        self._last_input = time.monotonic()
        detections, rejected = detections_from_msg(msg)
        if rejected:
            self.counters['bad_detections'] += len(rejected)
            self.get_logger().warning(f'ignored {len(rejected)} detection(s): {rejected[0]}',
                                      throttle_duration_sec=2.0)
        stamp = stamp_to_ns(msg.header.stamp)
        self._admitted(self.sync.add_detections(stamp, detections), 'detections')
        self._drain()

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if msg.width > 0 and msg.height > 0:
            self.image_size = (int(msg.width), int(msg.height))
            self._drop_size_subscription()

    def _on_size_image(self, msg: Image) -> None:
        if msg.width > 0 and msg.height > 0 and self._known_size() is None:
            self.image_size = (int(msg.width), int(msg.height))
            self.get_logger().info(f'image size {msg.width}x{msg.height} (from image)')
        self._drop_size_subscription()

    def _drop_size_subscription(self) -> None:
        if self._size_sub is not None and self._known_size() is not None:
            self.destroy_subscription(self._size_sub)
            self._size_sub = None

    def _admitted(self, verdict: Admission, what: str) -> None:
        if verdict == Admission.RESYNC:
            self.get_logger().warning('input stamps jumped: fusion restarted from IDLE')
            self.fusion.reset()
        elif verdict != Admission.ACCEPTED:
            self.get_logger().warning(f'ignored {verdict.value} {what} message',
                                      throttle_duration_sec=2.0)

    # ---- fusion ----------------------------------------------------------------------
    def _known_size(self) -> Optional[Tuple[int, int]]:
        width, height = self.image_size
        return (width, height) if width > 0 and height > 0 else None

    def _drain(self, frames: Optional[List[SyncedFrame]] = None) -> None:
        for frame in (frames if frames is not None else self.sync.pop_ready()):
            self._fuse(frame)

    def _fuse(self, frame: SyncedFrame) -> None:
        size = self._known_size()
        step = self.fusion.step(frame.stamp_ns, frame.track, frame.detections, size)
        header = Header(frame_id=self._frame_id, stamp=ns_to_stamp(frame.stamp_ns))
        track = step.track
        status = track_to_status(track, header)
        if step.note and not status.message:
            status.message = step.note
        self.status_pub.publish(status)
        if track.box is not None:
            class_id = '' if self.params['target_class'] < 0 else str(self.params['target_class'])
            self.track_pub.publish(track_to_detection(track, header, class_id))
        if track.box is not None and track.state in (TrackState.TRACKED, TrackState.REACQUIRED,
                                                     TrackState.OCCLUDED):
            if size is None:
                if not self._warned_size:
                    self._warned_size = True
                    self.get_logger().warning('image size unknown (set image_width and '
                                              'image_height, or publish camera_info or '
                                              'image): ~/target_offset is not published')
            else:
                offset = Vector3Stamped(header=header)
                offset.vector.x, offset.vector.y, offset.vector.z = target_offset(track.box,
                                                                                  *size)
                self.offset_pub.publish(offset)
        if step.reseed is not None:
            self.get_logger().warning(f'{step.reseed.kind} event {step.reseed.event}: '
                                      f'{step.reseed.reason}; reseeding the tracker')
            self.scheduler.request(step.reseed)
        if track.state in (TrackState.TRACKED, TrackState.REACQUIRED):
            self.scheduler.cancel('loss')
        self._call_reseed()

    # ---- reseed ------------------------------------------------------------------------
    def _call_reseed(self) -> None:
        now = time.monotonic()
        request = self.scheduler.due(now, self.reseed_client.service_is_ready())
        if request is None:
            return
        srv = Reseed.Request()
        srv.use_box = request.use_box
        srv.box = box_to_msg(request.box)
        srv.class_id = request.class_id
        srv.stamp = ns_to_stamp(request.stamp_ns)
        srv.reason = request.reason
        self.counters['reseed_calls'] += 1
        future = self.reseed_client.call_async(srv)
        future.add_done_callback(lambda done: self._on_reseed_answer(request, done))

    def _on_reseed_answer(self, request: ReseedRequest, future: Any) -> None:
        try:
            response = future.result()
        except Exception as error:  # a failed call is reported like a refusal
            self.get_logger().error(f'reseed call failed: {error!r}')
            self.scheduler.answered(request, False, time.monotonic())
            return
        accepted = bool(response is not None and response.accepted)
        self.scheduler.answered(request, accepted, time.monotonic())
        if accepted:
            self.counters['reseed_accepted'] += 1
            self.get_logger().info(f'reseed accepted: track {response.track_id}: '
                                   f'{response.message}')
        else:
            reason = response.message if response is not None else 'no response'
            self.get_logger().warning(f'reseed refused: {reason}')

    def _on_timer(self) -> None:
        now = time.monotonic()
        if len(self.sync) and now - self._last_input > self.flush_after_s:
            self._drain(self.sync.flush(
                detections_only=now - self._last_status > self.tracker_timeout_s))
        self._call_reseed()

    def close(self) -> None:
        """Log the counters (called by run_node before destroy_node)."""
        counts = {**self.fusion.counters, **self.counters,
                  **{f'sync_{k}': v for k, v in self.sync.counters.items()},
                  **{f'reseed_{k}': v for k, v in self.scheduler.counters.items()}}
        self.get_logger().info('fusion stopped: ' + ', '.join(
            f'{k}={v}' for k, v in counts.items() if v))


def main(args: Optional[List[str]] = None) -> int:
    """Run the fusion node (``ros2 run samurai_tracker fusion_node``)."""
    return run_node(FusionNode, __doc__ or '', args)


if __name__ == '__main__':
    raise SystemExit(main())
