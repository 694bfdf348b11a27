#!/usr/bin/env python3
"""SAMURAI runtime on a CUDA GPU: fps, where the time goes, memory (needs a GPU and sam2).

Builds a random SAM 2.1 (tiny / base_plus, score-head bias offsets +10 / +4 so every frame
reads "object present", as a trained model on a visible target), runs the project's
``SamuraiTracker`` with the PyTorch backend (fp16, 512 crop) on a generated 1080p clip,
and compares in one run:

- ``generic``: the model-by-model loop (:class:`TorchOps` glue, float32 weights under
  autocast, frames on the host), the runtime as it stood before the fused step;
- ``fused``: the runtime's default on CUDA (:class:`FusedTrackingStep` replayed as two
  CUDA graphs, CUDA glue kernels, fp16 weights), frames already on the GPU as uint8
  tensors (what the composed pipeline hands over);
- ``fused-host-frames``: the same with numpy frames (one upload per frame included);
- ``fused-compiled`` (on request): ``fused`` with the modules through ``torch.compile``;

each with ``max_kf`` 0 (every frame) and 2; optionally the reference SAMURAI video
predictor on the same weights and clip (``--reference-script``: a script kept outside
the repository, called as ``SCRIPT SIZE WEIGHTS FRAMES_DIR WARMUP OUT_JSON``), and a long
run (``--long-frames``) for memory growth. For each case: fps, per-stage wall time, GPU
kernel time per frame (torch.profiler), RSS and GPU memory growth. Prints a table and
writes JSON (default ``benchmarks/results/gpu_tracker_benchmark.json``).

Usage::

    python benchmarks/gpu_tracker_benchmark.py --sizes tiny,base_plus --frames 300
        [--reference-script ../ref_run.py] [--long-frames 10000]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import Any, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / 'benchmarks' / 'results' / 'gpu_tracker_benchmark.json'
VARIANTS = ('generic', 'fused', 'fused-host-frames')
OPTIONAL_VARIANTS = ('fused-compiled',)
BASELINE = 'generic'


def _rss_mib() -> float:
    with open('/proc/self/status', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def _sync() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _gpu_mib(peak: bool = False) -> float:
    import torch
    if not torch.cuda.is_available():
        return 0.0
    return (torch.cuda.max_memory_allocated() if peak else torch.cuda.memory_allocated()) / 2**20


def _build(size: str, precision: str, device: str, cast_weights: bool,
           save_weights: str = '', compile: bool = False) -> Tuple[Any, Any]:
    """Random SAM 2.1 -> (SamuraiModels of torch backends on ``device``, constants).

    With ``save_weights`` the model's state dict (bias offsets included) is also saved
    there as ``{'model': state_dict}``, so that another SAM 2 implementation (the reference
    predictor) can be timed on exactly these weights.
    """
    from samurai_tracker.backends.torch_backend import TorchBackend
    from samurai_tracker.engines.constants import gather_constants, SamuraiConstants
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2
    from samurai_tracker.engines.wrappers import build_wrappers
    from samurai_tracker.tracker.models import SamuraiModels

    model, _ = build_sam2(size, 512, seed=0, offsets=BiasOffsets(10.0, 4.0))
    arrays, scalars = gather_constants(model, 512)
    if save_weights:
        import torch
        torch.save({'model': model.state_dict()}, save_weights)
    backends = {name: TorchBackend(name, module, 512, device=device, precision=precision,
                                   cast_weights=cast_weights, compile=compile)
                for name, module in build_wrappers(model, 512).items()}
    constants = SamuraiConstants(arrays, scalars)
    return SamuraiModels(constants=constants, backend='torch', **backends), constants


def _tracker(models: Any, variant: str, max_kf: int) -> Any:
    from samurai_tracker.tracker.array_ops import TorchOps
    from samurai_tracker.tracker.config import TrackerConfig
    from samurai_tracker.tracker.glue import FrameGlue
    from samurai_tracker.tracker.runtime import SamuraiTracker

    config = TrackerConfig(crop_size=512, max_kf=max_kf)
    if variant == BASELINE:
        tracker = SamuraiTracker(models, config, fused=False)
        tracker.ops = TorchOps(models.device)
        tracker.glue = FrameGlue(models.constants, tracker.ops)
        return tracker
    return SamuraiTracker(models, config, fused=True)


def _gpu_profile(tracker: Any, frames: List[Any], n: int) -> Dict[str, float]:
    """Kernel time and launches per frame over ``n`` frames (torch.profiler)."""
    from torch.profiler import profile, ProfilerActivity

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for i in range(n):
            tracker.track(frames[i % len(frames)])
        _sync()
    kernel_us, launches = 0.0, 0
    for evt in prof.events():
        if str(getattr(evt, 'device_type', '')).endswith('CUDA'):
            kernel_us += float(getattr(evt, 'self_device_time_total', 0.0) or 0.0)
            launches += 1
    return {'gpu_kernel_ms_per_frame': kernel_us / 1000.0 / n,
            'gpu_events_per_frame': launches / n}


def _run_case(models: Any, variant: str, max_kf: int, host_frames: List[np.ndarray],
              dev_frames: List[Any], clip: Any, n: int, warmup: int, profile_frames: int,
              cprofile_frames: int = 0) -> Dict[str, Any]:
    import torch
    from samurai_tracker.tracker.runtime import STAGES

    setup = time.perf_counter()
    tracker = _tracker(models, variant, max_kf)
    setup_s = time.perf_counter() - setup  # graph capture (and compilation, if asked for)
    frames = host_frames if variant in (BASELINE, 'fused-host-frames') else dev_frames
    tracker.seed(frames[0], clip.truth(0))
    for i in range(1, warmup + 1):
        tracker.track(frames[i % len(frames)])
    _sync()
    rss0, mem0 = _rss_mib(), _gpu_mib()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    per_frame, stage_sum, full = [], {s: 0.0 for s in STAGES}, 0
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        tracker.track(frames[(warmup + 1 + i) % len(frames)])
        per_frame.append(time.perf_counter() - t0)
        if tracker.last_choice is not None:  # a full inference (not coasted)
            full += 1
            for s in STAGES:
                stage_sum[s] += tracker.timings.get(s, 0.0)
    _sync()
    wall = time.perf_counter() - start
    rss1, mem1 = _rss_mib(), _gpu_mib()
    ms = np.array(per_frame) * 1e3
    result = {
        'variant': variant, 'max_kf': max_kf, 'frames': n, 'fps': n / wall,
        'tracker_setup_s': setup_s, 'ms_mean': float(ms.mean()),
        'ms_p50': float(np.percentile(ms, 50)),
        'ms_p90': float(np.percentile(ms, 90)), 'full_inference_frames': full,
        'stage_ms_full_frames': {s: v / max(full, 1) for s, v in stage_sum.items()},
        'rss_mib_start': rss0, 'rss_mib_growth': rss1 - rss0,
        'gpu_mib_start': mem0, 'gpu_mib_growth': mem1 - mem0,
        'gpu_peak_mib': _gpu_mib(peak=True),
        'final_state': tracker.last_track.state.name,
        'graph_captures': tracker.fused.captures if tracker.fused is not None else 0,
    }
    if profile_frames:
        result.update(_gpu_profile(tracker, frames, profile_frames))
    if cprofile_frames:
        result['host_profile'] = _host_profile(tracker, frames, cprofile_frames)
    return result


def _long_run(models: Any, variant: str, frames: List[Any], clip: Any,
              n: int) -> Dict[str, Any]:
    """Memory over ``n`` every-frame inferences of a fused tracker (RSS and GPU)."""
    tracker = _tracker(models, variant, 0)
    tracker.seed(frames[0], clip.truth(0))
    for i in range(1, 101):
        tracker.track(frames[i % len(frames)])
    _sync()
    rss0, mem0 = _rss_mib(), _gpu_mib()
    start = time.perf_counter()
    for i in range(n):
        tracker.track(frames[(101 + i) % len(frames)])
    _sync()
    wall = time.perf_counter() - start
    rss1, mem1 = _rss_mib(), _gpu_mib()
    return {'variant': f'{variant}-long', 'max_kf': 0, 'frames': n, 'fps': n / wall,
            'rss_mib_start': rss0, 'rss_mib_end': rss1,
            'rss_growth_percent': 100.0 * (rss1 - rss0) / rss0,
            'gpu_mib_start': mem0, 'gpu_mib_end': mem1,
            'gpu_growth_percent': 100.0 * (mem1 - mem0) / max(mem0, 1e-9),
            'memory_bank_entries': len(tracker.bank), 'feature_maps': tracker.bank.feature_count()}


def _host_profile(tracker: Any, frames: List[Any], n: int) -> List[Dict[str, Any]]:
    """Top host functions by own time per frame over ``n`` frames (cProfile)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        tracker.track(frames[i % len(frames)])
    _sync()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_, ncalls, tottime, cumtime, _) in stats.items():
        rows.append({'function': f'{Path(path).name}:{line}:{func}',
                     'calls_per_frame': ncalls / n, 'own_ms_per_frame': tottime * 1e3 / n,
                     'cum_ms_per_frame': cumtime * 1e3 / n})
    rows.sort(key=lambda r: -r['own_ms_per_frame'])
    return rows[:25]


