"""Real GStreamer: decode an x264-encoded generated clip, send RTP and receive it back."""

import os
import socket
import sys
import time

import numpy as np
import pytest

from samurai_tracker.bridge.calibration import load_calibration
from samurai_tracker.bridge.frames import ImageEncoding
from samurai_tracker.bridge.gst_build import gst_init, probe_registry
from samurai_tracker.bridge.ingest import Ingest
from samurai_tracker.bridge.output import OutputStream
from samurai_tracker.bridge.overlay import draw_overlay, STATE_COLOURS
from samurai_tracker.bridge.specs import OutputSpec, parse_source
from samurai_tracker.records import Box, BoxSource, Track, TrackState
from samurai_tracker.synthetic import SyntheticClip

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridge_media import encode_clip, free_udp_port, RtpReceiver  # noqa: E402,I100

CLIP = SyntheticClip(num_frames=30, width=320, height=240, seed=4)


@pytest.fixture(scope='module')
def clip_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('clips')
    return {fmt: encode_clip(CLIP, str(folder / f'clip.{fmt}'))
            for fmt in ('mp4', 'mkv', 'h264')}


def test_probe_finds_the_software_chain_here():
    registry = probe_registry()
    assert registry.has('x264enc') and registry.has('avdec_h264')
    assert not registry.hardware or registry.has('nvv4l2decoder')


@pytest.mark.parametrize('fmt', ['mp4', 'mkv', 'h264'])
def test_ingest_decodes_every_frame_of_a_file_with_monotonic_stamps(clip_files, fmt):
    frames = []
    ingest = Ingest(parse_source(clip_files[fmt], realtime=False), frames.append,
                    encoding=ImageEncoding.BGR8)
    ingest.start()
    assert ingest.wait_finished(20), ingest.health.snapshot(time.monotonic())
    ingest.stop()
    assert len(frames) == CLIP.num_frames
    assert all(f.image.shape == (240, 320, 3) for f in frames)
    stamps = [f.stamp_ns for f in frames]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    # Decoded content matches the clip (lossy codec: compare means), BGR order honoured.
    rgb = CLIP.frame(10).astype(float)
    decoded = frames[10].image[:, :, ::-1].astype(float)
    assert np.abs(decoded - rgb).mean() < 12
    assert ingest.health.snapshot(time.monotonic()).reconnects == 0


def test_looping_file_keeps_going_and_realtime_paces_frames(clip_files):
    frames = []
    ingest = Ingest(parse_source(clip_files['mp4'], loop=True, realtime=False), frames.append)
    ingest.start()
    deadline = time.monotonic() + 20
    while len(frames) < 2 * CLIP.num_frames + 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    ingest.stop()
    assert len(frames) > 2 * CLIP.num_frames and ingest.loops >= 2
    paced = []
    ingest = Ingest(parse_source(clip_files['mp4'], realtime=True), paced.append)
    started = time.monotonic()
    ingest.start()
    assert ingest.wait_finished(20)
    ingest.stop()
    # 30 frames at 30 fps take about 1 s when played at the native rate.
    assert time.monotonic() - started >= 0.8


def test_a_missing_device_is_retried_with_backoff_and_reported():
    logs = []
    ingest = Ingest(parse_source('/dev/video_does_not_exist'), lambda f: None, watchdog_s=1.0,
                    log=lambda level, text: logs.append(text))
    from samurai_tracker.bridge.backoff import BackoffPolicy
    ingest._backoff.policy = BackoffPolicy(0.05, 2.0, 0.2)
    ingest.start()
    deadline = time.monotonic() + 10
    while ingest.health.snapshot(time.monotonic()).reconnects < 3 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    ingest.stop()
    snap = ingest.health.snapshot(time.monotonic())
    assert snap.reconnects >= 3 and snap.frames == 0
    assert '/dev/video_does_not_exist' in snap.last_error or 'source' in snap.last_error
    assert any('reconnecting in' in line for line in logs)


