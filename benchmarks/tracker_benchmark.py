"""Benchmark of the SAMURAI runtime: per-stage latency, fps, memory growth, calibration.

Runs :class:`~samurai_tracker.tracker.runtime.SamuraiTracker` on a generated 1080p clip
(a textured object moving over a textured scene) in two modes measured in the same run:
every frame a full inference (the baseline) and ``max_kf=2`` (two Kalman-coasted frames
after each full inference). It prints a table of per-stage latency (preprocess, each
model, glue, total), fps and the ratio to the baseline; then the process RSS (and, on
CUDA, torch's allocated memory) over a long run, and the expected calibration error of
the reported confidence on generated clips (plain, occluded, with a distractor). The
JSON goes to ``benchmarks/results/``.

Examples
--------
CPU, ONNX Runtime (a random SAM 2.1 tiny export is made under ``artifacts/`` if no
``--model-dir``)::

    .venv/bin/python benchmarks/tracker_benchmark.py --frames 40 --memory-frames 300

GPU, PyTorch backend (engineer F's H100 run)::

    python benchmarks/tracker_benchmark.py --backend torch --device cuda --dtype fp16 \
        --frames 300 --memory-frames 10000

With random weights the masks (and so the boxes) do not follow the object: the speed and
memory numbers are real, the calibration numbers only show the measurement works.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from samurai_tracker.records import BoxSource, TrackState  # noqa: E402
from samurai_tracker.synthetic import SyntheticClip  # noqa: E402
from samurai_tracker.tracker import (open_models, SamuraiModels, SamuraiTracker,  # noqa: E402
                                     STAGES, TrackerConfig)

MODEL_STAGES = ('preprocess', 'image_encoder', 'memory_attention', 'mask_decoder',
                'memory_encoder', 'glue', 'total')


def rss_mib() -> float:
    """Resident set size of this process in MiB (from /proc, Linux)."""
    with open('/proc/self/status', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def cuda_mib() -> Optional[float]:
    """Return the CUDA memory torch has allocated, in MiB (None without CUDA)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    return torch.cuda.memory_allocated() / 2 ** 20


def model_dir_for(args: argparse.Namespace) -> str:
    """Return the given model directory, or a cached random SAM 2.1 tiny export."""
    if args.model_dir:
        return args.model_dir
    from samurai_tracker.engines.cache import cached_random_export
    from samurai_tracker.engines.sam2_model import BiasOffsets

    return cached_random_export(os.path.join(ROOT, 'artifacts', 'test_models'), size='tiny',
                                crop=512, offsets=BiasOffsets(10.0, 4.0), seed=0)


def run_mode(models: SamuraiModels, clip: SyntheticClip, frames: List[np.ndarray],
             max_kf: int, warmup: int) -> Dict[str, Any]:
    """Seed, warm up, then time every ``track`` call; return latency statistics."""
    tracker = SamuraiTracker(models, TrackerConfig(crop_size=models.crop, max_kf=max_kf,
                                                   coast_min_confidence=0.5))
    tracker.seed(frames[0], clip.truth(0), clip.stamp_ns(0))
    seed_ms = dict(tracker.timings)
    per_stage: Dict[str, List[float]] = {s: [] for s in STAGES}
    walls: List[float] = []
    sources: List[int] = []
    for index in range(1, len(frames)):
        start = time.perf_counter()
        track = tracker.track(frames[index], clip.stamp_ns(index))
        wall = (time.perf_counter() - start) * 1e3
        if index <= warmup:
            continue
        walls.append(wall)
        sources.append(int(track.source))
        if track.source is not BoxSource.PREDICTED or tracker.timings['image_encoder'] > 0:
            for stage in STAGES:
                per_stage[stage].append(tracker.timings[stage])
    full = len(per_stage['total'])
    stats = {s: {'mean_ms': float(np.mean(v)), 'median_ms': float(np.median(v)),
                 'p90_ms': float(np.percentile(v, 90))} for s, v in per_stage.items() if v}
    return {
        'max_kf': max_kf, 'frames': len(walls), 'full_inferences': full,
        'coasted': len(walls) - full, 'seed_ms': seed_ms, 'full_inference_stages': stats,
        'mean_frame_ms': float(np.mean(walls)), 'fps': 1e3 / float(np.mean(walls)),
        'coasted_frame_mean_ms': float(np.mean([w for w, s in zip(walls, sources)
                                                if s == int(BoxSource.PREDICTED)] or [0.0])),
    }


