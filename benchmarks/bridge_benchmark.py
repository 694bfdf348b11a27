"""Camera bridge benchmark: decode -> publish latency and CPU time per frame (software path).

For each size (720p, 1080p) a generated clip is encoded with x264 into an mp4, then:

``raw_decode`` (baseline)
    A plain GStreamer pipeline (filesrc ! qtdemux ! h264parse ! avdec_h264 ! videoconvert
    ! RGB appsink) whose samples are pulled and discarded: what decoding alone costs.
``bridge_ingest``
    The bridge's :class:`~samurai_tracker.bridge.ingest.Ingest` (plan, stamps, copy into a
    numpy frame, health counters), frames handed to a no-op consumer.
``bridge_publish``
    Ingest plus ``sensor_msgs/Image`` conversion and ``publish`` over Fast DDS to a
    subscriber in the same process (so the message is really serialised and sent).
``overlay_encode``
    The output side: draw the overlay and push into the x264 (zerolatency, ultrafast)
    RTP/UDP pipeline, per frame.

All run as fast as possible (no clock sync), timed from the first frame (pipeline
start-up excluded). Columns: frames/s, CPU ms per frame (process CPU time, all threads,
divided by frames), decode->publish latency median and p95 (ms,
from the sample leaving the decoder chain to ``publish`` returning), and the frame rate
relative to the baseline measured in the same run. Results go to
``benchmarks/results/bridge_benchmark.json``.

Run: ``.venv/bin/python benchmarks/bridge_benchmark.py [--frames 120]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from typing import Any, Dict, List

import numpy as np

from samurai_tracker.bridge.frames import Frame
from samurai_tracker.bridge.gst_build import gst_init
from samurai_tracker.bridge.ingest import Ingest
from samurai_tracker.bridge.output import OutputStream
from samurai_tracker.bridge.overlay import draw_overlay
from samurai_tracker.bridge.specs import OutputSpec, parse_source
from samurai_tracker.records import Box, BoxSource, Track, TrackState
from samurai_tracker.synthetic import encode_clip, SyntheticClip

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def _raw_decode(path: str) -> Dict[str, float]:
    gst = gst_init()
    pipeline = gst.parse_launch(
        f'filesrc location={path} ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! '
        'video/x-raw,format=RGB ! appsink name=sink sync=false')
    sink = pipeline.get_by_name('sink')
    pipeline.set_state(gst.State.PLAYING)
    frames = 0
    cpu = wall = 0.0
    while True:
        sample = sink.try_pull_sample(5 * gst.SECOND)
        if sample is None:
            break
        if frames == 0:  # time from the first frame: start-up is not throughput
            cpu, wall = time.process_time(), time.perf_counter()
        frames += 1
        del sample
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    frames -= 1
    pipeline.set_state(gst.State.NULL)
    return {'frames': frames, 'fps': frames / wall, 'cpu_ms_per_frame': 1e3 * cpu / frames}


def _ingest(path: str, publish: Any = None) -> Dict[str, float]:
    latencies: List[float] = []
    start = [0.0, 0.0]

    def consume(frame: Frame) -> None:
        if not latencies:
            start[:] = [time.process_time(), time.perf_counter()]
        if publish is not None:
            publish(frame)
        latencies.append((time.monotonic_ns() - frame.decoded_ns) / 1e6)

    ingest = Ingest(parse_source(path, realtime=False), consume)
    ingest.start()
    ingest.wait_finished(600)
    wall = time.perf_counter() - start[1]
    cpu = time.process_time() - start[0]
    ingest.stop()
    frames = len(latencies) - 1
    ordered = sorted(latencies)
    return {'frames': frames, 'fps': frames / wall, 'cpu_ms_per_frame': 1e3 * cpu / frames,
            'latency_ms_median': statistics.median(ordered),
            'latency_ms_p95': ordered[int(0.95 * (frames - 1))]}


def _publisher() -> Any:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from samurai_tracker.ros import ns_to_stamp, rgb_to_image
    rclpy.init()
    node = rclpy.create_node('bridge_benchmark')
    received = []
    pub = node.create_publisher(Image, 'bench_image', 10)
    node.create_subscription(Image, 'bench_image', lambda m: received.append(m.header), 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    running = [True]

    def spin() -> None:
        while running[0]:
            executor.spin_once(timeout_sec=0.05)
    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)

    def publish(frame: Frame) -> None:
        pub.publish(rgb_to_image(np.asarray(frame.image), Header(
            stamp=ns_to_stamp(frame.stamp_ns), frame_id='camera')))

    def close() -> int:
        time.sleep(0.5)
        running[0] = False
        thread.join(5)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        return len(received)
    return publish, close


def _overlay_encode(clip: SyntheticClip) -> Dict[str, float]:
    output = OutputStream(OutputSpec('udp', host='127.0.0.1', port=5999, bitrate_kbps=8000),
                          fps=30.0)
    track = Track(TrackState.TRACKED, BoxSource.FUSED, Box.from_xyxy(100, 100, 400, 300), 0.9, 1)
    images = [clip.frame(i) for i in range(min(clip.num_frames, 30))]
    timings = []
    cpu, wall = time.process_time(), time.perf_counter()
    for index in range(clip.num_frames):
        start = time.perf_counter()
        output.push(draw_overlay(images[index % len(images)], track), clip.stamp_ns(index))
        timings.append((time.perf_counter() - start) * 1e3)
        time.sleep(max(0.0, 1 / 30 - (time.perf_counter() - start)))  # paced like a camera
    wall = time.perf_counter() - wall
    output.close()
    cpu = time.process_time() - cpu
    return {'frames': output.frames_sent, 'drops': output.drops,
            'push_ms_median': statistics.median(timings),
            'cpu_ms_per_frame': 1e3 * cpu / clip.num_frames, 'wall_s': wall}


def main() -> None:
    """Run the benchmark, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=240, help='frames per clip')
    args = parser.parse_args()
    results: Dict[str, Any] = {'machine': platform.platform(), 'cpus': os.cpu_count(),
                               'frames': args.frames, 'sizes': {}}
    publish, close = _publisher()
    with tempfile.TemporaryDirectory() as folder:
        for name, (width, height) in {'720p': (1280, 720), '1080p': (1920, 1080)}.items():
            clip = SyntheticClip(num_frames=args.frames, width=width, height=height,
                                 object_size=(160, 120))
            path = os.path.join(folder, f'{name}.mp4')
            encode_clip(clip, path, key_int_max=30, speed_preset='veryfast')
            row = {'raw_decode': _raw_decode(path), 'bridge_ingest': _ingest(path),
                   'bridge_publish': _ingest(path, publish),
                   'overlay_encode': _overlay_encode(clip)}
            base = row['raw_decode']['fps']
            for stage in ('raw_decode', 'bridge_ingest', 'bridge_publish'):
                row[stage]['fps_vs_raw_decode'] = row[stage]['fps'] / base
            results['sizes'][name] = row
    results['messages_received_by_subscriber'] = close()
    print(f"{'size':6} {'stage':15} {'fps':>8} {'CPU ms/f':>9} {'lat med':>8} {'lat p95':>8} "
          f"{'x base':>7}")
    for name, row in results['sizes'].items():
        for stage in ('raw_decode', 'bridge_ingest', 'bridge_publish'):
            r = row[stage]
            print(f"{name:6} {stage:15} {r['fps']:8.1f} {r['cpu_ms_per_frame']:9.2f} "
                  f"{r.get('latency_ms_median', float('nan')):8.2f} "
                  f"{r.get('latency_ms_p95', float('nan')):8.2f} {r['fps_vs_raw_decode']:7.2f}")
        r = row['overlay_encode']
        print(f"{name:6} {'overlay_encode':15} {'30 paced':>8} {r['cpu_ms_per_frame']:9.2f} "
              f"{r['push_ms_median']:8.2f} {'':>8} {'':>7}  sent {r['frames']} drops {r['drops']}")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'bridge_benchmark.json'), 'w') as handle:
        json.dump(results, handle, indent=2)
    print(f"wrote {os.path.join(RESULTS, 'bridge_benchmark.json')}")


if __name__ == '__main__':
    main()
