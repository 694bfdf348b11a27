#!/usr/bin/env python3
"""Glue-kernel parity, sanitizer and latency report (needs a CUDA device).

Runs every kernel of ``samurai_tracker/gpu/glue_kernels.cu`` against its numpy host
reference on fresh random inputs (per array library: CuPy, torch, pycuda where present),
optionally re-runs the parity probe under ``compute-sanitizer`` (memcheck, initcheck,
racecheck), and times each kernel against the equivalent PyTorch ops measured in the
same run. Prints a table and writes JSON (default
``benchmarks/results/gpu_kernels_parity.json``).

Usage::

    python benchmarks/gpu_kernel_parity.py                 # parity + timing
    python benchmarks/gpu_kernel_parity.py --sanitize      # + compute-sanitizer runs
    python benchmarks/gpu_kernel_parity.py --parity-only --families cupy   # (sanitizer child)
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import re
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from samurai_tracker.gpu import GlueOps, host_reference as ref  # noqa: E402
from samurai_tracker.gpu.parity import run_parity  # noqa: E402
from samurai_tracker.gpu.timing import gpu_time_us  # noqa: E402

DEFAULT_OUT = ROOT / 'benchmarks' / 'results' / 'gpu_kernels_parity.json'


def _parity(families: List[str], trials: int) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for fam in families:
        compiler = 'pycuda' if fam == 'pycuda' else 'cupy'
        try:
            ops = GlueOps(compiler)
        except Exception as exc:  # noqa: BLE001 - report what is missing and go on
            out[fam] = {'error': f'{type(exc).__name__}: {exc}'}
            continue
        res = run_parity(ops, fam, trials=trials, seed=1234)
        out[fam] = {'compiler': ops.module.compiler,
                    'results': [r.as_dict() for r in res],
                    'all_passed': all(r.passed for r in res)}
    return out


def _sanitize(trials: int) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for tool in ('memcheck', 'initcheck', 'racecheck'):
        cmd = ['compute-sanitizer', '--tool', tool, sys.executable, __file__,
               '--parity-only', '--families', 'cupy', '--trials', str(trials),
               '--out', os.devnull]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        text = proc.stdout + proc.stderr
        m = re.search(r'ERROR SUMMARY: (\d+) error', text)
        hazards = re.search(r'RACECHECK SUMMARY: (\d+) hazard', text)
        out[tool] = {'errors': int(m.group(1)) if m else None,
                     'hazards': int(hazards.group(1)) if hazards else None,
                     'returncode': proc.returncode, 'seconds': time.perf_counter() - t0,
                     'tail': text[-1500:]}
    return out


def _timing() -> List[Dict[str, Any]]:
    import torch
    import torch.nn.functional as F

    ops = GlueOps('cupy')
    dev = 'cuda'
    rng = np.random.default_rng(5)
    frame_np = rng.integers(0, 256, size=(1080, 1920, 3), dtype=np.uint8)
    frame = torch.from_numpy(frame_np).to(dev)
    yp = torch.from_numpy(rng.integers(0, 256, size=(1080, 1920), dtype=np.uint8)).to(dev)
    uv = torch.from_numpy(rng.integers(0, 256, size=(540, 960, 2), dtype=np.uint8)).to(dev)
    crop = [700.3, 300.7, 1212.3, 812.7]
    mean = torch.tensor([0.485, 0.456, 0.406], device=dev).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=dev).view(1, 3, 1, 1)
    low = torch.randn(1, 1, 128, 128, device=dev) * 4
    hi = torch.randn(1, 1, 512, 512, device=dev) * 4
    feat = torch.randn(1, 256, 32, 32, device=dev)
    tokens = torch.randn(1024, 1, 256, device=dev)
    bias = torch.randn(256, device=dev)
    slots = [torch.randn(1, 64, 32, 32, device=dev) for _ in range(7)]
    slot_pos = [torch.randn(1, 64, 32, 32, device=dev) for _ in range(7)]
    tpos = torch.randn(7, 1, 1, 64, device=dev)
    ptrs = torch.randn(16, 256, device=dev)
    ptr_pos = torch.randn(16, 64, device=dev)
    rel = torch.arange(1, 17, device=dev, dtype=torch.float32)
    lin = torch.nn.Linear(256, 64).to(dev)
    w, b = lin.weight.detach(), lin.bias.detach()
    tidx = list(range(7))
    table, layout = ops.slot_table(tpos, slots, slot_pos, tidx)
    ar = torch.arange(512, device=dev)

    def torch_crop() -> Any:
        x = frame[300:813, 700:1213].permute(2, 0, 1)[None].float() / 255.0
        return (F.interpolate(x, (512, 512), mode='bilinear', align_corners=False) - mean) / std

    def torch_nv12() -> Any:
        y = yp[300:813, 700:1213].float()
        c = uv[150:407, 350:607].float().repeat_interleave(2, 0).repeat_interleave(2, 1)
        c = c[:513, :513] - 128.0
        yy = (y - 16.0) * 1.164
        rgb = torch.stack([yy + 1.596 * c[..., 1], yy - 0.392 * c[..., 0] - 0.813 * c[..., 1],
                           yy + 2.017 * c[..., 0]]).clamp(0, 255)[None] / 255.0
        return (F.interpolate(rgb, (512, 512), mode='bilinear', align_corners=False)
                - mean) / std

    def torch_box() -> Any:
        m = hi[0, 0] > 0
        rows, cols = m.any(1), m.any(0)
        return torch.stack([torch.where(cols, ar, 512).min(), torch.where(rows, ar, 512).min(),
                            torch.where(cols, ar, -1).max(), torch.where(rows, ar, -1).max()])

    def torch_bank() -> Any:
        mem = [s.flatten(2).permute(2, 0, 1) for s in slots]
        pos = [p.flatten(2).permute(2, 0, 1) + tpos[6 - i] for i, p in enumerate(slot_pos)]
        mem.append(ptrs.reshape(16, 1, 4, 64).permute(0, 2, 1, 3).flatten(0, 1))
        pos.append(ptr_pos[:, None].repeat_interleave(4, 0))
        return torch.cat(mem), torch.cat(pos)

    def torch_tpos() -> Any:
        dim_t = 10000 ** (2 * (torch.arange(128, device=dev) // 2) / 128)
        pe = (rel / 15.0)[:, None] / dim_t
        return F.linear(torch.cat([pe.sin(), pe.cos()], -1), w, b)

    cases: List[Tuple[str, Callable[[], Any], Callable[[], Any], Any]] = [
        ('crop_resize_normalize_rgb 1080p->512',
         lambda: ops.crop_resize_normalize_rgb(frame, crop, 512), torch_crop,
         lambda: ref.crop_resize_normalize(frame_np, crop, 512)),
        ('crop_resize_normalize_nv12 1080p->512',
         lambda: ops.crop_resize_normalize_nv12(yp, uv, crop, 512), torch_nv12, None),
        ('bilinear_resize 128->512', lambda: ops.bilinear_resize(low, (512, 512)),
         lambda: F.interpolate(low, (512, 512), mode='bilinear', align_corners=False), None),
        ('scale_sigmoid 512^2', lambda: ops.scale_sigmoid(hi),
         lambda: torch.sigmoid(hi) * 20.0 - 10.0, None),
        ('threshold_mask 512^2', lambda: ops.threshold_mask(hi),
         lambda: (hi > 0).to(torch.uint8), None),
        ('mask_to_box 512^2', lambda: ops.mask_to_box(hi[0, 0]), torch_box, None),
        ('chw_to_tokens 256x32x32', lambda: ops.chw_to_tokens(feat),
         lambda: feat.flatten(2).permute(2, 0, 1).contiguous(), None),
        ('tokens_to_chw 1024x256', lambda: ops.tokens_to_chw(tokens, (32, 32)),
         lambda: tokens.permute(1, 2, 0).reshape(1, 256, 32, 32).contiguous(), None),
        ('add_bias 1024x256', lambda: ops.add_bias(tokens, bias), lambda: tokens + bias, None),
        ('assemble_memory_bank 7x1024+64', lambda: ops.assemble_memory_bank_from_table(
            table, layout, tpos, ptrs, ptr_pos), torch_bank, None),
        ('obj_ptr_tpos_encode 16x256->64',
         lambda: ops.obj_ptr_tpos_encode(rel, 15.0, w, b), torch_tpos, None),
    ]
    rows = []
    for name, ours, theirs, host in cases:
        t_ours, t_torch = gpu_time_us(ours), gpu_time_us(theirs)
        t_host = None
        if host is not None:
            t0 = time.perf_counter()
            for _ in range(3):
                host()
            t_host = (time.perf_counter() - t0) / 3 * 1e6
        rows.append({'kernel': name, 'ours_us': t_ours, 'torch_us': t_torch,
                     'speedup_vs_torch': t_torch / t_ours, 'host_numpy_us': t_host})
    return rows


def main() -> int:
    """Run parity (and sanitizers, timing), print a table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--families', default='cupy,torch,pycuda',
                    help='array libraries to run parity with (comma separated)')
    ap.add_argument('--trials', type=int, default=3, help='random inputs per kernel')
    ap.add_argument('--parity-only', action='store_true', help='skip timing')
    ap.add_argument('--sanitize', action='store_true',
                    help='also run the probe under compute-sanitizer memcheck/initcheck/racecheck')
    ap.add_argument('--out', default=str(DEFAULT_OUT), help='JSON output path')
    args = ap.parse_args()
    report: Dict[str, Any] = {'argv': sys.argv[1:]}
    try:
        import torch
        report['device'] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - torch is optional for the sanitizer child
        report['device'] = 'unknown'
    report['parity'] = _parity([f for f in args.families.split(',') if f], args.trials)
    ok = all(v.get('all_passed', False) for v in report['parity'].values() if 'results' in v)
    print(f"{'family':8} {'case':28} {'max_abs_err':>12} {'tolerance':>10} pass")
    for fam, v in report['parity'].items():
        if 'error' in v:
            print(f'{fam:8} unavailable: {v["error"]}')
            continue
        for r in v['results']:
            print(f"{fam:8} {r['case']:28} {r['max_abs_err']:12.3e} {r['tolerance']:10.1e} "
                  f"{r['passed']}")
    if args.sanitize:
        report['sanitizer'] = _sanitize(1)
        for tool, v in report['sanitizer'].items():
            print(f"compute-sanitizer {tool:10} errors={v['errors']} hazards={v['hazards']} "
                  f"rc={v['returncode']} ({v['seconds']:.0f} s)")
            clean = v['hazards'] == 0 if tool == 'racecheck' else v['errors'] == 0
            ok = ok and clean and v['returncode'] == 0
    if not args.parity_only:
        report['timing'] = _timing()
        print(f"\n{'kernel':36} {'ours us':>9} {'torch us':>9} {'x torch':>8} {'numpy us':>10}")
        for r in report['timing']:
            host = f"{r['host_numpy_us']:10.0f}" if r['host_numpy_us'] else f"{'-':>10}"
            print(f"{r['kernel']:36} {r['ours_us']:9.1f} {r['torch_us']:9.1f} "
                  f"{r['speedup_vs_torch']:8.2f} {host}")
    report['all_passed'] = ok
    if args.out != os.devnull:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
