"""The small array-operations seam the per-frame glue is written against.

The runtime never calls numpy (or torch) directly on model tensors: it calls these few
operations, so that on a GPU backend the tensors stay on the device from the encoder to
the memory bank and back. :class:`NumpyOps` serves the CPU backends (ONNX Runtime,
TensorRT through host buffers); :class:`TorchOps` keeps torch tensors on the backend's
device (the PyTorch backend); a CUDA-kernel implementation can replace either by
implementing :class:`ArrayOps`.

Arrays are float32, batch 1, NCHW unless said. Only small results cross to the host:
predicted IoUs, the object score, a mask's bounding box (4 numbers), a stability score.
Generic arithmetic (``+``, ``*``, slicing, ``reshape``, ``@``) is used directly on the
arrays; numpy arrays and torch tensors agree on it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Protocol, Sequence, Tuple, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ['ArrayOps', 'NumpyOps', 'TorchOps', 'crop_and_resize', 'mask_extents']

UInt8Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float32]


@runtime_checkable
class ArrayOps(Protocol):
    """Operations on the runtime's arrays (numpy arrays or device tensors)."""

    name: str
    """Short name, reported in timings and benchmarks."""
    takes_device_frames: bool
    """Whether ``preprocess`` also takes frames already on the GPU (uint8 tensors)."""

    def from_host(self, array: npt.ArrayLike) -> Any:
        """Return ``array`` as a float32 array of this implementation."""
        ...

    def to_host(self, array: Any) -> npt.NDArray[Any]:
        """Return ``array`` as a numpy array on the host."""
        ...

    def zeros(self, shape: Sequence[int]) -> Any:
        """Return a float32 array of zeros."""
        ...

    def preprocess(self, frame: UInt8Image, window: Tuple[int, int, int, int], size: int,
                   mean: Sequence[float], std: Sequence[float]) -> Any:
        """Crop, resize and normalise a frame for the image encoder.

        Parameters
        ----------
        frame : numpy.ndarray, shape (H, W, 3), uint8
            RGB frame on the host.
        window : tuple of int
            ``(x0, y0, width, height)`` in frame pixels; may extend past the frame, where
            the mean colour is used (zero after normalisation).
        size : int
            Output side S.
        mean, std : sequence of float
            Per-channel normalisation on the [0, 1] scale.

        Returns
        -------
        array, shape (1, 3, S, S), float32

        """
        ...

    def tokens(self, x: Any) -> Any:
        """(1, C, h, w) -> (h*w, 1, C), SAM 2's ``flatten(2).permute(2, 0, 1)``."""
        ...

    def untokens(self, x: Any, height: int, width: int) -> Any:
        """(h*w, 1, C) -> (1, C, h, w), SAM 2's ``permute(1, 2, 0).view(1, C, h, w)``."""
        ...

    def upsample(self, x: Any, size: int) -> Any:
        """Bilinear resize (1, K, h, w) -> (1, K, size, size), ``align_corners=False``."""
        ...

    def sigmoid(self, x: Any) -> Any:
        """Element-wise logistic function."""
        ...

    def relu(self, x: Any) -> Any:
        """Element-wise ``max(x, 0)``."""
        ...

    def positive(self, x: Any) -> Any:
        """Element-wise ``1.0 where x > 0 else 0.0`` (float32)."""
        ...

    def mask_box(self, logits: Any) -> Optional[npt.NDArray[np.float64]]:
        """Extent of ``logits > 0`` of a (H, W) map as ``[x0, y0, x1 + 1, y1 + 1]`` or None."""
        ...

    def stability(self, logits: Any, delta: float) -> float:
        """Stability score of a (H, W) logit map (SAM): ``|x > delta| / |x > -delta|``."""
        ...

    def synchronize(self) -> None:
        """Wait for queued device work (for honest stage timings); no-op on the host."""
        ...


def crop_and_resize(frame: UInt8Image, window: Tuple[int, int, int, int], size: int,
                    fill: Sequence[float]) -> UInt8Image:
    """Cut ``window`` out of ``frame`` (padding with ``fill``) and resize it to S x S.

    Area averaging when both sides shrink (no aliasing on a 1080p frame), bilinear
    otherwise.

    Returns
    -------
    numpy.ndarray, shape (S, S, 3), uint8

    """
    x0, y0, width, height = (int(v) for v in window)
    frame_h, frame_w = frame.shape[:2]
    left, top = max(-x0, 0), max(-y0, 0)
    right, bottom = max(x0 + width - frame_w, 0), max(y0 + height - frame_h, 0)
    region = frame[max(y0, 0):min(y0 + height, frame_h), max(x0, 0):min(x0 + width, frame_w)]
    if left or top or right or bottom:
        if region.size == 0:
            region = np.empty((height, width, 3), np.uint8)
            region[:] = np.asarray(fill, np.uint8)
        else:
            region = np.asarray(cv2.copyMakeBorder(
                region, top, bottom, left, right, cv2.BORDER_CONSTANT,
                value=[float(v) for v in fill]), np.uint8)
    shrink = width >= size and height >= size
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    if (width, height) == (size, size):
        return np.ascontiguousarray(region)
    return np.asarray(cv2.resize(region, (size, size), interpolation=interpolation), np.uint8)


