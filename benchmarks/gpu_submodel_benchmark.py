#!/usr/bin/env python3
"""The four per-frame SAM 2.1 sub-models on a CUDA GPU, one at a time (needs a GPU).

For a random SAM 2.1 (tiny, base_plus) at the 512 crop this measures, per model and with
CUDA-graph replay (the way the tracker runs them), the GPU time of:

- ``autocast``: fp32 weights under fp16 autocast (the torch backend's ``precision='fp16'``);
- ``fp16-weights``: the same with the weights stored in fp16 (``cast_weights=True``),
  which removes the per-layer weight casts a graph cannot cache;
- for memory attention also ``no-mask``: the full bank without the ``memory_valid`` key
  bias (what the tracker uses once all 23 slots are in use), against ``mask-full`` (the
  same bank with an all-ones bias) and ``mask-partial`` (a young track: 2 frames and 2
  pointers).

It also reports the cosine similarity of each output against the fp32 model (the
accuracy price of each choice). Prints a table and writes JSON (default
``benchmarks/results/gpu_submodel_benchmark.json``).

Usage::

    python benchmarks/gpu_submodel_benchmark.py --sizes tiny,base_plus --iters 200
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / 'benchmarks' / 'results' / 'gpu_submodel_benchmark.json'
PER_FRAME_MODELS = ('image_encoder', 'memory_attention', 'mask_decoder', 'memory_encoder')


def _graph(fn: Callable[[], Any]) -> Tuple[Any, Any]:
    """Capture ``fn`` (no arguments, static inputs) into a CUDA graph -> (graph, outputs)."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, out


def _cosine(a: Any, b: Any) -> float:
    import torch

    a, b = a.double().flatten(), b.double().flatten()
    return float(torch.nn.functional.cosine_similarity(a, b, dim=0))


def _feeds(name: str, crop: int, full: bool = True) -> Dict[str, Any]:
    """Random inputs of the contract's shapes (a plausible bank for memory attention)."""
    import torch

    from samurai_tracker.engines.contract import model_contract, NUM_MASKMEM

    gen = torch.Generator(device='cuda').manual_seed(0)
    feeds = {}
    for spec in model_contract(name).input_specs(crop):
        shape = tuple(int(d) if isinstance(d, int) else 3 for d in spec.shape)
        feeds[spec.name] = torch.randn(shape, device='cuda', generator=gen)
    if name == 'memory_attention':
        valid = torch.ones_like(feeds['memory_valid'])
        if not full:
            valid.zero_()
            valid[0, :2] = 1.0
            valid[0, NUM_MASKMEM:NUM_MASKMEM + 2] = 1.0
        feeds['memory_valid'] = valid
    if name == 'mask_decoder':
        feeds['sparse'] = torch.randn((1, 2, 256), device='cuda', generator=gen)
    return feeds


def _bench_size(size: str, iters: int) -> List[Dict[str, Any]]:
    import torch

    from samurai_tracker.backends.torch_backend import TorchBackend
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2
    from samurai_tracker.engines.wrappers import build_wrappers
    from samurai_tracker.gpu.timing import gpu_time_us

    rows: List[Dict[str, Any]] = []
    variants = {}
    for label, precision, cast in (('fp32', 'fp32', False), ('autocast', 'fp16', False),
                                   ('fp16-weights', 'fp16', True)):
        model, _ = build_sam2(size, 512, seed=0, offsets=BiasOffsets(10.0, 4.0))
        variants[label] = {n: TorchBackend(n, m, 512, device='cuda', precision=precision,
                                           cast_weights=cast)
                           for n, m in build_wrappers(model, 512).items()}
    for name in PER_FRAME_MODELS:
        cases: List[Tuple[str, str, bool, bool]] = [('autocast', 'autocast', True, False),
                                                    ('fp16-weights', 'fp16-weights', True,
                                                     False)]
        if name == 'memory_attention':
            cases = [('autocast mask-full', 'autocast', True, False),
                     ('autocast mask-partial', 'autocast', False, False),
                     ('autocast no-mask', 'autocast', True, True),
                     ('fp16-weights mask-full', 'fp16-weights', True, False),
                     ('fp16-weights no-mask', 'fp16-weights', True, True),
                     ('fp32 no-mask', 'fp32', True, True)]
        for label, variant, full, no_mask in cases:
            feeds = _feeds(name, 512, full)
            backend = variants[variant][name]
            reference = variants['fp32'][name].run(feeds)
            if no_mask:
                module = backend.module
                dtype = torch.float16 if backend.precision == 'fp16' else torch.float32

                def call(module: Any = module, feeds: Dict[str, Any] = feeds,
                         dtype: Any = dtype) -> Any:
                    args = [feeds[k] for k in ('curr', 'curr_pos', 'memory', 'memory_pos')]
                    with torch.inference_mode(), torch.autocast(
                            'cuda', dtype=torch.float16, enabled=dtype == torch.float16):
                        return {'conditioned': module(*args, None).float()}
            else:
                def call(backend: Any = backend, feeds: Dict[str, Any] = feeds) -> Any:
                    return backend.run(feeds)
            eager_ms = gpu_time_us(call, max(iters // 4, 10)) / 1000.0
            graph, out = _graph(call)
            graph_ms = gpu_time_us(graph.replay, iters) / 1000.0
            graph.replay()
            torch.cuda.synchronize()
            cos = min(_cosine(out[k], reference[k]) for k in out)
            row = {'size': size, 'model': name, 'variant': label, 'eager_ms': eager_ms,
                   'graph_ms': graph_ms, 'min_cosine_vs_fp32': cos}
            rows.append(row)
            print(json.dumps(row), flush=True)
            del graph
    return rows


def main() -> int:
    """Measure, print a table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='tiny,base_plus')
    ap.add_argument('--iters', type=int, default=200)
    ap.add_argument('--out', default=str(DEFAULT_OUT))
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print('this benchmark needs a CUDA GPU', file=sys.stderr)
        return 2
    report: Dict[str, Any] = {'device': torch.cuda.get_device_name(0),
                              'torch': torch.__version__, 'crop': 512, 'rows': []}
    for size in [s for s in args.sizes.split(',') if s]:
        report['rows'].extend(_bench_size(size, args.iters))
        torch.cuda.empty_cache()
    print(f"\n{'size':9} {'model':17} {'variant':24} {'eager ms':>9} {'graph ms':>9} "
          f"{'cos vs fp32':>11}")
    for r in report['rows']:
        print(f"{r['size']:9} {r['model']:17} {r['variant']:24} {r['eager_ms']:9.3f} "
              f"{r['graph_ms']:9.3f} {r['min_cosine_vs_fp32']:11.6f}")
    for size in {r['size'] for r in report['rows']}:
        for variant in ('autocast', 'fp16-weights'):
            picks = [r['graph_ms'] for r in report['rows'] if r['size'] == size and (
                r['variant'] == variant or r['variant'] == f'{variant} no-mask')]
            print(f'{size} {variant} (memory attention without mask): '
                  f'{sum(picks):.3f} ms per full frame')
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
