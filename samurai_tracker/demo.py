"""samurai-demo: the whole pipeline on a generated clip, with a video, a log and a picture.

``bash tools/bootstrap.sh demo`` runs this after setting everything up. It

1. makes a clip with a known truth: a textured object moving over a textured scene,
   hidden behind an occluder for a stretch of frames;
2. takes SAM 2.1 models from ``MODEL_DIR`` (``--model-dir``), or exports a *randomly
   initialised* SAM 2.1 tiny (boxes are then meaningless: a loud notice says so), and a
   detector from ``DETECTOR_MODEL``, or a hand-wired detector that finds the clip's object;
3. starts the real nodes as separate processes over DDS, exactly as
   ``pipeline.launch.py`` does: detector, tracker, fusion, and the camera bridge's output
   side, which draws the fused track on each frame and encodes the annotated video;
4. plays the clip into ``/demo/image`` in lock-step (each frame waits for the fused status
   of the previous one, like ``ros2 bag play`` at the pipeline's pace), so a CPU-only
   machine processes every frame;
5. writes ``annotated.mp4``, ``track_log.json`` and ``strip.png`` into the output folder and
   prints a summary: frames, per-stage latency and fps, time in each state, reseeds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

import numpy as np

from samurai_tracker.launching import parse_arguments, pipeline_plan, ProcessLauncher
from samurai_tracker.records import TrackState
from samurai_tracker.synthetic import SyntheticClip

__all__ = ['main']

NAMESPACE = 'demo'
STAGES = ('detector', 'tracker', 'fusion')


def _banner(lines: List[str]) -> None:
    width = max(len(line) for line in lines) + 4
    print('\n' + '!' * width)
    for line in lines:
        print(f'! {line:<{width - 4}} !')
    print('!' * width + '\n', flush=True)


def prepare_models(args: argparse.Namespace, work: str) -> Dict[str, Any]:
    """Return the SAM 2.1 model directory and detector path, making test ones if needed."""
    model_dir = args.model_dir or os.environ.get('MODEL_DIR', '')
    detector = args.detector_model or os.environ.get('DETECTOR_MODEL', '')
    notices = []
    if not model_dir:
        from samurai_tracker.engines.cache import cached_random_export
        from samurai_tracker.engines.sam2_model import BiasOffsets
        print('exporting a randomly initialised SAM 2.1 tiny (first run only, ~1 min) ...',
              flush=True)
        model_dir = str(cached_random_export(os.path.join(work, 'demo_models'), size='tiny',
                                             crop=512, offsets=BiasOffsets(10.0, 4.0), seed=0))
        notices += ['NO REAL WEIGHTS: SAM 2.1 is randomly initialised, so the tracker\'s',
                    'boxes are MEANINGLESS. Give real models with MODEL_DIR=<dir made by',
                    'samurai-export --checkpoint sam2.1_hiera_tiny.pt>.']
    if not detector:
        from samurai_tracker.detector.random_model import build_band_detector_onnx
        detector = os.path.join(work, 'demo_models', 'band_detector.onnx')
        if not os.path.isfile(detector):
            os.makedirs(os.path.dirname(detector), exist_ok=True)
            build_band_detector_onnx(detector, class_id=0)
        notices += ['The detector is a hand-wired model that only finds the generated clip\'s',
                    'object; give a YOLO export with DETECTOR_MODEL=<yolo11n.onnx>.']
    if notices:
        _banner(notices)
    return {'model_dir': model_dir, 'detector_model': detector,
            'untrained': not (args.model_dir or os.environ.get('MODEL_DIR'))}


class _Player:
    """The demo's own node: plays frames and records every status and detection."""

    def __init__(self) -> None:
        import rclpy
        from samurai_interfaces.msg import TrackStatus
        from samurai_interfaces.srv import Reseed
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray

        from samurai_tracker.ros import IMAGE_QOS, RESULT_QOS
        self.rclpy = rclpy
        rclpy.init()
        self.node = rclpy.create_node('demo_player', namespace=NAMESPACE)
        self.image_pub = self.node.create_publisher(Image, 'image', IMAGE_QOS)
        self.reseed: Any = self.node.create_client(Reseed, 'tracker/reseed')
        self.arrivals: Dict[str, Dict[int, Any]] = {stage: {} for stage in STAGES}
        self.received_at: Dict[str, Dict[int, float]] = {stage: {} for stage in STAGES}
        for stage, msg_type, topic in (('detector', Detection2DArray, 'detections'),
                                       ('tracker', TrackStatus, 'tracker/status'),
                                       ('fusion', TrackStatus, 'fusion/status')):
            self.node.create_subscription(msg_type, topic, self._recorder(stage), RESULT_QOS)

    def _recorder(self, stage: str) -> Any:
        from samurai_tracker.ros import stamp_to_ns

        def record(msg: Any) -> None:
            stamp = stamp_to_ns(msg.header.stamp)
            self.arrivals[stage].setdefault(stamp, msg)
            self.received_at[stage].setdefault(stamp, time.monotonic())
        return record

    def spin_until(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.rclpy.spin_once(self.node, timeout_sec=0.02)
        return bool(predicate())

    def close(self) -> None:
        self.node.destroy_node()
        self.rclpy.try_shutdown()


def _box_dict(msg: Any) -> Optional[List[float]]:
    if msg.bbox.size_x <= 0 or msg.bbox.size_y <= 0:
        return None
    cx, cy = msg.bbox.center.position.x, msg.bbox.center.position.y
    w, h = msg.bbox.size_x, msg.bbox.size_y
    return [round(v, 2) for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)]


