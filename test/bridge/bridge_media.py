"""Test helpers: encode generated clips, receive RTP independently, serve RTSP.

These use plain GStreamer (``gst_init`` from the bridge only to initialise it once) and
build their own pipelines, so they check the bridge from the outside. Clips are encoded
by :func:`samurai_tracker.synthetic.encode_clip` (re-exported here).
"""

from __future__ import annotations

import socket
import time
from typing import List

import numpy as np

from samurai_tracker.bridge.gst_build import gst_init
from samurai_tracker.synthetic import encode_clip  # noqa: F401  (re-exported for the tests)


def _make(gst, factory, **props):
    element = gst.ElementFactory.make(factory, None)
    assert element is not None, factory
    for key, value in props.items():
        element.set_property(key.replace('_', '-'), value)
    return element


def free_udp_port() -> int:
    """Return a UDP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


class RtpReceiver:
    """``udpsrc ! rtph264depay ! avdec_h264 ! appsink`` on 127.0.0.1, in this process."""

    def __init__(self, port: int) -> None:
        gst = gst_init()
        self.gst = gst
        self.pipeline = gst.Pipeline.new('receiver')
        rtp = gst.Caps.from_string('application/x-rtp,media=video,encoding-name=H264,'
                                   'clock-rate=90000,payload=96')
        self.sink = _make(gst, 'appsink', sync=False, max_buffers=10000,
                          caps=gst.Caps.from_string('video/x-raw,format=RGB'))
        chain = [_make(gst, 'udpsrc', port=port, address='127.0.0.1', caps=rtp),
                 _make(gst, 'rtpjitterbuffer', latency=50), _make(gst, 'rtph264depay'),
                 _make(gst, 'h264parse'), _make(gst, 'avdec_h264'), _make(gst, 'videoconvert'),
                 self.sink]
        for element in chain:
            self.pipeline.add(element)
        for up, down in zip(chain, chain[1:]):
            assert up.link(down)
        self.pipeline.set_state(gst.State.PLAYING)

    def collect(self, count: int, timeout_s: float) -> List[np.ndarray]:
        """Decode until ``count`` frames arrived or ``timeout_s`` passed."""
        frames: List[np.ndarray] = []
        deadline = time.monotonic() + timeout_s
        while len(frames) < count and time.monotonic() < deadline:
            sample = self.sink.try_pull_sample(100 * self.gst.MSECOND)
            if sample is None:
                continue
            structure = sample.get_caps().get_structure(0)
            width = structure.get_value('width')
            height = structure.get_value('height')
            buffer = sample.get_buffer()
            data = buffer.extract_dup(0, buffer.get_size())
            stride = len(data) // height
            rows = np.frombuffer(data, np.uint8).reshape(height, stride)[:, :width * 3]
            frames.append(rows.reshape(height, width, 3).copy())
        return frames

    def close(self) -> None:
        """Stop the receiver."""
        self.pipeline.set_state(self.gst.State.NULL)