class NumpyOps:
    """:class:`ArrayOps` on numpy arrays (CPU backends)."""

    name = 'numpy'
    takes_device_frames = False

    def from_host(self, array: npt.ArrayLike) -> FloatArray:
        """Return a contiguous float32 copy-or-view."""
        return np.ascontiguousarray(array, dtype=np.float32)

    def to_host(self, array: Any) -> npt.NDArray[Any]:
        """Return the array itself."""
        return np.asarray(array)

    def zeros(self, shape: Sequence[int]) -> FloatArray:
        """Return float32 zeros."""
        return np.zeros(tuple(shape), dtype=np.float32)

    def preprocess(self, frame: UInt8Image, window: Tuple[int, int, int, int], size: int,
                   mean: Sequence[float], std: Sequence[float]) -> FloatArray:
        """See :meth:`ArrayOps.preprocess`; OpenCV area/bilinear resize."""
        mean_a = np.asarray(mean, np.float64)
        inv_std = (1.0 / np.asarray(std, np.float32)).reshape(1, 3, 1, 1)
        image = crop_and_resize(frame, window, size, np.round(mean_a * 255.0).tolist())
        # OpenCV's fused HWC -> NCHW, subtract and scale (4x faster than numpy), then 1/std
        blob = np.asarray(cv2.dnn.blobFromImage(
            image, 1.0 / 255.0, (size, size), tuple((mean_a * 255.0).tolist()),
            swapRB=False, crop=False), np.float32)
        blob *= inv_std
        return blob

    def tokens(self, x: Any) -> FloatArray:
        """See :meth:`ArrayOps.tokens`."""
        _, c, h, w = x.shape
        return np.ascontiguousarray(x.reshape(1, c, h * w).transpose(2, 0, 1))

    def untokens(self, x: Any, height: int, width: int) -> FloatArray:
        """See :meth:`ArrayOps.untokens`."""
        c = x.shape[2]
        return np.ascontiguousarray(x.transpose(1, 2, 0).reshape(1, c, height, width))

    def upsample(self, x: Any, size: int) -> FloatArray:
        """Bilinear resize with OpenCV.

        Its half-pixel rule and edge clamping equal ``F.interpolate(align_corners=False)``.
        """
        channels_last = np.ascontiguousarray(np.asarray(x[0], np.float32).transpose(1, 2, 0))
        out = cv2.resize(channels_last, (size, size), interpolation=cv2.INTER_LINEAR)
        if out.ndim == 2:
            out = out[:, :, None]
        return np.ascontiguousarray(out.transpose(2, 0, 1)[None])

    def sigmoid(self, x: Any) -> FloatArray:
        """Logistic function, overflow-free."""
        x = np.asarray(x, np.float32)
        return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)

    def relu(self, x: Any) -> FloatArray:
        """``max(x, 0)``."""
        return np.maximum(x, np.float32(0.0))

    def positive(self, x: Any) -> FloatArray:
        """``1.0 where x > 0``."""
        return (np.asarray(x) > 0).astype(np.float32)

    def mask_box(self, logits: Any) -> Optional[npt.NDArray[np.float64]]:
        """See :meth:`ArrayOps.mask_box`."""
        mask = np.asarray(logits) > 0
        cols = np.flatnonzero(mask.any(axis=0))
        if cols.size == 0:
            return None
        rows = np.flatnonzero(mask.any(axis=1))
        return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float64)

    def stability(self, logits: Any, delta: float) -> float:
        """See :meth:`ArrayOps.stability`."""
        x = np.asarray(logits)
        inner = np.count_nonzero(x > delta)
        outer = np.count_nonzero(x > -delta)
        return float(inner) / float(outer) if outer > 0 else 1.0

    def synchronize(self) -> None:
        """Nothing to wait for on the host."""


def mask_extents(logits: Any) -> Tuple[Any, Any]:
    """Extent of ``logits > 0`` per map, on the logits' device, without host synchronisation.

    Parameters
    ----------
    logits : torch.Tensor, shape (K, H, W)
        K logit maps.

    Returns
    -------
    extents : torch.Tensor, shape (K, 4), float32
        ``[x0, y0, x1 + 1, y1 + 1]`` in pixels (meaningless for an empty map).
    nonempty : torch.Tensor, shape (K,), bool
        Whether each map has a positive pixel.

    """
    import torch

    positive = logits > 0
    cols, rows = positive.any(dim=1), positive.any(dim=2)
    xs = torch.arange(cols.shape[1], dtype=torch.float32, device=logits.device)
    ys = torch.arange(rows.shape[1], dtype=torch.float32, device=logits.device)
    far = float(max(cols.shape[1], rows.shape[1]))
    extents = torch.stack([torch.where(cols, xs, far).amin(dim=1),
                           torch.where(rows, ys, far).amin(dim=1),
                           torch.where(cols, xs, -1.0).amax(dim=1) + 1.0,
                           torch.where(rows, ys, -1.0).amax(dim=1) + 1.0], dim=1)
    return extents, cols.any(dim=1)


