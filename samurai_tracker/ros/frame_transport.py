"""The frame-transport seam used by the camera bridge, the detector and the tracker.

Nodes never create image publishers or subscriptions themselves; they ask for a
:class:`FramePublisher` / :class:`FrameSubscriber` with the ``frame_transport`` parameter:

``standard``
    sensor_msgs/Image over DDS. The publisher serialises a frame only while someone
    subscribes (a node in another process, RViz, ``ros2 bag record``).
``composed``
    All nodes in one process (``samurai_pipeline``): frames go through the in-process
    :data:`~samurai_tracker.transport.FRAME_BUS` by reference, host or device arrays alike;
    sensor_msgs/Image is still published for outside subscribers (RViz, rosbag).
``nitros``
    Isaac ROS PyNITROS (``isaac_ros_pynitros``, NitrosBridgeImage): GPU frames cross
    processes as CUDA IPC handles. Needs Isaac ROS; it cannot run on CPU-only machines, so
    it is the one transport not exercised by CI. The seam is one class per transport, so
    the ROS 2 ``rosidl::Buffer`` CUDA backend NITROS is moving to fits as a fourth one.

Small messages (detections, tracks, status) always travel as ordinary topics.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from samurai_tracker.ros.conversions import ns_to_stamp, stamp_to_ns
from samurai_tracker.ros.images import image_to_rgb, ImageError, rgb_to_image
from samurai_tracker.ros.qos import IMAGE_QOS
from samurai_tracker.transport import Frame, FRAME_BUS, to_host

__all__ = ['FRAME_TRANSPORTS', 'FramePublisher', 'FrameSubscriber', 'resolve_topic']

FRAME_TRANSPORTS = ('standard', 'composed', 'nitros')

FrameHandler = Callable[[Frame], None]
ErrorHandler = Callable[[Header, str], None]


def resolve_topic(node: Node, topic: str) -> str:
    """Fully qualified name of ``topic`` for ``node`` (handles relative and ``~`` names)."""
    if topic.startswith('/'):
        return topic
    namespace = node.get_namespace().rstrip('/')
    if topic.startswith('~'):
        return f'{namespace}/{node.get_name()}{topic[1:]}'
    return f'{namespace}/{topic}'


def _import_pynitros() -> Any:
    try:
        from isaac_ros_nitros_bridge_interfaces.msg import NitrosBridgeImage
        from isaac_ros_pynitros.isaac_ros_pynitros_publisher import PyNitrosPublisher
        from isaac_ros_pynitros.isaac_ros_pynitros_subscriber import PyNitrosSubscriber
        from isaac_ros_pynitros.pynitros_type_builders.pynitros_image_builder import (
            PyNitrosImageBuilder)
    except ImportError as error:
        raise ValueError("frame_transport 'nitros' needs Isaac ROS (isaac_ros_pynitros and "
                         "isaac_ros_nitros_bridge_interfaces); use 'composed' or "
                         "'standard' on this machine") from error
    return NitrosBridgeImage, PyNitrosPublisher, PyNitrosSubscriber, PyNitrosImageBuilder


class _CudaImage:
    """A device pointer with shape and strides, exposed as ``__cuda_array_interface__``."""

    def __init__(self, pointer: int, height: int, width: int, stride: int) -> None:
        self.__cuda_array_interface__ = {
            'shape': (height, width, 3), 'typestr': '|u1', 'data': (int(pointer), True),
            'strides': (stride, 3, 1), 'version': 3}


class FramePublisher:
    """Publish frames on ``topic`` with the chosen transport.

    Parameters
    ----------
    node : rclpy.node.Node
    topic : str
        Topic name (relative names follow the node's namespace).
    transport : str
        One of :data:`FRAME_TRANSPORTS`.
    encoding : str
        Encoding of the sensor_msgs/Image copies (rgb8 or bgr8).

    """

    def __init__(self, node: Node, topic: str, transport: str = 'standard',
                 encoding: str = 'rgb8') -> None:
        if transport not in FRAME_TRANSPORTS:
            raise ValueError(f"frame_transport must be one of {FRAME_TRANSPORTS}, "
                             f"got '{transport}'")
        self.transport = transport
        self.encoding = encoding
        self.topic = resolve_topic(node, topic)
        self.published = 0
        self._nitros: Optional[Any] = None
        if transport == 'nitros':
            bridge_type, publisher, _, builder = _import_pynitros()
            self._nitros = (publisher(node, bridge_type, self.topic + '/nitros', self.topic),
                            builder(num_buffer=40, timeout=5))
            self._ros = None
        else:
            self._ros = node.create_publisher(Image, topic, IMAGE_QOS)

    def subscriber_count(self) -> int:
        """Count the subscribers that will receive the next frame (in-process and DDS)."""
        count = FRAME_BUS.subscriber_count(self.topic) if self.transport == 'composed' else 0
        if self._ros is not None:
            count += self._ros.get_subscription_count()
        return count

    def publish(self, frame: Frame) -> None:
        """Hand ``frame`` to every subscriber; serialise only for DDS subscribers."""
        self.published += 1
        if self._nitros is not None:
            publisher, builder = self._nitros
            header = Header(frame_id=frame.frame_id, stamp=ns_to_stamp(frame.stamp_ns))
            width, height = frame.size
            built = builder.build(frame.pixels, height, width, width * 3, 'rgb8', header, 0,
                                  False)
            publisher.publish(built)
            return
        if self.transport == 'composed':
            FRAME_BUS.publish(self.topic, frame)
        assert self._ros is not None
        if self._ros.get_subscription_count() > 0:
            header = Header(frame_id=frame.frame_id, stamp=ns_to_stamp(frame.stamp_ns))
            self._ros.publish(rgb_to_image(to_host(frame), header, self.encoding))


class FrameSubscriber:
    """Receive frames from ``topic`` with the chosen transport.

    Parameters
    ----------
    node : rclpy.node.Node
    topic : str
    transport : str
        One of :data:`FRAME_TRANSPORTS`.
    on_frame : callable
        Called with each :class:`Frame` (keep it cheap: store and return).
    on_error : callable
        Called with the image header and a reason when an image message is unusable
        (bad encoding, size, step); such images never reach ``on_frame``.
    callback_group : rclpy callback group, optional
    allow_mono : bool
        Accept mono8 images (replicated to RGB); the tracker refuses them.

    """

    def __init__(self, node: Node, topic: str, transport: str, on_frame: FrameHandler,
                 on_error: ErrorHandler, callback_group: Any = None,
                 allow_mono: bool = False) -> None:
        if transport not in FRAME_TRANSPORTS:
            raise ValueError(f"frame_transport must be one of {FRAME_TRANSPORTS}, "
                             f"got '{transport}'")
        self.transport = transport
        self.topic = resolve_topic(node, topic)
        self._on_frame = on_frame
        self._on_error = on_error
        self._allow_mono = allow_mono
        self._unsubscribe: Optional[Callable[[], None]] = None
        if transport == 'composed':
            self._unsubscribe = FRAME_BUS.subscribe(self.topic, on_frame)
        elif transport == 'nitros':
            bridge_type, _, subscriber, _ = _import_pynitros()
            self._nitros = subscriber(node, bridge_type, self.topic + '/nitros',
                                      enable_ros_subscribe=False)
            self._nitros.create_subscription(self._on_nitros)
        else:
            node.create_subscription(Image, topic, self._on_image, IMAGE_QOS,
                                     callback_group=callback_group)

    def _on_image(self, msg: Image) -> None:
        try:
            pixels = image_to_rgb(msg, allow_mono=self._allow_mono)
        except ImageError as error:
            self._on_error(msg.header, str(error))
            return
        self._on_frame(Frame(pixels, stamp_to_ns(msg.header.stamp), msg.header.frame_id))

    def _on_nitros(self, view: Any) -> None:
        if view.get_encoding() != 'rgb8':
            header = Header(frame_id=view.get_frame_id())
            self._on_error(header, f"unsupported NITROS encoding '{view.get_encoding()}'")
            return
        stamp = int(view.get_timestamp_seconds()) * 1_000_000_000 + int(
            view.get_timestamp_nanoseconds())
        pixels = _CudaImage(view.get_buffer(), view.get_height(), view.get_width(),
                            view.get_stride())
        self._on_frame(Frame(pixels, stamp, view.get_frame_id()))

    def close(self) -> None:
        """Stop receiving (composed mode unregisters from the bus)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