def test_udp_output_is_received_by_an_independent_decoder_with_the_overlay():
    gst_init()
    port = free_udp_port()
    receiver = RtpReceiver(port)
    output = OutputStream(OutputSpec('udp', host='127.0.0.1', port=port, bitrate_kbps=4000),
                          fps=30.0)
    box = Box.from_xyxy(100, 80, 220, 180)
    track = Track(TrackState.LOST, BoxSource.FUSED, box, 0.1, 3)
    try:
        for index in range(CLIP.num_frames):
            drawn = draw_overlay(CLIP.frame(index), track, thickness=6)
            assert output.push(drawn, CLIP.stamp_ns(index))
            time.sleep(0.01)
        frames = receiver.collect(CLIP.num_frames - 2, timeout_s=10)
    finally:
        output.close()
        receiver.close()
    assert len(frames) >= CLIP.num_frames - 2
    last = frames[-1].astype(int)
    red = np.array(STATE_COLOURS[TrackState.LOST])
    # The 6 px box edge survives lossy coding: the left edge at mid-height is red.
    edge = last[120:140, 101:105].reshape(-1, 3)
    assert np.abs(edge - red).max(axis=1).mean() < 60, edge[:3]
    assert output.frames_sent == CLIP.num_frames and output.drops == 0


def test_file_output_is_a_playable_clip(tmp_path, clip_files):
    path = str(tmp_path / 'out.mp4')
    output = OutputStream(OutputSpec('file', path=path), fps=30.0)
    for index in range(CLIP.num_frames):
        assert output.push(CLIP.frame(index), CLIP.stamp_ns(index))
    output.close()
    frames = []
    ingest = Ingest(parse_source(path, realtime=False), frames.append)
    ingest.start()
    assert ingest.wait_finished(20)
    ingest.stop()
    assert len(frames) == CLIP.num_frames
    with pytest.raises(ValueError, match='uint8 RGB'):
        output.push(np.zeros((10, 10), np.uint8), 0)


def test_calibration_file_round_trip(tmp_path):
    path = tmp_path / 'cam.yaml'
    path.write_text('image_width: 320\nimage_height: 240\ncamera_name: front\n'
                    'camera_matrix: {rows: 3, cols: 3, '
                    'data: [300, 0, 160, 0, 300, 120, 0, 0, 1]}\n'
                    'distortion_model: plumb_bob\n'
                    'distortion_coefficients: {rows: 1, cols: 5, data: [0.1, 0, 0, 0, 0]}\n')
    cal = load_calibration(str(path))
    assert (cal.width, cal.height, cal.k[0], cal.d[0]) == (320, 240, 300.0, 0.1)
    assert cal.p[:3] == (300.0, 0.0, 160.0) and cal.r[0] == 1.0
    path.write_text('image_width: 320\nimage_height: 240\n'
                    'camera_matrix: {rows: 3, cols: 3, data: [1, 2]}\n')
    with pytest.raises(ValueError, match='camera_matrix'):
        load_calibration(str(path))
    with pytest.raises(FileNotFoundError):
        load_calibration(str(tmp_path / 'none.yaml'))


def test_free_udp_port_is_bindable():
    port = free_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', port))
    assert os.path.exists('/dev/null')


def test_rtsp_output_serves_only_with_the_right_login():
    import threading

    from samurai_tracker.bridge.backoff import BackoffPolicy
    from samurai_tracker.bridge.rtsp_output import RtspServerOutput
    from samurai_tracker.bridge.specs import RtspCredentials

    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    server = RtspServerOutput(OutputSpec('rtsp', host='127.0.0.1', port=port, mount='/t',
                                         credentials=RtspCredentials('robot', 'pw1')), fps=30)
    stop = threading.Event()

    def feed():
        index = 0
        while not stop.is_set():
            server.push(CLIP.frame(index % CLIP.num_frames), index)
            index += 1
            time.sleep(1 / 30)
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        results = {}
        for password in ('wrong', 'pw1'):
            got = []
            client = Ingest(parse_source(f'rtsp://robot:{password}@127.0.0.1:{port}/t'),
                            got.append, watchdog_s=3.0,
                            backoff=BackoffPolicy(0.1, 2.0, 0.5))
            client.start()
            deadline = time.monotonic() + 8
            while len(got) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            client.stop()
            results[password] = (len(got), client.health.snapshot(time.monotonic()))
    finally:
        stop.set()
        feeder.join(2)
        server.close()
    frames, snap = results['wrong']
    assert frames == 0 and 'Unauthorized' in snap.last_error and snap.reconnects >= 1
    frames, snap = results['pw1']
    assert frames >= 5 and snap.reconnects == 0
    assert server.frames_sent >= 5
