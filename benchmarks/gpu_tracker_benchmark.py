#!/usr/bin/env python3
"""SAMURAI runtime on a CUDA GPU: fps, where the time goes, memory (needs a GPU and sam2).

Builds a random SAM 2.1 (tiny / base_plus, score-head bias offsets +10 / +4 so every frame
reads "object present", as a trained model on a visible target), runs the project's
``SamuraiTracker`` with the PyTorch backend (fp16 autocast, 512 crop) on a generated
1080p clip, and compares in one run:

- ``torch-ops``: the runtime as shipped (TorchOps glue, frames on the host);
- ``cuda-glue``: glue through the CUDA kernels (:class:`CudaGlueOps`), frames already on
  the GPU as uint8 tensors;
- ``cuda-glue+graphs``: the same with the four per-frame models replayed from CUDA
  graphs (:class:`GraphedBackend`);
- ``...+bank``: also the memory bank assembled by the kernels (:class:`DeviceFrameGlue`);
- ``...+nosync``: also no device sync at the runtime's stage boundaries;

each with ``max_kf`` 0 (every frame) and 2. For each it reports fps, per-stage wall
time, GPU kernel time per frame and kernel launches (torch.profiler), RSS and GPU memory
growth. Prints a table and writes JSON (default
``benchmarks/results/gpu_tracker_benchmark.json``).

Usage::

    python benchmarks/gpu_tracker_benchmark.py --sizes tiny,base_plus --frames 300
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import sys
import time
from typing import Any, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / 'benchmarks' / 'results' / 'gpu_tracker_benchmark.json'
VARIANTS = ('torch-ops', 'cuda-glue', 'cuda-glue+graphs', 'cuda-glue+graphs+bank',
            'cuda-glue+graphs+bank+nosync')
PER_FRAME_MODELS = ('image_encoder', 'memory_attention', 'mask_decoder', 'memory_encoder')


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


def _build(size: str, precision: str, device: str,
           save_weights: str = '') -> Tuple[Dict[str, Any], Any]:
    """Random SAM 2.1 -> (contract backends on cuda, constants).

    With ``save_weights`` the model's state dict (bias offsets included) is also saved
    there as ``{'model': state_dict}``, so that another SAM 2 implementation (the reference
    predictor) can be timed on exactly these weights.
    """
    from samurai_tracker.backends.torch_backend import TorchBackend
    from samurai_tracker.engines.constants import gather_constants, SamuraiConstants
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2
    from samurai_tracker.engines.wrappers import build_wrappers

    model, _ = build_sam2(size, 512, seed=0, offsets=BiasOffsets(10.0, 4.0))
    arrays, scalars = gather_constants(model, 512)
    if save_weights:
        import torch
        torch.save({'model': model.state_dict()}, save_weights)
    backends = {name: TorchBackend(name, module, 512, device=device, precision=precision)
                for name, module in build_wrappers(model, 512).items()}
    return backends, SamuraiConstants(arrays, scalars)


def _tracker(backends: Dict[str, Any], constants: Any, variant: str, max_kf: int) -> Any:
    from samurai_tracker.gpu.cuda_graphs import GraphedBackend
    from samurai_tracker.gpu.glue_array_ops import CudaGlueOps
    from samurai_tracker.tracker.config import TrackerConfig
    from samurai_tracker.tracker.glue import FrameGlue
    from samurai_tracker.tracker.models import SamuraiModels
    from samurai_tracker.tracker.runtime import SamuraiTracker

    class GpuFrameTracker(SamuraiTracker):
        """Benchmark shim: also accept (H, W, 3) uint8 CUDA tensors as frames."""

        def _check_frame(self, frame: Any, seeding: bool) -> Tuple[int, int]:
            if hasattr(frame, 'is_cuda') and frame.is_cuda:
                height, width = int(frame.shape[0]), int(frame.shape[1])
                if not seeding:
                    assert self._frame_size in (None, (width, height))
                return width, height
            return super()._check_frame(frame, seeding)

    models = dict(backends)
    if '+graphs' in variant:
        models.update({n: GraphedBackend(backends[n]) for n in PER_FRAME_MODELS})
    sam = SamuraiModels(constants=constants, backend='torch', **models)
    tracker = GpuFrameTracker(sam, TrackerConfig(crop_size=512, max_kf=max_kf))
    if variant.startswith('cuda-glue'):
        ops = CudaGlueOps('cuda')
        tracker.ops = ops
        tracker.glue = FrameGlue(constants, ops)
        if '+bank' in variant:
            from samurai_tracker.gpu.device_glue import DeviceFrameGlue
            tracker.glue = DeviceFrameGlue(constants, ops)
        if '+nosync' in variant:  # no device sync at stage boundaries (stage times = launch)
            setattr(ops, 'synchronize', lambda: None)
    return tracker


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


def _run_case(backends: Dict[str, Any], constants: Any, variant: str, max_kf: int,
              host_frames: List[np.ndarray], dev_frames: List[Any], clip: Any, n: int,
              warmup: int, profile_frames: int, cprofile_frames: int = 0) -> Dict[str, Any]:
    import torch
    from samurai_tracker.tracker.runtime import STAGES

    tracker = _tracker(backends, constants, variant, max_kf)
    frames = host_frames if variant == 'torch-ops' else dev_frames
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
        if tracker.timings.get('image_encoder', 0.0) > 0.0:
            full += 1
            for s in STAGES:
                stage_sum[s] += tracker.timings.get(s, 0.0)
    _sync()
    wall = time.perf_counter() - start
    rss1, mem1 = _rss_mib(), _gpu_mib()
    ms = np.array(per_frame) * 1e3
    result = {
        'variant': variant, 'max_kf': max_kf, 'frames': n, 'fps': n / wall,
        'ms_mean': float(ms.mean()), 'ms_p50': float(np.percentile(ms, 50)),
        'ms_p90': float(np.percentile(ms, 90)), 'full_inference_frames': full,
        'stage_ms_full_frames': {s: v / max(full, 1) for s, v in stage_sum.items()},
        'rss_mib_start': rss0, 'rss_mib_growth': rss1 - rss0,
        'gpu_mib_start': mem0, 'gpu_mib_growth': mem1 - mem0,
        'gpu_peak_mib': _gpu_mib(peak=True),
        'gpu_mib_growth_per_frame': (mem1 - mem0) / n,
    }
    if profile_frames:
        result.update(_gpu_profile(tracker, frames, profile_frames))
    if cprofile_frames:
        result['host_profile'] = _host_profile(tracker, frames, cprofile_frames)
    return result


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
    return rows[:40]


def main() -> int:
    """Run the comparison, print a table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='tiny,base_plus')
    ap.add_argument('--variants', default=','.join(VARIANTS))
    ap.add_argument('--max-kf', default='0,2', help='max_kf values (comma separated)')
    ap.add_argument('--frames', type=int, default=300, help='timed frames per case')
    ap.add_argument('--clip-frames', type=int, default=150, help='distinct 1080p frames')
    ap.add_argument('--warmup', type=int, default=15)
    ap.add_argument('--profile-frames', type=int, default=20)
    ap.add_argument('--cprofile', type=int, default=0,
                    help='cProfile this many frames of --cprofile-variant (tiny, max_kf 0)')
    ap.add_argument('--cprofile-variant', default='cuda-glue+graphs+bank')
    ap.add_argument('--precision', default='fp16', choices=('fp32', 'fp16', 'bf16'))
    ap.add_argument('--device', default='cuda', help="'cpu' only smoke-tests torch-ops")
    ap.add_argument('--reference-inputs', default='',
                    help='folder to write <size>.pt weights, frames/*.jpg and seed_box.json '
                         'for timing a reference predictor on the same weights and clip')
    ap.add_argument('--out', default=str(DEFAULT_OUT))
    args = ap.parse_args()

    import torch
    from samurai_tracker.synthetic.clip import SyntheticClip

    clip = SyntheticClip(num_frames=args.clip_frames, width=1920, height=1080,
                         object_size=(240, 180), seed=3)
    host_frames = [np.ascontiguousarray(clip.frame(i)) for i in range(clip.num_frames)]
    cuda = args.device == 'cuda'
    dev_frames = [torch.from_numpy(f).cuda() for f in host_frames] if cuda else host_frames
    if args.reference_inputs:
        import cv2
        frame_dir = Path(args.reference_inputs) / 'frames'
        frame_dir.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(host_frames):
            cv2.imwrite(str(frame_dir / f'{i:05d}.jpg'), frame[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        (Path(args.reference_inputs) / 'seed_box.json').write_text(
            json.dumps([float(v) for v in clip.truth(0).xyxy]))
    report: Dict[str, Any] = {'device': torch.cuda.get_device_name(0) if cuda else 'cpu',
                              'torch': torch.__version__, 'precision': args.precision,
                              'crop': 512, 'frame': '1920x1080', 'cases': []}
    for size in [s for s in args.sizes.split(',') if s]:
        t0 = time.perf_counter()
        weights = str(Path(args.reference_inputs) / f'{size}.pt') if args.reference_inputs \
            else ''
        backends, constants = _build(size, args.precision, args.device, weights)
        build_s = time.perf_counter() - t0
        for variant in [v for v in args.variants.split(',') if v]:
            for max_kf in [int(k) for k in args.max_kf.split(',') if k]:
                try:
                    res = _run_case(backends, constants, variant, max_kf, host_frames,
                                    dev_frames, clip, args.frames, args.warmup,
                                    args.profile_frames,
                                    args.cprofile if (size, variant, max_kf) == (
                                        'tiny', args.cprofile_variant, 0) else 0)
                except Exception as exc:  # noqa: BLE001 - record and go on to the next case
                    res = {'variant': variant, 'max_kf': max_kf,
                           'error': f'{type(exc).__name__}: {exc}'}
                res.update({'size': size, 'model_build_s': build_s})
                report['cases'].append(res)
                print(json.dumps(res), flush=True)
        del backends
        if cuda:
            torch.cuda.empty_cache()
    base = {(c['size'], c['max_kf']): c.get('fps') for c in report['cases']
            if c['variant'] == 'torch-ops'}
    print(f"\n{'size':9} {'variant':17} {'kf':>2} {'fps':>7} {'x ops':>6} {'ms p50':>7} "
          f"{'gpu ms':>7} {'events':>7} {'enc':>6} {'mattn':>6} {'dec':>6} {'menc':>6} "
          f"{'glue':>6} {'pre':>6} {'dGPU MiB':>8} {'dRSS':>6}")
    for c in report['cases']:
        if 'error' in c:
            print(f"{c['size']:9} {c['variant']:17} {c['max_kf']:2} error: {c['error'][:80]}")
            continue
        st = c['stage_ms_full_frames']
        ratio = c['fps'] / base[(c['size'], c['max_kf'])] if base.get(
            (c['size'], c['max_kf'])) else float('nan')
        print(f"{c['size']:9} {c['variant']:17} {c['max_kf']:2} {c['fps']:7.1f} {ratio:6.2f} "
              f"{c['ms_p50']:7.2f} {c.get('gpu_kernel_ms_per_frame', float('nan')):7.2f} "
              f"{c.get('gpu_events_per_frame', float('nan')):7.0f} "
              f"{st['image_encoder']:6.2f} {st['memory_attention']:6.2f} "
              f"{st['mask_decoder']:6.2f} {st['memory_encoder']:6.2f} {st['glue']:6.2f} "
              f"{st['preprocess']:6.2f} {c['gpu_mib_growth']:8.1f} {c['rss_mib_growth']:6.1f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    sys.exit(main())