def _status_dict(msg: Any) -> Optional[Dict[str, Any]]:
    if msg is None:
        return None
    return {'state': TrackState(msg.state).name, 'confidence': round(float(msg.confidence), 4),
            'source': int(msg.source), 'track_id': int(msg.track_id),
            'frames_since_measurement': int(msg.frames_since_measurement),
            'box_xyxy': _box_dict(msg), 'message': msg.message}


def play(clip: SyntheticClip, player: _Player, frame_timeout: float,
         base_ns: int) -> List[Dict[str, Any]]:
    """Play every frame in lock-step and return one log record per frame."""
    from std_msgs.msg import Header

    from samurai_tracker.records import Box
    from samurai_tracker.ros import ns_to_stamp, rgb_to_image
    log = []
    for index in range(clip.num_frames):
        stamp = base_ns + clip.stamp_ns(index)
        msg = rgb_to_image(clip.frame(index), Header(frame_id='camera',
                                                     stamp=ns_to_stamp(stamp)))
        sent = time.monotonic()
        player.image_pub.publish(msg)
        if not player.spin_until(lambda: stamp in player.arrivals['fusion'], frame_timeout):
            player.image_pub.publish(msg)  # best effort: one more try
            player.spin_until(lambda: stamp in player.arrivals['fusion'], frame_timeout)
        # The fusion may be handled before the tracker's status in the same spin.
        player.spin_until(lambda: all(stamp in player.arrivals[s] for s in STAGES), 0.3)
        truth = clip.truth(index)
        fused = player.arrivals['fusion'].get(stamp)
        record: Dict[str, Any] = {
            'frame': index, 'stamp_ns': stamp, 'truth_xyxy': truth.xyxy.tolist(),
            'target_visible': clip.visible(index),
            'tracker': _status_dict(player.arrivals['tracker'].get(stamp)),
            'fusion': _status_dict(fused),
            'detections': len(player.arrivals['detector'][stamp].detections)
            if stamp in player.arrivals['detector'] else None,
            'latency_ms': {stage: round(1e3 * (player.received_at[stage][stamp] - sent), 2)
                           for stage in STAGES if stamp in player.received_at[stage]},
        }
        box = record['fusion'] and record['fusion']['box_xyxy']
        record['fusion_iou'] = round(Box(np.array(box)).iou(truth), 4) if box else 0.0
        log.append(record)
        state = record['fusion']['state'] if record['fusion'] else 'NO STATUS'
        print(f'frame {index + 1:3d}/{clip.num_frames}: {state:<10} IoU {record["fusion_iou"]:.2f}'
              f'  ({record["latency_ms"].get("fusion", float("nan")):.0f} ms)', flush=True)
    return log


