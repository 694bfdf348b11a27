"""Kernel parity probe: every glue kernel against its numpy host reference.

Drives each kernel with fresh random inputs at the runtime's sizes (1080p frame, 512
crop, 128 -> 512 masks, 7-slot memory bank), poisons every output first so an element
the kernel never writes shows up as a mismatch, and compares with
:mod:`samurai_tracker.gpu.host_reference`. Tolerances follow the validated port this
project follows: exact for transpose, bias add, threshold, mask -> box and the memory
bank; 2e-6 for the sigmoid (per unit of ``scale``); 2e-7 for bilinear (float32).
Used by ``test/gpu`` and ``benchmarks/gpu_kernel_parity.py``; needs a CUDA device.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from samurai_tracker.gpu import host_reference as ref
from samurai_tracker.gpu.device_arrays import ArrayFamily
from samurai_tracker.gpu.glue_ops import GlueOps

__all__ = ['ParityResult', 'TOLERANCES', 'run_parity']

#: Maximum absolute error allowed per case (0 means bit-exact).
TOLERANCES: Dict[str, float] = {
    'crop_resize_normalize_rgb': 2e-6,
    'crop_resize_normalize_nv12': 2e-6,
    'bilinear_resize': 2e-7,
    'scale_sigmoid': 2e-6,
    'scale_sigmoid_mem_enc': 2e-6 * 20.0,
    'threshold_mask': 0.0,
    'mask_to_box': 0.0,
    'chw_to_tokens': 0.0,
    'chw_to_tokens_bias': 0.0,
    'tokens_to_chw': 0.0,
    'add_bias': 0.0,
    'assemble_memory_bank': 0.0,
    'obj_ptr_tpos_encode': 1e-5,
}


@dataclass(frozen=True)
class ParityResult:
    """Outcome of one parity case.

    Parameters
    ----------
    case : str
        Kernel (and variant) name, a key of :data:`TOLERANCES`.
    max_abs_err : float
        Largest ``|kernel - host|`` over all trials (inf on a shape mismatch or NaN).
    tolerance : float
        Allowed maximum (0: bit-exact).
    trials : int
        Independent random inputs tried.
    elements : int
        Output elements compared per trial.

    """

    case: str
    max_abs_err: float
    tolerance: float
    trials: int
    elements: int

    @property
    def passed(self) -> bool:
        """Whether the error is within tolerance (NaN never passes)."""
        return bool(np.isfinite(self.max_abs_err) and self.max_abs_err <= self.tolerance)

    def as_dict(self) -> Dict[str, Any]:
        """Return a JSON-ready dict including ``passed``."""
        return {**asdict(self), 'passed': self.passed}


def _err(got: np.ndarray, want: np.ndarray) -> float:
    if got.shape != want.shape:
        return float('inf')
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return float('inf') if not np.all(np.isfinite(diff)) else float(diff.max(initial=0.0))


class _Probe:
    def __init__(self, ops: GlueOps, fam: ArrayFamily, rng: np.random.Generator) -> None:
        self.ops, self.fam, self.rng = ops, fam, rng

    def up(self, host: np.ndarray) -> Any:
        return self.fam.upload(host)

    def out(self, shape: Tuple[int, ...], dtype: Any) -> Any:
        arr = self.fam.empty(shape, dtype)
        self.fam.fill(arr, np.nan if np.dtype(dtype).kind == 'f' else 0xAB)
        return arr

    def down(self, arr: Any) -> np.ndarray:
        return self.fam.download(arr)

    def crop_box(self, h: int, w: int) -> List[float]:
        # crops that sit inside, straddle an edge, or leave the frame
        cx, cy = self.rng.uniform(-0.1 * w, 1.1 * w), self.rng.uniform(-0.1 * h, 1.1 * h)
        side = self.rng.uniform(40.0, 1.5 * h)
        return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]

    # each case returns (host result, kernel result)
    def crop_resize_normalize_rgb(self) -> Tuple[np.ndarray, np.ndarray]:
        h, w = 1080, 1920
        img = self.rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        crop = self.crop_box(h, w)
        got = self.ops.crop_resize_normalize_rgb(self.up(img), crop, 512,
                                                 out=self.out((1, 3, 512, 512), np.float32))
        return ref.crop_resize_normalize(img, crop, 512), self.down(got)

    def crop_resize_normalize_nv12(self) -> Tuple[np.ndarray, np.ndarray]:
        h, w = 1080, 1920
        yp = self.rng.integers(0, 256, size=(h, w), dtype=np.uint8)
        uv = self.rng.integers(0, 256, size=(h // 2, w // 2, 2), dtype=np.uint8)
        crop = self.crop_box(h, w)
        got = self.ops.crop_resize_normalize_nv12(self.up(yp), self.up(uv), crop, 512,
                                                  out=self.out((1, 3, 512, 512), np.float32))
        return ref.crop_resize_normalize_nv12(yp, uv, crop, 512), self.down(got)

    def bilinear_resize(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(0.0, 6.0, size=(1, 3, 128, 128)).astype(np.float32)
        got = self.ops.bilinear_resize(self.up(x), (512, 512),
                                       out=self.out((1, 3, 512, 512), np.float32))
        return ref.bilinear_resize(x, (512, 512)), self.down(got)

    def _sigmoid(self, scale: float, bias: float) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(0.0, 8.0, size=(1, 1, 512, 512)).astype(np.float32)
        x.flat[:4] = [0.0, 90.0, -90.0, -0.0]
        got = self.ops.scale_sigmoid(self.up(x), scale, bias,
                                     out=self.out(x.shape, np.float32))
        return ref.scale_sigmoid(x, scale, bias), self.down(got)

    def scale_sigmoid(self) -> Tuple[np.ndarray, np.ndarray]:
        return self._sigmoid(1.0, 0.0)

    def scale_sigmoid_mem_enc(self) -> Tuple[np.ndarray, np.ndarray]:
        return self._sigmoid(20.0, -10.0)

    def threshold_mask(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(size=(512, 512)).astype(np.float32)
        x[0, :8] = 0.0
        got = self.ops.threshold_mask(self.up(x), out=self.out(x.shape, np.uint8))
        return ref.threshold_mask(x), self.down(got)

    def mask_to_box(self) -> Tuple[np.ndarray, np.ndarray]:
        results = []
        for kind in ('rect', 'noise', 'empty', 'pixel'):
            x = np.full((512, 512), -4.0, np.float32)
            if kind == 'rect':
                x0, x1 = np.sort(self.rng.integers(0, 512, 2))
                y0, y1 = np.sort(self.rng.integers(0, 512, 2))
                x[y0:y1 + 1, x0:x1 + 1] = 2.0
            elif kind == 'noise':
                x = self.rng.normal(-3.0, 1.0, size=(512, 512)).astype(np.float32)
            elif kind == 'pixel':
                x[self.rng.integers(0, 512), self.rng.integers(0, 512)] = 0.5
            box = ref.mask_to_box(x)
            want = np.array(box if box is not None else (512, 512, -1, -1), np.int32)
            got = self.down(self.ops.mask_to_box(self.up(x), out=self.out((4,), np.int32)))
            results.append((want, got))
        return (np.stack([r[0] for r in results]), np.stack([r[1] for r in results]))

    def chw_to_tokens(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(size=(1, 256, 32, 32)).astype(np.float32)
        got = self.ops.chw_to_tokens(self.up(x), out=self.out((1024, 1, 256), np.float32))
        return ref.chw_to_tokens(x), self.down(got)

    def chw_to_tokens_bias(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(size=(1, 32, 128, 128)).astype(np.float32)
        b = self.rng.normal(size=32).astype(np.float32)
        got = self.ops.chw_to_tokens(self.up(x), self.up(b),
                                     out=self.out((128 * 128, 1, 32), np.float32))
        return ref.chw_to_tokens(x, b), self.down(got)

    def tokens_to_chw(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(size=(1024, 1, 256)).astype(np.float32)
        got = self.ops.tokens_to_chw(self.up(x), (32, 32),
                                     out=self.out((1, 256, 32, 32), np.float32))
        return ref.tokens_to_chw(x, (32, 32)), self.down(got)

    def add_bias(self) -> Tuple[np.ndarray, np.ndarray]:
        x = self.rng.normal(size=(1024, 1, 256)).astype(np.float32)
        b = self.rng.normal(size=256).astype(np.float32)
        got = self.ops.add_bias(self.up(x), self.up(b), out=self.out(x.shape, np.float32))
        return ref.add_bias(x, b), self.down(got)

    def assemble_memory_bank(self) -> Tuple[np.ndarray, np.ndarray]:
        feats = [self.rng.normal(size=(1, 64, 32, 32)).astype(np.float32) for _ in range(6)]
        poss = [self.rng.normal(size=(1, 64, 32, 32)).astype(np.float32) for _ in range(6)]
        dfeats = [self.up(f) for f in feats]
        dposs = [self.up(p) for p in poss]
        order = [0, 5, 4, 3, 2, 1, 0]  # the seed frame twice (cold start)
        tidx = [int(v) for v in self.rng.permutation(7)]
        tpos = self.rng.normal(size=(7, 1, 1, 64)).astype(np.float32)
        ptrs = self.rng.normal(size=(16, 256)).astype(np.float32)
        ptr_pos = self.rng.normal(size=(16, 64)).astype(np.float32)
        shape = (7 * 1024 + 64, 1, 64)
        mem, pos = self.ops.assemble_memory_bank(
            [dfeats[i] for i in order], [dposs[i] for i in order], tidx, self.up(tpos),
            self.up(ptrs), self.up(ptr_pos),
            out=(self.out(shape, np.float32), self.out(shape, np.float32)))
        want = ref.assemble_memory_bank([feats[i] for i in order], [poss[i] for i in order],
                                        tidx, tpos, ptrs, ptr_pos)
        return np.stack(want), np.stack([self.down(mem), self.down(pos)])

    def obj_ptr_tpos_encode(self) -> Tuple[np.ndarray, np.ndarray]:
        rel = self.rng.integers(-15, 16, size=16).astype(np.float32)
        w = (self.rng.normal(size=(64, 256)) / 16.0).astype(np.float32)
        b = self.rng.normal(size=64).astype(np.float32)
        got = self.ops.obj_ptr_tpos_encode(self.up(rel), 15.0, self.up(w), self.up(b),
                                           out=self.out((16, 64), np.float32))
        return ref.obj_ptr_tpos_encode(rel, 15.0, w, b), self.down(got)


def run_parity(ops: GlueOps, family: str = 'cupy', trials: int = 3, seed: int = 0,
               progress: Callable[[str], None] = lambda _: None) -> List[ParityResult]:
    """Run every parity case ``trials`` times on fresh random inputs.

    Parameters
    ----------
    ops : GlueOps
        Compiled kernels.
    family : {'cupy', 'torch', 'pycuda'}
        Array library the device inputs are made with (checks that path too).
    trials : int
        Independent inputs per case.
    seed : int
        Seed of the input generator.
    progress : callable
        Called with each case name before it runs.

    Returns
    -------
    list of ParityResult
        One per key of :data:`TOLERANCES`, in that order.

    """
    probe = _Probe(ops, ArrayFamily(family, ops.module.device), np.random.default_rng(seed))
    results = []
    for case, tol in TOLERANCES.items():
        progress(case)
        worst, elements = 0.0, 0
        for _ in range(trials):
            want, got = getattr(probe, case)()
            worst = max(worst, _err(got, want))
            elements = int(want.size)
        results.append(ParityResult(case, worst, tol, trials, elements))
    return results
