"""Frames handed between nodes: the Frame record and the in-process bus (ROS-free)."""

from samurai_tracker.transport.bus import FRAME_BUS, FrameBus
from samurai_tracker.transport.frame import Frame, to_host

__all__ = ['FRAME_BUS', 'Frame', 'FrameBus', 'to_host']
