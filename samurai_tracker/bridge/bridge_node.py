"""camera_bridge_node: GStreamer camera in, annotated video out, health on /diagnostics.

Ingest (``source``): a file (mp4/mkv/raw h264/h265), an RTSP URL, a V4L2 device, a CSI
camera (Jetson) or a test pattern, decoded on NVDEC where ``nvv4l2decoder`` exists and in
software otherwise (the choice is logged at start-up). Frames are published with their
pipeline time mapped to ROS time. A source that fails or goes silent is rebuilt with
capped exponential backoff without restarting the node.

Output (``output``): each frame is drawn with the track computed on it (matched by stamp),
encoded on NVENC or with x264 (zero latency), and sent as RTP/UDP, served over RTSP
(optionally behind a login), or written to a file.

Publications
------------
``image`` (sensor_msgs/Image, reliable, keep last 1)
    Decoded frames in ``encoding``; through the ``frame_transport`` seam (``composed``
    hands frames to in-process nodes by reference).
``camera_info`` (sensor_msgs/CameraInfo)
    With every frame, same stamp, when ``calibration_file`` is set.
``~/overlay`` (sensor_msgs/Image, rgb8)
    The annotated frame the output encodes, published only while someone subscribes
    (RViz, ``ros2 bag record``).
``/diagnostics`` (diagnostic_msgs/DiagnosticArray)
    Every ``diagnostics_period_s``: ingest (fps, frames, drops, reconnects,
    last_frame_age_s, last_error, chosen elements) and output (frames sent, drops,
    errors) status.

Subscriptions
-------------
``track_status`` (samurai_interfaces/TrackStatus)
    The fused track per image (state, confidence, track id, box); drawn on the frame
    with the same stamp. Remap it to the fusion (or tracker) node's status topic.
``detections`` (vision_msgs/Detection2DArray)
    Drawn thin when ``draw_detections`` is true.
``mask`` (sensor_msgs/Image, mono8)
    Target mask, tinted when ``draw_mask`` is true.
``image`` (sensor_msgs/Image)
    Only when ``source`` is ``none``: frames to annotate come from this topic.

Parameters (read-only unless noted)
-----------------------------------
``source`` file path | rtsp://[user:pw@]host[:port]/path | /dev/videoN | csi://N |
test://[pattern] | none. ``frame_id``, ``encoding`` (rgb8 | bgr8 | mono8),
``frame_transport`` (standard | composed | nitros), ``loop`` (files: start again at
the end), ``realtime`` (files/test: native rate, else as fast as possible), ``width``,
``height``, ``fps`` (capture request for cameras/test; 0 = default),
``rtsp_latency_ms``, ``rtsp_tcp``, ``calibration_file``, ``watchdog_timeout_s``,
``reconnect_initial_s``, ``reconnect_max_s``.
``output`` (none | udp | rtsp | file), ``output_host``, ``output_port``,
``output_mount``, ``output_path``, ``output_codec`` (h264 | h265),
``output_bitrate_kbps``, ``output_keyframe_interval``, ``output_fps``,
``output_rtsp_user`` and ``output_rtsp_password_env`` (name of the environment variable
holding the password; the password itself is never a parameter).
``overlay_max_wait_s``, ``overlay_max_pending``, ``draw_detections``, ``draw_mask``,
``diagnostics_period_s``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, List, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from samurai_tracker.bridge.backoff import BackoffPolicy
from samurai_tracker.bridge.calibration import CameraCalibration, load_calibration
from samurai_tracker.bridge.frames import Frame, ImageEncoding, LatestFrameMailbox
from samurai_tracker.bridge.gst_build import probe_registry
from samurai_tracker.bridge.health import StreamHealth
from samurai_tracker.bridge.ingest import Ingest
from samurai_tracker.bridge.output import OutputStream
from samurai_tracker.bridge.overlay import draw_overlay
from samurai_tracker.bridge.rtsp_output import RtspServerOutput
from samurai_tracker.bridge.specs import (
    OutputKind, OutputSpec, parse_source, RtspCredentials, SourceKind)
from samurai_tracker.bridge.stamp_match import MatchedFrame, StampMatcher
from samurai_tracker.ros import (declare, detections_from_msg, image_to_rgb, ImageError,
                                 IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image, run_node,
                                 stamp_to_ns, status_to_track)
from samurai_tracker.ros.frame_transport import (FRAME_TRANSPORTS, FramePublisher,
                                                 FrameSubscriber)
from samurai_tracker.transport import Frame as TransportFrame, to_host

__all__ = ['CameraBridgeNode', 'main']


class CameraBridgeNode(Node):
    """The camera bridge: ingest pipeline -> ``image``; tracks + frames -> output stream."""

    def __init__(self) -> None:
        super().__init__('camera_bridge')
        source = declare(self, 'source', 'test://smpte', 'Video source (see --help)',
                         read_only=True)
        self.frame_id = declare(self, 'frame_id', 'camera', 'frame_id of published images',
                                read_only=True)
        encoding = declare(self, 'encoding', 'rgb8', 'Encoding of published images',
                           choices=('rgb8', 'bgr8', 'mono8'), read_only=True)
        transport = declare(self, 'frame_transport', 'standard', 'How frames reach other '
                            'nodes', choices=FRAME_TRANSPORTS, read_only=True)
        loop = declare(self, 'loop', False, 'Files: start again at the end', read_only=True)
        realtime = declare(self, 'realtime', True, 'Files/test pattern: play at the native '
                           'rate (false: as fast as possible)', read_only=True)
        width = declare(self, 'width', 0, 'Capture width, px (0 = default)',
                        value_range=(0, 16384), read_only=True)
        height = declare(self, 'height', 0, 'Capture height, px (0 = default)',
                         value_range=(0, 16384), read_only=True)
        fps = declare(self, 'fps', 0.0, 'Capture rate, frames/s (0 = default)',
                      value_range=(0.0, 1000.0), read_only=True)
        latency = declare(self, 'rtsp_latency_ms', 100, 'RTSP jitter buffer, ms',
                          value_range=(0, 10000), read_only=True)
        rtsp_tcp = declare(self, 'rtsp_tcp', True, 'RTSP: RTP over TCP', read_only=True)
        calibration_file = declare(self, 'calibration_file', '', 'Camera calibration YAML '
                                   '(publishes camera_info when set)', read_only=True)
        watchdog_s = declare(self, 'watchdog_timeout_s', 5.0, 'Seconds without a frame '
                             'before the source is restarted', value_range=(0.1, 600.0),
                             read_only=True)
        initial_s = declare(self, 'reconnect_initial_s', 0.5, 'First reconnect delay, s',
                            value_range=(0.01, 60.0), read_only=True)
        max_s = declare(self, 'reconnect_max_s', 10.0, 'Longest reconnect delay, s',
                        value_range=(0.01, 3600.0), read_only=True)
        output = declare(self, 'output', 'none', 'Annotated video output',
                         choices=tuple(k.value for k in OutputKind), read_only=True)
        out_host = declare(self, 'output_host', '127.0.0.1', 'UDP destination, or RTSP '
                           'bind address', read_only=True)
        out_port = declare(self, 'output_port', 5600, 'UDP port or RTSP server port',
                           value_range=(1, 65535), read_only=True)
        out_mount = declare(self, 'output_mount', '/track', 'RTSP mount point', read_only=True)
        out_path = declare(self, 'output_path', '', 'Output file (.mp4 .mkv .ts .h264 '
                           '.h265)', read_only=True)
        out_codec = declare(self, 'output_codec', 'h264', 'Output codec',
                            choices=('h264', 'h265'), read_only=True)
        out_kbps = declare(self, 'output_bitrate_kbps', 2000, 'Output bit rate, kbit/s',
                           value_range=(64, 100000), read_only=True)
        out_gop = declare(self, 'output_keyframe_interval', 30, 'Frames between key frames',
                          value_range=(1, 600), read_only=True)
        out_fps = declare(self, 'output_fps', 30.0, 'Nominal output rate, frames/s',
                          value_range=(1.0, 1000.0), read_only=True)
        rtsp_user = declare(self, 'output_rtsp_user', '', 'RTSP output login user (empty: '
                            'no login)', read_only=True)
        password_env = declare(self, 'output_rtsp_password_env', 'SAMURAI_RTSP_PASSWORD',
                               'Environment variable holding the RTSP output password',
                               read_only=True)
        max_wait = declare(self, 'overlay_max_wait_s', 0.5, 'Longest a frame waits for its '
                           'track before it is sent with the last one (drawn thin), s',
                           value_range=(0.0, 60.0))
        max_pending = declare(self, 'overlay_max_pending', 30, 'Frames kept waiting for '
                              'their track', value_range=(1, 1000), read_only=True)
        self.draw_detections = declare(self, 'draw_detections', False,
                                       'Draw detector boxes on the output')
        self.draw_mask = declare(self, 'draw_mask', False, 'Tint the target mask on the output')
        period = declare(self, 'diagnostics_period_s', 1.0, 'Diagnostics period, s',
                         value_range=(0.1, 60.0), read_only=True)

        # Validate everything before creating anything (a bad parameter refuses to start).
        self.source = parse_source(
            source, width=width, height=height, fps=fps, loop=loop, realtime=realtime,
            rtsp_latency_ms=latency, rtsp_tcp=rtsp_tcp)
        credentials = None
        if rtsp_user:
            password = os.environ.get(password_env, '')
            if not password:
                raise ValueError(f'output_rtsp_user is set but the environment variable '
                                 f'{password_env!r} holding the password is empty or unset')
            credentials = RtspCredentials(rtsp_user, password)
        self.output_spec = OutputSpec(output, out_codec, out_kbps, out_host, out_port,
                                      out_mount, out_path, out_gop, credentials)
        self.calibration: Optional[CameraCalibration] = (
            load_calibration(calibration_file) if calibration_file else None)
        self.encoding = encoding
        registry = probe_registry()
        self.get_logger().info(
            'GStreamer elements: ' + ('NVIDIA hardware codecs present'
                                      if registry.hardware else 'software codecs only'))

        # Publishers.
        self.frame_pub = FramePublisher(self, 'image', transport, encoding)
        self.info_pub = (self.create_publisher(CameraInfo, 'camera_info', RESULT_QOS)
                         if self.calibration is not None else None)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.overlay_pub = self.create_publisher(Image, '~/overlay', IMAGE_QOS)

        # Output side.
        self._lock = threading.Lock()
        self.matcher = StampMatcher(max_pending, max_wait)
        self.output: Any = None
        log = self._log
        backoff = BackoffPolicy(initial_s, 2.0, max(max_s, initial_s))
        if self.output_spec.kind is OutputKind.RTSP:
            self.output = RtspServerOutput(self.output_spec, fps=out_fps, registry=registry,
                                           log=log)
        elif self.output_spec.kind is not OutputKind.NONE:
            self.output = OutputStream(self.output_spec, fps=out_fps, registry=registry,
                                       backoff=backoff, log=log)

        # Subscriptions.
        self.frame_sub: Optional[FrameSubscriber] = None
        if self.output is not None:
            self.create_subscription(TrackStatus, 'track_status', self._on_status, RESULT_QOS)
            self.create_subscription(Detection2DArray, 'detections', self._on_detections,
                                     RESULT_QOS)
            self.create_subscription(Image, 'mask', self._on_mask, IMAGE_QOS)
            if self.source.kind is SourceKind.NONE:
                self.frame_sub = FrameSubscriber(self, 'image', transport,
                                                 self._on_topic_frame, self._on_bad_image)

        # Ingest side.
        self.health = StreamHealth(stale_after_s=watchdog_s)
        self.mailbox: Optional[LatestFrameMailbox] = None
        self.ingest: Optional[Ingest] = None
        self._publisher_thread: Optional[threading.Thread] = None
        self._running = True
        if self.source.kind is not SourceKind.NONE:
            live = self.source.kind.live and self.source.kind is not SourceKind.TEST
            self.mailbox = LatestFrameMailbox() if live else None
            consumer = self.mailbox.put if self.mailbox is not None else self._on_ingest_frame
            self.ingest = Ingest(
                self.source, consumer, encoding=ImageEncoding.RGB8, registry=registry,
                backoff=backoff,
                watchdog_s=watchdog_s, health=self.health,
                now_ns=lambda: self.get_clock().now().nanoseconds, log=log)
            self.get_logger().info(f'source {self.source.describe()}: '
                                   f'{self.ingest.plan.describe()}')
            for note in self.ingest.plan.notes:
                self.get_logger().info(f'  {note}')
        if self.output is not None:
            self.get_logger().info(f'output {self.output_spec.describe()}')

        # Timers.
        self.create_timer(period, self._publish_diagnostics)
        if self.output is not None:
            self.create_timer(0.02, self._poll_matcher)
        if self.ingest is not None:
            if self.mailbox is not None:
                self._publisher_thread = threading.Thread(
                    target=self._drain_mailbox, name='bridge-publish', daemon=True)
                self._publisher_thread.start()
            self.ingest.start()

    # -- logging ------------------------------------------------------------------------
    def _log(self, level: str, text: str) -> None:
        logger = self.get_logger()
        {'info': logger.info, 'warn': logger.warning}.get(level, logger.error)(text)

    # -- ingest -> topics ---------------------------------------------------------------
    def _drain_mailbox(self) -> None:
        assert self.mailbox is not None
        while self._running:
            frame = self.mailbox.take(0.1)
            if frame is not None:
                self._on_ingest_frame(frame)

    def _on_ingest_frame(self, frame: Frame) -> None:
        stamp = ns_to_stamp(frame.stamp_ns)
        self.frame_pub.publish(TransportFrame(frame.image, frame.stamp_ns, self.frame_id))
        if self.info_pub is not None and self.calibration is not None:
            self.info_pub.publish(self._camera_info(stamp))
        if self.output is not None:
            self._add_frame(frame.stamp_ns, frame.image)

    def _camera_info(self, stamp: Any) -> CameraInfo:
        cal = self.calibration
        assert cal is not None
        msg = CameraInfo()
        msg.header = Header(stamp=stamp, frame_id=self.frame_id)
        msg.width, msg.height = cal.width, cal.height
        msg.distortion_model = cal.distortion_model
        msg.d = list(cal.d)
        msg.k, msg.r, msg.p = list(cal.k), list(cal.r), list(cal.p)
        return msg

    # -- output side --------------------------------------------------------------------
    def _on_topic_frame(self, frame: TransportFrame) -> None:
        self._add_frame(frame.stamp_ns, to_host(frame))

    def _on_bad_image(self, header: Header, reason: str) -> None:
        self.get_logger().warning(f'dropped image for the output: {reason}',
                                  throttle_duration_sec=5.0)

    def _add_frame(self, stamp_ns: int, image: Any) -> None:
        with self._lock:
            released = self.matcher.add_frame(stamp_ns, image, time.monotonic())
        self._send(released)

    def _on_status(self, msg: TrackStatus) -> None:
        try:
            track = status_to_track(msg)
        except ValueError as error:
            self.get_logger().warning(f'ignored a bad TrackStatus: {error}',
                                      throttle_duration_sec=5.0)
            return
        with self._lock:
            released = self.matcher.add_track(stamp_to_ns(msg.header.stamp), track)
        self._send(released)

    def _on_detections(self, msg: Detection2DArray) -> None:
        if not self.draw_detections:
            return
        try:
            detections, _ = detections_from_msg(msg)
        except ValueError as error:
            self.get_logger().warning(f'ignored bad detections: {error}',
                                      throttle_duration_sec=5.0)
            return
        with self._lock:
            self.matcher.add_detections(stamp_to_ns(msg.header.stamp), detections)

    def _on_mask(self, msg: Image) -> None:
        if not self.draw_mask:
            return
        try:
            mask = image_to_rgb(msg, allow_mono=True, min_side=1)[:, :, 0]
        except ImageError as error:
            self.get_logger().warning(f'ignored a bad mask: {error}', throttle_duration_sec=5.0)
            return
        with self._lock:
            self.matcher.add_mask(stamp_to_ns(msg.header.stamp), mask)

    def _poll_matcher(self) -> None:
        with self._lock:
            released = self.matcher.poll(time.monotonic())
        self._send(released)

    def _send(self, released: List[MatchedFrame]) -> None:
        for item in released:
            image = item.frame
            mask = item.mask if self.draw_mask else None
            if mask is not None and mask.shape != image.shape[:2]:
                mask = None
            try:
                drawn = draw_overlay(image, item.track, item.detections, mask,
                                     stale=item.stale)
                self.output.push(drawn, item.stamp_ns)
                if self.overlay_pub.get_subscription_count() > 0:  # RViz, rosbag record
                    header = Header(frame_id=self.frame_id, stamp=ns_to_stamp(item.stamp_ns))
                    self.overlay_pub.publish(rgb_to_image(drawn, header))
            except ValueError as error:
                self.get_logger().warning(f'output frame skipped: {error}',
                                          throttle_duration_sec=5.0)

    # -- diagnostics --------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        name = self.get_fully_qualified_name()
        if self.ingest is not None:
            snap = self.health.snapshot(time.monotonic())
            values = snap.as_dict()
            if self.mailbox is not None:
                values['drops'] = str(snap.drops + self.mailbox.drops)
            values['state'] = self.ingest.state.value
            values['pipeline'] = self.ingest.plan.describe()
            array.status.append(DiagnosticStatus(
                level=bytes([int(snap.level)]), name=f'{name}: ingest', message=snap.message,
                hardware_id=self.source.describe(),
                values=[KeyValue(key=k, value=v) for k, v in values.items()]))
        if self.output is not None:
            out = self.output
            errors = getattr(out, 'errors', 0)
            values = {'frames_sent': str(out.frames_sent), 'drops': str(out.drops),
                      'errors': str(errors), 'last_error': getattr(out, 'last_error', ''),
                      'matched_tracks': str(self.matcher.matched),
                      'frames_without_track': str(self.matcher.released_without_track)}
            if isinstance(out, RtspServerOutput):
                values['clients'] = str(out.clients)
            level = DiagnosticStatus.WARN if errors else DiagnosticStatus.OK
            array.status.append(DiagnosticStatus(
                level=level, name=f'{name}: output', message=self.output_spec.describe(),
                hardware_id=self.output_spec.kind.value,
                values=[KeyValue(key=k, value=v) for k, v in values.items()]))
        self.diag_pub.publish(array)

    # -- shutdown -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop the pipelines; a file output is finalised (EOS) so it stays playable."""
        self._running = False
        if self.ingest is not None:
            self.ingest.stop()
        if self.mailbox is not None:
            self.mailbox.close()
        if self.output is not None:
            with self._lock:
                released = self.matcher.flush()
            self._send(released)
            self.output.close()
        if self.frame_sub is not None:
            self.frame_sub.close()


def main(args: Optional[List[str]] = None) -> int:
    """Run the camera bridge node (``--help`` lists topics and parameters)."""
    return run_node(CameraBridgeNode, __doc__ or '', args)


if __name__ == '__main__':
    raise SystemExit(main())
