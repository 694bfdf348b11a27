"""The camera bridge node in its own process, over real ROS 2 and real GStreamer."""

import os
import socket
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
from samurai_interfaces.msg import TrackStatus
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from samurai_tracker.bridge.overlay import STATE_COLOURS
from samurai_tracker.records import Box, BoxSource, Track, TrackState
from samurai_tracker.ros import IMAGE_QOS, ns_to_stamp, RESULT_QOS, rgb_to_image, stamp_to_ns
from samurai_tracker.ros import track_to_status
from samurai_tracker.synthetic import SyntheticClip

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bridge_media import encode_clip, free_udp_port, RtpReceiver  # noqa: E402,I100
from ros_harness import NodeProcess, RosClient, wait_until  # noqa: E402,I100

NODE = 'samurai_tracker.bridge.bridge_node'
CLIP = SyntheticClip(num_frames=30, width=320, height=240, seed=5)


def _free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def _diag_value(arrays, suffix, key):
    for array in reversed(arrays):
        for status in array.status:
            if status.name.endswith(suffix):
                return {kv.key: kv.value for kv in status.values}.get(key)
    return None


def test_node_publishes_decoded_file_frames_with_monotonic_stamps(tmp_path):
    path = encode_clip(CLIP, str(tmp_path / 'clip.mp4'))
    params = {'source': path, 'loop': True, 'realtime': True, 'encoding': 'bgr8',
              'frame_id': 'cam0'}
    with NodeProcess(NODE, name='bridge', params=params) as proc, RosClient() as ros:
        images = ros.subscribe(Image, '/image', IMAGE_QOS)
        diagnostics = ros.subscribe(DiagnosticArray, '/diagnostics', 10)
        assert wait_until(lambda: len(images) >= 20, 40), proc.output
        frames = list(images)
        assert all((m.width, m.height, m.encoding) == (320, 240, 'bgr8') for m in frames)
        assert all(m.header.frame_id == 'cam0' and m.step == 320 * 3 for m in frames)
        stamps = [stamp_to_ns(m.header.stamp) for m in frames]
        assert all(b > a for a, b in zip(stamps, stamps[1:]))
        # Native-rate playback: stamps advance about one frame interval (33 ms) apiece.
        spacing = np.median(np.diff(stamps)) / 1e6
        assert 15 < spacing < 60, spacing
        pixels = np.frombuffer(frames[-1].data, np.uint8).reshape(240, 320, 3)
        assert pixels.std() > 10                   # real picture content, not a blank
        assert wait_until(lambda: _diag_value(diagnostics, ': ingest', 'fps') is not None, 10)
        assert float(_diag_value(diagnostics, ': ingest', 'fps')) > 10
        assert proc.alive()
        assert proc.stop() == 0, proc.output


def test_node_overlays_tracks_by_stamp_and_streams_rtp():
    port = free_udp_port()
    receiver = RtpReceiver(port)
    params = {'source': 'none', 'output': 'udp', 'output_host': '127.0.0.1',
              'output_port': port, 'output_bitrate_kbps': 4000, 'overlay_max_wait_s': 0.3}
    box = Box.from_xyxy(60, 50, 200, 170)
    track = Track(TrackState.OCCLUDED, BoxSource.FUSED, box, 0.4, 11)
    try:
        with NodeProcess(NODE, name='bridge', params=params) as proc, RosClient() as ros:
            images = ros.publisher(Image, '/image', IMAGE_QOS)
            statuses = ros.publisher(TrackStatus, '/track_status', RESULT_QOS)
            assert ros.wait_for_subscribers(images, 1, 30), proc.output
            assert ros.wait_for_subscribers(statuses, 1, 30), proc.output
            for index in range(CLIP.num_frames):
                header = Header(stamp=ns_to_stamp(10**9 + CLIP.stamp_ns(index)), frame_id='c')
                images.publish(rgb_to_image(CLIP.frame(index), header))
                statuses.publish(track_to_status(track, header))
                time.sleep(1 / 30)
            frames = receiver.collect(20, timeout_s=20)
            assert len(frames) >= 20, proc.output
            assert proc.stop() == 0, proc.output
    finally:
        receiver.close()
    orange = np.array(STATE_COLOURS[TrackState.OCCLUDED])
    last = frames[-1].astype(int)
    edge = last[100:120, 60:62].reshape(-1, 3)      # left box edge (3 px line at x=59..61)
    inside = last[100:120, 120:122].reshape(-1, 3)
    assert np.abs(edge - orange).max(axis=1).mean() < 60, edge[:3]
    assert np.abs(inside - orange).max(axis=1).mean() > 60


def test_node_reconnects_to_an_rtsp_server_that_restarts():
    port = _free_tcp_port()
    helper = [sys.executable, os.path.join(HERE, 'rtsp_server_helper.py'), str(port)]

    def serve():
        server = subprocess.Popen(helper, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert server.stdout is not None and b'serving' in server.stdout.readline()
        return server

    server = serve()
    params = {'source': f'rtsp://127.0.0.1:{port}/clip', 'watchdog_timeout_s': 2.0,
              'reconnect_initial_s': 0.2, 'reconnect_max_s': 1.0, 'rtsp_latency_ms': 50,
              'diagnostics_period_s': 0.2}
    try:
        with NodeProcess(NODE, name='bridge', params=params) as proc, RosClient() as ros:
            images = ros.subscribe(Image, '/image', IMAGE_QOS)
            diagnostics = ros.subscribe(DiagnosticArray, '/diagnostics', 10)
            assert wait_until(lambda: len(images) >= 10, 40), proc.output
            assert images[-1].width == 320
            server.terminate()
            server.wait(10)
            reconnects = lambda: int(_diag_value(diagnostics, ': ingest', 'reconnects') or 0)  # noqa
            assert wait_until(lambda: reconnects() >= 1, 20), proc.output
            before = len(images)
            time.sleep(1.0)
            server = serve()
            assert wait_until(lambda: len(images) >= before + 10, 40), proc.output
            assert proc.alive()
            ingest = [s for a in diagnostics[-3:] for s in a.status if s.name.endswith('ingest')]
            assert ingest and ingest[-1].level == b'\x00', ingest[-1]
            assert reconnects() >= 1
            assert proc.stop() == 0, proc.output
    finally:
        server.terminate()
        server.wait(10)


def test_node_refuses_a_malformed_source_and_keeps_retrying_a_missing_device():
    with NodeProcess(NODE, name='bad', params={'source': 'rtsp://cam/x ! fakesink'}) as proc:
        assert proc.wait_exit(30) == 2, proc.output
        assert 'white space' in proc.output
    params = {'source': '/dev/video_missing', 'reconnect_initial_s': 0.1,
              'reconnect_max_s': 0.3, 'diagnostics_period_s': 0.2}
    with NodeProcess(NODE, name='bridge', params=params) as proc, RosClient() as ros:
        diagnostics = ros.subscribe(DiagnosticArray, '/diagnostics', 10)
        assert wait_until(lambda: int(_diag_value(diagnostics, ': ingest', 'reconnects')
                                      or 0) >= 3, 30), proc.output
        assert proc.alive()
        assert 'reconnecting in' in proc.output
        assert proc.stop() == 0, proc.output


@pytest.mark.parametrize('arg', ['--help'])
def test_node_help_lists_topics(arg):
    out = subprocess.run([sys.executable, '-m', NODE, arg], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and 'track_status' in out.stdout and '/diagnostics' in out.stdout