def summarise(log: List[Dict[str, Any]], fps: float) -> Dict[str, Any]:
    """Frames, per-stage latency and fps, time in each state, track ids seen."""
    summary: Dict[str, Any] = {'frames': len(log),
                               'frames_with_fused_status': sum(bool(r['fusion']) for r in log)}
    stages = {}
    previous = 0.0
    for stage in STAGES:
        values = [r['latency_ms'][stage] for r in log if stage in r['latency_ms']]
        if values:
            median = float(np.median(values))
            stages[stage] = {'frames': len(values), 'latency_ms_median': round(median, 1),
                             'stage_ms_median': round(max(median - previous, 0.0), 1),
                             'fps_at_latency': round(1e3 / median, 2) if median > 0 else None}
            previous = median
    summary['stages'] = stages
    for source in ('tracker', 'fusion'):
        counts: Dict[str, int] = {}
        for record in log:
            state = record[source]['state'] if record[source] else 'NO_STATUS'
            counts[state] = counts.get(state, 0) + 1
        summary[f'{source}_states'] = {state: {'frames': n, 'seconds': round(n / fps, 2)}
                                       for state, n in counts.items()}
    summary['track_ids'] = sorted({r['fusion']['track_id'] for r in log if r['fusion']})
    visible = [r for r in log if r['target_visible'] and r['fusion']]
    summary['mean_iou_visible'] = round(float(np.mean([r['fusion_iou'] for r in visible])), 3) \
        if visible else None
    return summary


