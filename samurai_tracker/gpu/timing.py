"""GPU time of a callable, measured with CUDA events (for the GPU benchmarks)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ['gpu_time_us']


def gpu_time_us(fn: Callable[[], Any], iters: int = 200, batches: int = 5,
                warmup: int = 10) -> float:
    """Return the median over ``batches`` of the per-call microseconds of ``fn``.

    Each batch records a CUDA event pair around ``iters`` back-to-back calls on torch's
    current stream, so launch overhead is included whenever the GPU waits for the host.
    Needs torch with CUDA.
    """
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(batches):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) * 1000.0 / iters)
    return float(np.median(samples))
