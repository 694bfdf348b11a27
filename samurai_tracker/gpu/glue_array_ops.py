"""The tracker's array-ops seam implemented with the CUDA glue kernels (torch tensors).

:class:`CudaGlueOps` is a drop-in :class:`~samurai_tracker.tracker.array_ops.ArrayOps`
for the PyTorch backend on a CUDA device: it keeps :class:`TorchOps`' generic tensor
handling and replaces the per-frame glue with single kernels from ``glue_kernels.cu``:

=================  ===========================================================
``preprocess``     one kernel: crop + pad + bilinear resize + normalise; the frame
                   may be a numpy array (uploaded once through a pinned buffer) or
                   a uint8 CUDA tensor already on the GPU (read in place)
``tokens``         tiled transpose ``[1, C, h, w] -> [h*w, 1, C]``
``untokens``       tiled transpose back
``upsample``       bilinear ``align_corners=False``, PyTorch-exact
``sigmoid``        the fused scale-sigmoid kernel with scale 1, bias 0
``mask_box``       atomics min/max on the device; 4 ints come back
=================  ===========================================================

Difference from :class:`TorchOps`: the crop is resized with plain bilinear sampling
(no antialiasing when shrinking), as a hardware scaler does. Kernels launch on torch's
current stream, so the calls can be captured in CUDA graphs.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.gpu.glue_ops import box_from_device, GlueOps
from samurai_tracker.tracker.array_ops import TorchOps

__all__ = ['CudaGlueOps']


class CudaGlueOps(TorchOps):
    """:class:`~samurai_tracker.tracker.array_ops.ArrayOps` on CUDA glue kernels.

    Parameters
    ----------
    device : str
        torch CUDA device, for example ``'cuda'`` or ``'cuda:1'``.
    compiler : {'cupy', 'pycuda', 'auto'}
        Kernel compiler (``'cupy'`` works on any stream and in graph capture).

    Raises
    ------
    GpuUnavailableError
        If there is no CUDA device or no kernel compiler.

    """

    name = 'cuda-glue'

    def __init__(self, device: str = 'cuda', compiler: str = 'cupy') -> None:
        super().__init__(device)
        if self.device.type != 'cuda':
            raise ValueError(f'CudaGlueOps needs a CUDA device, got {device!r}; use TorchOps '
                             'or NumpyOps on the CPU')
        index = self.device.index if self.device.index is not None else \
            self._torch.cuda.current_device()
        self.kernels = GlueOps(compiler, index)
        self._staging: Optional[Tuple[Any, Any]] = None  # (pinned host, device) frame buffers

    def _frame_on_device(self, frame: Any) -> Any:
        torch = self._torch
        if isinstance(frame, torch.Tensor):
            return frame if frame.device.type == 'cuda' else frame.to(self.device)
        host = np.ascontiguousarray(frame)
        if self._staging is None or tuple(self._staging[0].shape) != host.shape:
            pinned = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
            self._staging = (pinned, torch.empty(host.shape, dtype=torch.uint8,
                                                 device=self.device))
        pinned, dev = self._staging
        # the previous frame's copy must be done before the pinned buffer is rewritten
        torch.cuda.current_stream(self.device).synchronize()
        pinned.numpy()[...] = host
        dev.copy_(pinned, non_blocking=True)
        return dev

    def preprocess(self, frame: Any, window: Tuple[int, int, int, int], size: int,
                   mean: Sequence[float], std: Sequence[float]) -> Any:
        """Crop, pad, resize and normalise in one kernel; see ``ArrayOps.preprocess``.

        ``frame`` is (H, W, 3) uint8 RGB: a numpy array or a CUDA tensor.
        """
        x0, y0, width, height = (float(v) for v in window)
        return self.kernels.crop_resize_normalize_rgb(
            self._frame_on_device(frame), [x0, y0, x0 + width, y0 + height], size,
            mean=mean, std=std, pad=0.0)

    def tokens(self, x: Any) -> Any:
        """(1, C, h, w) -> (h*w, 1, C) with the tiled transpose kernel."""
        return self.kernels.chw_to_tokens(self._f32(x))

    def untokens(self, x: Any, height: int, width: int) -> Any:
        """(h*w, 1, C) -> (1, C, h, w) with the tiled transpose kernel."""
        return self.kernels.tokens_to_chw(self._f32(x), (height, width))

    def upsample(self, x: Any, size: int) -> Any:
        """Bilinear (1, K, h, w) -> (1, K, size, size), ``align_corners=False``."""
        return self.kernels.bilinear_resize(self._f32(x), (size, size))

    def sigmoid(self, x: Any) -> Any:
        """Logistic function with the scale-sigmoid kernel (scale 1, bias 0)."""
        return self.kernels.scale_sigmoid(self._f32(x), 1.0, 0.0)

    def mask_box(self, logits: Any) -> Optional[npt.NDArray[np.float64]]:
        """Extent of ``logits > 0`` by device atomics; ``[x0, y0, x1 + 1, y1 + 1]`` or None."""
        box = box_from_device(self.kernels.mask_to_box(self._f32(logits)))
        if box is None:
            return None
        return np.array([box[0], box[1], box[2] + 1, box[3] + 1], np.float64)

    def _f32(self, x: Any) -> Any:
        """Return a contiguous float32 tensor (views such as ``masks[:, 1:2]`` are copied)."""
        torch = self._torch
        if x.dtype != torch.float32:
            x = x.float()
        return x if x.is_contiguous() else x.contiguous()
