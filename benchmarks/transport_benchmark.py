"""Per-hop cost of a frame: composed (in-process, by reference) vs sensor_msgs/Image over DDS.

Run inside the environment (``bash tools/bootstrap.sh shell``)::

    python benchmarks/transport_benchmark.py --frames 120 --width 1920 --height 1080

The cross-process hop publishes rgb8 images from this process to a subscriber in a second
process (real rclpy over Fast DDS, localhost); its cost is the publisher's CPU time
(conversion + serialisation) plus the subscriber's CPU time (deserialisation + conversion
to an array), per frame, and the latency from publish to the subscriber's callback. The
composed hop hands the same Frame object through the in-process frame bus to a subscriber
node. Prints a table and writes ``benchmarks/results/transport_benchmark.json``.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _qos(reliable):
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE if reliable
                      else ReliabilityPolicy.BEST_EFFORT)


def run_sink(topic, frames, out_path, reliable):
    """Receive ``frames`` images in the sink process, record latency and CPU, write JSON."""
    import rclpy
    from sensor_msgs.msg import Image

    from samurai_tracker.ros import image_to_rgb, stamp_to_ns
    rclpy.init()
    node = rclpy.create_node('transport_sink')
    latencies = []
    cpu_start = [None]

    def on_image(msg):
        if cpu_start[0] is None:
            cpu_start[0] = _cpu_seconds()
        pixels = image_to_rgb(msg)
        latencies.append(time.time_ns() - stamp_to_ns(msg.header.stamp))
        del pixels
    node.create_subscription(Image, topic, on_image, _qos(reliable))
    deadline = time.monotonic() + 60
    while len(latencies) < frames and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    cpu = _cpu_seconds() - (cpu_start[0] or _cpu_seconds())
    with open(out_path, 'w') as handle:
        json.dump({'latencies_ns': latencies, 'cpu_s': cpu}, handle)
    node.destroy_node()
    rclpy.try_shutdown()


def bench_cross_process(frames, width, height, rate, reliable):
    import rclpy
    from std_msgs.msg import Header

    from samurai_tracker.ros import ns_to_stamp, rgb_to_image
    from sensor_msgs.msg import Image
    topic = '/transport_benchmark/image'
    out_path = os.path.join(RESULTS, '.sink.json')
    sink = subprocess.Popen([sys.executable, __file__, '--sink', topic, str(frames), out_path,
                             'reliable' if reliable else 'best_effort'])
    rclpy.init()
    node = rclpy.create_node('transport_source')
    pub = node.create_publisher(Image, topic, _qos(reliable))
    deadline = time.monotonic() + 60
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    cpu0 = _cpu_seconds()
    for _ in range(frames + 20):  # a few spare frames: best effort may drop some
        header = Header(frame_id='camera', stamp=ns_to_stamp(time.time_ns()))
        pub.publish(rgb_to_image(pixels, header))
        time.sleep(1.0 / rate)
    publisher_cpu = _cpu_seconds() - cpu0
    sink.wait(timeout=180)
    with open(out_path) as handle:
        sink_result = json.load(handle)
    os.remove(out_path)
    node.destroy_node()
    rclpy.try_shutdown()
    received = len(sink_result['latencies_ns'])
    latencies = np.array(sink_result['latencies_ns'], dtype=np.float64) / 1e6
    return {
        'sent': frames + 20,
        'received': received,
        'cpu_ms_per_frame': 1e3 * (publisher_cpu / (frames + 20)
                                   + sink_result['cpu_s'] / max(received, 1)),
        'latency_ms_median': float(np.median(latencies)) if received else None,
        'latency_ms_p95': float(np.percentile(latencies, 95)) if received else None,
    }


def bench_composed(frames, width, height):
    import rclpy

    from samurai_tracker.ros.frame_transport import FramePublisher, FrameSubscriber
    from samurai_tracker.transport import Frame
    rclpy.init()
    source = rclpy.create_node('composed_source')
    sink = rclpy.create_node('composed_sink')
    got = []
    publisher = FramePublisher(source, '/composed_benchmark/image', 'composed')
    FrameSubscriber(sink, '/composed_benchmark/image', 'composed',
                    lambda frame: got.append(time.perf_counter_ns() - frame.stamp_ns),
                    lambda header, reason: None)
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    cpu0 = _cpu_seconds()
    wall0 = time.perf_counter()
    for _ in range(frames):
        publisher.publish(Frame(pixels, time.perf_counter_ns(), 'camera'))
    wall = time.perf_counter() - wall0
    cpu = _cpu_seconds() - cpu0
    source.destroy_node()
    sink.destroy_node()
    rclpy.try_shutdown()
    latencies = np.array(got, dtype=np.float64) / 1e6
    return {
        'sent': frames,
        'received': len(got),
        'cpu_ms_per_frame': 1e3 * cpu / frames,
        'wall_ms_per_frame': 1e3 * wall / frames,
        'latency_ms_median': float(np.median(latencies)),
        'latency_ms_p95': float(np.percentile(latencies, 95)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=120)
    parser.add_argument('--width', type=int, default=1920)
    parser.add_argument('--height', type=int, default=1080)
    parser.add_argument('--rate', type=float, default=30.0, help='cross-process publish rate')
    parser.add_argument('--best-effort', action='store_true',
                        help='best-effort QoS across processes (Fast DDS drops most large '
                             'frames without transport tuning); default reliable, depth 1')
    parser.add_argument('--sink', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink[0], int(args.sink[1]), args.sink[2], args.sink[3] == 'reliable')
        return
    os.makedirs(RESULTS, exist_ok=True)
    cross = bench_cross_process(args.frames, args.width, args.height, args.rate,
                                not args.best_effort)
    composed = bench_composed(args.frames * 10, args.width, args.height)
    ratio = composed['cpu_ms_per_frame'] / cross['cpu_ms_per_frame']
    size = f'{args.width}x{args.height} rgb8 ({args.width * args.height * 3 / 1e6:.1f} MB)'
    print(f'\nframe hop cost at {size}')
    print(f"{'transport':<30}{'sent':>6}{'received':>9}{'CPU ms/frame':>14}{'latency p50 ms':>16}"
          f"{'p95 ms':>10}")
    for name, result in (('sensor_msgs/Image, 2 processes', cross),
                         ('composed (by reference)', composed)):
        print(f"{name:<30}{result['sent']:>6}{result['received']:>9}"
              f"{result['cpu_ms_per_frame']:>14.4f}{result['latency_ms_median'] or 0:>16.4f}"
              f"{result['latency_ms_p95'] or 0:>10.4f}")
    print(f'composed / cross-process CPU cost: {100 * ratio:.3f} % (target <= 1 %)')
    report = {
        'benchmark': 'transport', 'width': args.width, 'height': args.height,
        'cross_process_qos': 'best_effort' if args.best_effort else 'reliable',
        'cross_process': cross, 'composed': composed, 'composed_over_cross_cpu': ratio,
        'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(),
                    'python': platform.python_version()},
    }
    path = os.path.join(RESULTS, 'transport_benchmark.json')
    with open(path, 'w') as handle:
        json.dump(report, handle, indent=2)
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