def write_strip(clip: SyntheticClip, log: List[Dict[str, Any]], path: str,
                count: int = 6) -> None:
    """Save sample frames with the fused track drawn, side by side, as a PNG."""
    import cv2

    from samurai_tracker.bridge.overlay import draw_overlay
    from samurai_tracker.records import Box, BoxSource, Track
    picks = np.linspace(0, len(log) - 1, count).round().astype(int)
    tiles = []
    for index in picks:
        record = log[index]
        track = None
        fused = record['fusion']
        if fused and fused['box_xyxy']:
            track = Track(TrackState[fused['state']], BoxSource.FUSED,
                          Box(np.array(fused['box_xyxy'])), fused['confidence'],
                          fused['track_id'])
        tile = draw_overlay(clip.frame(int(index)), track)
        cv2.putText(tile, f'frame {index}', (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (255, 255, 255), 2)
        tiles.append(cv2.resize(tile, (320, 240)))
    cv2.imwrite(path, cv2.cvtColor(np.hstack(tiles), cv2.COLOR_RGB2BGR))


def main(argv: Optional[List[str]] = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog='samurai-demo', description=__doc__.splitlines()[0])
    parser.add_argument('--output-dir', default='demo_output', help='where results go')
    parser.add_argument('--model-dir', default='', help='SAM 2.1 export (default $MODEL_DIR)')
    parser.add_argument('--detector-model', default='', help='YOLO ONNX (default '
                        '$DETECTOR_MODEL)')
    parser.add_argument('--backend', default='onnxruntime',
                        choices=('onnxruntime', 'tensorrt', 'torch'))
    parser.add_argument('--frames', type=int, default=72, help='clip length')
    parser.add_argument('--max-kf', type=int, default=1, help='tracker max_kf (0..30)')
    parser.add_argument('--frame-timeout', type=float, default=60.0,
                        help='seconds to wait for each fused status')
    args = parser.parse_args(argv)
    out = os.path.abspath(args.output_dir)
    os.makedirs(out, exist_ok=True)
    work = os.path.join(os.getcwd(), 'artifacts')
    models = prepare_models(args, work)
    occluded = (args.frames // 2, args.frames // 2 + max(args.frames // 6, 2))
    clip = SyntheticClip(num_frames=args.frames, width=640, height=480, object_size=(96, 72),
                         occlusion=occluded, seed=7)
    video = os.path.join(out, 'annotated.mp4')
    launch = parse_arguments({
        'source': 'none', 'model_dir': models['model_dir'],
        'detector_model': models['detector_model'], 'backend': args.backend,
        'detector_input_size': '640' if args.detector_model or os.environ.get(
            'DETECTOR_MODEL') else '320',
        'target_class': '0', 'max_kf': str(args.max_kf), 'output': 'file',
        'fusion_wait_s': str(args.frame_timeout),
        'output_path': video, 'namespace': NAMESPACE})
    env = dict(os.environ)
    env.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ.update({k: env[k] for k in ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE')})
    print(f'clip: {clip.num_frames} frames {clip.width}x{clip.height}, object hidden in '
          f'frames {occluded[0]}..{occluded[1]}; nodes log to {out}/logs', flush=True)
    launcher = ProcessLauncher(pipeline_plan(launch), env=env, log_dir=os.path.join(out, 'logs'))
    player = _Player()
    started = time.monotonic()
    try:
        launcher.start()
        # The tracker subscribes to images after loading its models, then serves ~/reseed.
        ready = player.spin_until(lambda: player.reseed.service_is_ready()
                                  or bool(launcher.exited()), 180)
        if not ready or launcher.exited():
            print(f'nodes did not come up: exited {launcher.exited()}; see {out}/logs',
                  file=sys.stderr)
            return 1
        player.spin_until(lambda: False, 2.0)  # let the status subscriptions match
        log = play(clip, player, args.frame_timeout, base_ns=1_700_000_000_000_000_000)
    finally:
        codes = launcher.stop()
        player.close()
    wall = time.monotonic() - started
    summary = summarise(log, clip.fps)
    summary.update({'wall_s': round(wall, 1), 'node_exit_codes': codes,
                    'untrained_models': models['untrained'],
                    'model_dir': models['model_dir'],
                    'detector_model': models['detector_model']})
    with open(os.path.join(out, 'track_log.json'), 'w') as handle:
        json.dump({'summary': summary, 'frames': log}, handle, indent=1)
    write_strip(clip, log, os.path.join(out, 'strip.png'))
    print('\n== summary ==')
    print(f"frames: {summary['frames']} played, {summary['frames_with_fused_status']} fused, "
          f'{wall:.0f} s wall')
    print(f"{'stage':<10}{'median ms (cumulative)':>24}{'stage ms':>10}{'fps':>8}")
    for stage, values in summary['stages'].items():
        stage_ms = values['stage_ms_median']
        print(f"{stage:<10}{values['latency_ms_median']:>24.1f}{stage_ms:>10.1f}"
              f"{(1e3 / stage_ms if stage_ms > 0 else float('inf')):>8.1f}")
    for source in ('tracker', 'fusion'):
        states = ', '.join(f"{state} {v['frames']} frames ({v['seconds']} s)"
                           for state, v in summary[f'{source}_states'].items())
        print(f'{source} states: {states}')
    print(f"track ids: {summary['track_ids']}; mean IoU while visible: "
          f"{summary['mean_iou_visible']}")
    if models['untrained']:
        print('(random SAM 2.1 weights: the IoU above says nothing about tracking quality)')
    print(f'wrote {video}\n      {os.path.join(out, "track_log.json")}\n      '
          f'{os.path.join(out, "strip.png")}')
    ok = summary['frames_with_fused_status'] > 0 and os.path.isfile(video)
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