def _reference(script: str, size: str, inputs: Path, warmup: int) -> Dict[str, Any]:
    """Run the external reference script on the saved weights and frames."""
    out = inputs / f'reference_{size}.json'
    cmd = [sys.executable, script, size, str(inputs / f'{size}.pt'), str(inputs / 'frames'),
           str(warmup), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.exists():
        return {'variant': 'reference-samurai', 'max_kf': 0,
                'error': f'exit {proc.returncode}: {proc.stderr[-600:]}'}
    result = json.loads(out.read_text())
    result.update({'variant': 'reference-samurai', 'max_kf': 0})
    return result


def _table(report: Dict[str, Any]) -> None:
    cases = report['cases']
    base = {(c['size'], c['max_kf']): c.get('fps') for c in cases if c['variant'] == BASELINE}
    ref = {c['size']: c.get('fps') for c in cases if c['variant'] == 'reference-samurai'}
    print(f"\n{'size':9} {'variant':18} {'kf':>2} {'fps':>7} {'x gen':>6} {'x ref':>6} "
          f"{'ms p50':>7} {'gpu ms':>7} {'pre':>6} {'fused':>6} {'glue':>6} {'total':>6} "
          f"{'dGPU MiB':>8} {'dRSS':>6}")
    for c in cases:
        if 'error' in c:
            print(f"{c['size']:9} {c['variant']:18} {c['max_kf']:2} error: {c['error'][:90]}")
            continue
        if c['variant'] == 'reference-samurai' or c['variant'].endswith('-long'):
            print(f"{c['size']:9} {c['variant']:18} {c['max_kf']:2} {c['fps']:7.1f} " + (
                f"rss {c['rss_growth_percent']:+.3f} %  gpu {c['gpu_growth_percent']:+.3f} %"
                f" over {c['frames']} frames" if c['variant'].endswith('-long') else
                f"{'':6} {'':6} {c.get('ms_p50', float('nan')):7.2f} "
                f"{c.get('gpu_kernel_ms_per_frame', float('nan')):7.2f}"))
            continue
        st = c['stage_ms_full_frames']
        b = base.get((c['size'], c['max_kf']))
        r = ref.get(c['size'])
        print(f"{c['size']:9} {c['variant']:18} {c['max_kf']:2} {c['fps']:7.1f} "
              f"{c['fps'] / b if b else float('nan'):6.2f} "
              f"{c['fps'] / r if r else float('nan'):6.2f} {c['ms_p50']:7.2f} "
              f"{c.get('gpu_kernel_ms_per_frame', float('nan')):7.2f} "
              f"{st['preprocess']:6.2f} {st['fused_step']:6.2f} {st['glue']:6.2f} "
              f"{st['total']:6.2f} {c['gpu_mib_growth']:8.1f} {c['rss_mib_growth']:6.1f}")


def main() -> int:
    """Run the comparison, print a table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='tiny,base_plus')
    ap.add_argument('--variants', default=','.join(VARIANTS))
    ap.add_argument('--max-kf', default='0,2', help='max_kf values (comma separated)')
    ap.add_argument('--frames', type=int, default=300, help='timed frames per case')
    ap.add_argument('--clip-frames', type=int, default=150, help='distinct 1080p frames')
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--profile-frames', type=int, default=20)
    ap.add_argument('--cprofile', type=int, default=0,
                    help='cProfile this many frames of the fused tracker (tiny, max_kf 0)')
    ap.add_argument('--precision', default='fp16', choices=('fp32', 'fp16', 'bf16'))
    ap.add_argument('--reference-script', default='',
                    help='external script timing the reference predictor (see the module)')
    ap.add_argument('--reference-dir', default='/tmp/samurai_reference_inputs')
    ap.add_argument('--long-frames', type=int, default=0,
                    help='also run the fused tracker (tiny) this many frames for memory')
    ap.add_argument('--out', default=str(DEFAULT_OUT))
    args = ap.parse_args()

    import torch
    from samurai_tracker.synthetic.clip import SyntheticClip

    if not torch.cuda.is_available():
        print('this benchmark needs a CUDA GPU', file=sys.stderr)
        return 2
    clip = SyntheticClip(num_frames=args.clip_frames, width=1920, height=1080,
                         object_size=(240, 180), seed=3)
    host_frames = [np.ascontiguousarray(clip.frame(i)) for i in range(clip.num_frames)]
    dev_frames = [torch.from_numpy(f).cuda() for f in host_frames]
    inputs = Path(args.reference_dir)
    if args.reference_script:
        import cv2
        (inputs / 'frames').mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(host_frames):
            cv2.imwrite(str(inputs / 'frames' / f'{i:05d}.jpg'), frame[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        (inputs / 'seed_box.json').write_text(json.dumps([float(v) for v in clip.truth(0).xyxy]))
    report: Dict[str, Any] = {'device': torch.cuda.get_device_name(0),
                              'torch': torch.__version__, 'precision': args.precision,
                              'crop': 512, 'frame': '1920x1080', 'cases': []}
    variants = [v for v in args.variants.split(',') if v]
    for size in [s for s in args.sizes.split(',') if s]:
        weights = str(inputs / f'{size}.pt') if args.reference_script else ''
        built: Dict[str, Any] = {}
        for variant in variants:
            kind = variant if variant in (BASELINE, 'fused-compiled') else 'fused'
            for max_kf in [int(k) for k in args.max_kf.split(',') if k]:
                try:
                    if kind not in built:
                        built[kind] = _build(size, args.precision, 'cuda', kind != BASELINE,
                                             weights if not built else '',
                                             compile=kind == 'fused-compiled')[0]
                    res = _run_case(built[kind], variant, max_kf, host_frames,
                                    dev_frames, clip, args.frames, args.warmup,
                                    args.profile_frames,
                                    args.cprofile if (size, variant, max_kf) == (
                                        'tiny', 'fused', 0) else 0)
                except Exception as exc:  # noqa: BLE001 - record and go on to the next case
                    res = {'variant': variant, 'max_kf': max_kf,
                           'error': f'{type(exc).__name__}: {exc}'}
                res['size'] = size
                report['cases'].append(res)
                print(json.dumps({k: v for k, v in res.items() if k != 'host_profile'}),
                      flush=True)
        long_kind = 'fused-compiled' if 'fused-compiled' in built else 'fused'
        if args.long_frames and size == 'tiny' and long_kind in built:
            res = _long_run(built[long_kind], long_kind, dev_frames, clip, args.long_frames)
            res['size'] = size
            report['cases'].append(res)
            print(json.dumps(res), flush=True)
        del built
        torch.cuda.empty_cache()
        if args.reference_script:
            res = _reference(args.reference_script, size, inputs, 15)
            res['size'] = size
            report['cases'].append(res)
            print(json.dumps(res), flush=True)
    _table(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    sys.exit(main())