def memory_run(models: SamuraiModels, count: int, width: int, height: int,
               max_kf: int) -> Dict[str, Any]:
    """Track ``count`` frames rendered on the fly; sample RSS (and CUDA memory)."""
    clip = SyntheticClip(num_frames=count + 1, width=width, height=height,
                         object_size=(width // 10, height // 7), seed=11)
    tracker = SamuraiTracker(models, TrackerConfig(crop_size=models.crop, max_kf=max_kf,
                                                   coast_min_confidence=0.5))
    tracker.seed(clip.frame(0), clip.truth(0))
    samples: List[Tuple[int, float, Optional[float]]] = []
    every = max(count // 50, 1)
    start = time.perf_counter()
    for index in range(1, count + 1):
        tracker.track(clip.frame(index))
        if index % every == 0 or index == count:
            samples.append((index, rss_mib(), cuda_mib()))
    seconds = time.perf_counter() - start
    warm = [s for s in samples if s[0] >= min(max(count // 5, 20), count)] or samples
    first, last = warm[0], warm[-1]
    steps = np.array([s[0] for s in warm], float)
    rss = np.array([s[1] for s in warm])
    slope = float(np.polyfit(steps, rss, 1)[0] * 1000) if len(warm) > 2 else 0.0
    result = {
        'frames': count, 'max_kf': max_kf, 'seconds': seconds,
        'rss_after_warmup_mib': first[1], 'rss_end_mib': last[1],
        'rss_max_mib': float(max(s[1] for s in samples)),
        'rss_growth_percent': 100.0 * (last[1] - first[1]) / first[1],
        'rss_slope_mib_per_1000_frames': slope,
        'bank_entries': len(tracker.bank), 'bank_feature_maps': tracker.bank.feature_count(),
        'samples': samples,
    }
    if first[2] is not None and last[2] is not None:
        result['cuda_after_warmup_mib'] = first[2]
        result['cuda_end_mib'] = last[2]
        result['cuda_growth_percent'] = 100.0 * (last[2] - first[2]) / max(first[2], 1e-9)
    return result


def calibration(models: SamuraiModels, frames: int, bins: int = 10) -> Dict[str, Any]:
    """Measure the expected calibration error of the confidence on generated clips.

    The event a confidence should predict: the reported box overlaps the *visible* target
    with IoU >= 0.5 (false on frames where the target is hidden).
    """
    clips = {
        'plain': SyntheticClip(num_frames=frames, width=640, height=480, seed=21),
        'occluded': SyntheticClip(num_frames=frames, width=640, height=480, seed=22,
                                  occlusion=(frames // 3, frames // 2)),
        'distractor': SyntheticClip(num_frames=frames, width=640, height=480, seed=23,
                                    distractor=True),
    }
    confidences: List[float] = []
    hits: List[float] = []
    per_clip: Dict[str, Any] = {}
    for name, clip in clips.items():
        tracker = SamuraiTracker(models, TrackerConfig(crop_size=models.crop))
        tracker.seed(clip.frame(0), clip.truth(0))
        conf, hit, states = [], [], []
        for index in range(1, frames):
            track = tracker.track(clip.frame(index))
            iou = track.box.iou(clip.truth(index)) if track.box is not None else 0.0
            conf.append(track.confidence)
            hit.append(float(clip.visible(index) and iou >= 0.5))
            states.append(TrackState(track.state).name)
        confidences += conf
        hits += hit
        per_clip[name] = {'mean_confidence': float(np.mean(conf)),
                          'hit_rate': float(np.mean(hit)),
                          'states': {s: states.count(s) for s in sorted(set(states))}}
    conf_a, hit_a = np.array(confidences), np.array(hits)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf_a, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    table = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            gap = abs(hit_a[sel].mean() - conf_a[sel].mean())
            ece += sel.mean() * gap
            table.append({'bin': [float(edges[b]), float(edges[b + 1])], 'count': int(sel.sum()),
                          'confidence': float(conf_a[sel].mean()),
                          'accuracy': float(hit_a[sel].mean())})
    return {'frames': int(conf_a.size), 'ece': float(ece), 'bins': table, 'clips': per_clip}


def print_table(results: Dict[str, Any]) -> None:
    """Print the latency table, memory and calibration summaries."""
    modes = results['modes']
    base = modes[0]['fps']
    print(f"\nSAMURAI runtime, backend={results['backend']}, "
          f"input {results['width']}x{results['height']}, crop {results['crop']}, "
          f"device={results['device']}")
    header = f"{'mode':<14}" + ''.join(f'{s:>17}' for s in MODEL_STAGES) + \
        f"{'fps':>8}{'x base':>8}"
    print(header)
    print('-' * len(header))
    for mode in modes:
        stats = mode['full_inference_stages']
        cells = ''.join(f"{stats.get(s, {}).get('mean_ms', 0.0):>14.1f} ms" for s in
                        MODEL_STAGES)
        label = 'every frame' if mode['max_kf'] == 0 else f"max_kf={mode['max_kf']}"
        print(f'{label:<14}{cells}{mode["fps"]:>8.2f}{mode["fps"] / base:>8.2f}')
    print('(stage columns: mean over full-inference frames; fps over all measured frames)')
    total = modes[0]['full_inference_stages']['total']['mean_ms']
    shares = ', '.join(f"{s} {100 * modes[0]['full_inference_stages'][s]['mean_ms'] / total:.0f}%"
                       for s in MODEL_STAGES[:-1])
    print(f'where the time goes (every frame): {shares}')
    memory = results.get('memory')
    if memory:
        line = (f"memory over {memory['frames']} frames (max_kf={memory['max_kf']}): RSS "
                f"{memory['rss_after_warmup_mib']:.0f} -> {memory['rss_end_mib']:.0f} MiB "
                f"({memory['rss_growth_percent']:+.2f} %, "
                f"{memory['rss_slope_mib_per_1000_frames']:+.2f} MiB / 1000 frames); bank "
                f"{memory['bank_entries']} entries, {memory['bank_feature_maps']} feature maps")
        if 'cuda_growth_percent' in memory:
            line += (f"; CUDA {memory['cuda_after_warmup_mib']:.0f} -> "
                     f"{memory['cuda_end_mib']:.0f} MiB ({memory['cuda_growth_percent']:+.2f} %)")
        print(line)
    calib = results.get('calibration')
    if calib:
        print(f"calibration: ECE {calib['ece']:.3f} over {calib['frames']} frames; " + ', '.join(
            f"{k}: conf {v['mean_confidence']:.2f} vs hit {v['hit_rate']:.2f}"
            for k, v in calib['clips'].items()))


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model-dir', default='', help='export directory (default: a cached '
                        'random SAM 2.1 tiny export)')
    parser.add_argument('--backend', default='onnxruntime',
                        choices=('onnxruntime', 'tensorrt', 'torch'))
    parser.add_argument('--device', default='cpu', help="torch backend device ('cuda')")
    parser.add_argument('--dtype', default='fp32', choices=('fp32', 'fp16', 'bf16'),
                        help='torch backend precision')
    parser.add_argument('--threads', type=int, default=0,
                        help='ONNX Runtime intra-op threads (0: all cores)')
    parser.add_argument('--width', type=int, default=1920)
    parser.add_argument('--height', type=int, default=1080)
    parser.add_argument('--frames', type=int, default=40, help='measured frames per mode')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--memory-frames', type=int, default=300,
                        help='length of the memory-growth run (0: skip; 10000 for the long run)')
    parser.add_argument('--memory-max-kf', type=int, default=0)
    parser.add_argument('--calibration-frames', type=int, default=30,
                        help='frames per calibration clip (0: skip)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'benchmarks', 'results',
                                                      'tracker_benchmark.json'))
    args = parser.parse_args(argv)
    options: Dict[str, Any] = {}
    if args.backend == 'torch':
        options = {'device': args.device, 'precision': args.dtype}
    elif args.backend == 'onnxruntime' and args.threads:
        options = {'intra_op_threads': args.threads}
    model_dir = model_dir_for(args)
    models = open_models(model_dir, args.backend, **options)
    total = args.frames + args.warmup + 1
    clip = SyntheticClip(num_frames=total, width=args.width, height=args.height,
                         object_size=(args.width // 10, args.height // 7), seed=7)
    frames = [clip.frame(i) for i in range(total)]
    results: Dict[str, Any] = {
        'benchmark': 'tracker', 'backend': args.backend, 'device': models.device,
        'precision': args.dtype if args.backend == 'torch' else 'fp32',
        'model_dir': model_dir, 'crop': models.crop, 'width': args.width,
        'height': args.height, 'host': platform.node(), 'cpu_count': os.cpu_count(),
        'python': platform.python_version(), 'created': time.strftime('%Y-%m-%dT%H:%M:%S'),
        'load_average_at_start': os.getloadavg(),
        'modes': [run_mode(models, clip, frames, kf, args.warmup) for kf in (0, 2)],
    }
    del frames
    if args.memory_frames > 0:
        results['memory'] = memory_run(models, args.memory_frames, args.width, args.height,
                                       args.memory_max_kf)
    if args.calibration_frames > 0:
        results['calibration'] = calibration(models, args.calibration_frames)
    results['load_average_at_end'] = os.getloadavg()
    print_table(results)
    print('load average (1, 5, 15 min) at start {} and end {}: other processes share '
          'the cores when these exceed the core count'.format(
              *(tuple(round(v, 1) for v in results[k])
                for k in ('load_average_at_start', 'load_average_at_end'))))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