class TorchOps:
    """:class:`ArrayOps` on torch tensors that stay on one device.

    Parameters
    ----------
    device : str
        torch device, for example ``'cuda'`` or ``'cpu'``.

    Raises
    ------
    ImportError
        With the install command, when torch is missing.

    """

    name = 'torch'
    takes_device_frames = True

    def __init__(self, device: str = 'cuda') -> None:
        try:
            import torch
        except ImportError as error:  # pragma: no cover - depends on the install
            raise ImportError('TorchOps needs torch: pip install torch') from error
        self._torch = torch
        self._functional = torch.nn.functional
        self.device = torch.device(device)
        self._norm: Dict[Tuple[float, ...], Tuple[Any, Any]] = {}

    def from_host(self, array: npt.ArrayLike) -> Any:
        """Upload as float32 on the device (tensors are moved, not copied, when possible)."""
        torch = self._torch
        if isinstance(array, torch.Tensor):
            return array.to(self.device, torch.float32)
        return torch.as_tensor(np.asarray(array, np.float32), device=self.device)

    def to_host(self, array: Any) -> npt.NDArray[Any]:
        """Download to a numpy array."""
        if isinstance(array, self._torch.Tensor):
            return array.detach().float().cpu().numpy()
        return np.asarray(array)

    def zeros(self, shape: Sequence[int]) -> Any:
        """Device float32 zeros."""
        return self._torch.zeros(tuple(shape), dtype=self._torch.float32, device=self.device)

    def preprocess(self, frame: UInt8Image, window: Tuple[int, int, int, int], size: int,
                   mean: Sequence[float], std: Sequence[float]) -> Any:
        """Upload the frame once (or read a uint8 tensor in place), crop, pad and resize.

        Bilinear with antialiasing when shrinking (``F.interpolate(antialias=True)``).
        """
        torch = self._torch
        x0, y0, width, height = (int(v) for v in window)
        frame_h, frame_w = frame.shape[:2]
        key = tuple(float(v) for v in (*mean, *std))
        if key not in self._norm:  # upload the normalisation constants once
            self._norm[key] = tuple(  # type: ignore[assignment]
                torch.tensor(v, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
                for v in (mean, std))
        mean_t, std_t = self._norm[key]
        canvas = mean_t.expand(1, 3, height, width).clone()
        ys, ye = max(y0, 0), min(y0 + height, frame_h)
        xs, xe = max(x0, 0), min(x0 + width, frame_w)
        if ye > ys and xe > xs:
            if isinstance(frame, torch.Tensor):  # a frame already on the device
                region = frame[ys:ye, xs:xe]
            else:
                region = torch.from_numpy(np.ascontiguousarray(frame[ys:ye, xs:xe]))
            region = region.to(self.device, non_blocking=True).permute(2, 0, 1)[None]
            canvas[:, :, ys - y0:ye - y0, xs - x0:xe - x0] = region.float() / 255.0
        if (width, height) != (size, size):
            canvas = self._functional.interpolate(
                canvas, size=(size, size), mode='bilinear', align_corners=False,
                antialias=width > size or height > size)
        return ((canvas - mean_t) / std_t).contiguous()

    def tokens(self, x: Any) -> Any:
        """See :meth:`ArrayOps.tokens`."""
        return x.flatten(2).permute(2, 0, 1).contiguous()

    def untokens(self, x: Any, height: int, width: int) -> Any:
        """See :meth:`ArrayOps.untokens`."""
        return x.permute(1, 2, 0).reshape(1, x.shape[2], height, width).contiguous()

    def upsample(self, x: Any, size: int) -> Any:
        """``F.interpolate(bilinear, align_corners=False)``."""
        return self._functional.interpolate(x.float(), size=(size, size), mode='bilinear',
                                            align_corners=False)

    def sigmoid(self, x: Any) -> Any:
        """``torch.sigmoid``."""
        return self._torch.sigmoid(x)

    def relu(self, x: Any) -> Any:
        """``torch.relu``."""
        return self._torch.relu(x)

    def positive(self, x: Any) -> Any:
        """``(x > 0).float()``."""
        return (x > 0).float()

    def mask_box(self, logits: Any) -> Optional[npt.NDArray[np.float64]]:
        """Row/column reductions on the device (:func:`mask_extents`); 5 numbers come back."""
        extents, nonempty = mask_extents(logits[None])
        values = self._torch.cat([extents[0], nonempty.float()]).cpu().tolist()
        if values[4] < 0.5:
            return None
        return np.array(values[:4], np.float64)

    def stability(self, logits: Any, delta: float) -> float:
        """See :meth:`ArrayOps.stability`."""
        inner = int((logits > delta).sum())
        outer = int((logits > -delta).sum())
        return float(inner) / float(outer) if outer > 0 else 1.0

    def synchronize(self) -> None:
        """``torch.cuda.synchronize`` on CUDA devices."""
        if self.device.type == 'cuda':
            self._torch.cuda.synchronize(self.device)
