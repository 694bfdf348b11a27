"""Frames handed between nodes: the Frame record and the in-process bus (ROS-free)."""

from samurai_tracker.transport.bus import FRAME_BUS, FrameBus
from samurai_tracker.transport.frame import Frame, to_host
from samurai_tracker.transport.mailbox import LatestFrameMailbox

__all__ = ['FRAME_BUS', 'Frame', 'FrameBus', 'LatestFrameMailbox', 'to_host']
