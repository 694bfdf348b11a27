"""Numbers the glue kernels and their host references share: normalisation, YUV matrices.

Kept apart from both implementations so that a kernel and its numpy twin can never
disagree on a constant, only on arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple, Union

import numpy as np

from samurai_tracker.records import Box

__all__ = [
    'IMAGENET_MEAN',
    'IMAGENET_STD',
    'SIGMOID_BIAS_FOR_MEM_ENC',
    'SIGMOID_SCALE_FOR_MEM_ENC',
    'YUV_MATRICES',
    'CropLike',
    'YuvMatrix',
    'crop_window',
    'yuv_matrix',
]

#: SAM 2's image normalisation (RGB order, on pixel values scaled to [0, 1]).
IMAGENET_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
#: SAM 2's image normalisation standard deviation (RGB order).
IMAGENET_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)
#: SAM 2.1's memory-encoder mask transform ``sigmoid(x) * 20 - 10``.
SIGMOID_SCALE_FOR_MEM_ENC = 20.0
#: See :data:`SIGMOID_SCALE_FOR_MEM_ENC`.
SIGMOID_BIAS_FOR_MEM_ENC = -10.0

#: A crop window: a :class:`~samurai_tracker.records.Box` or ``[x1, y1, x2, y2]``.
CropLike = Union[Box, Sequence[float], np.ndarray]


@dataclass(frozen=True)
class YuvMatrix:
    """YUV -> RGB conversion, ``R = ky*(Y - y_off) + rv*(V - c_off)`` and so on.

    Parameters
    ----------
    name : str
        ``'bt601'``, ``'bt709'``, with ``'_full'`` for full-range video.
    ky, y_off, c_off : float
        Luma gain and the luma / chroma offsets (8-bit code values).
    rv, gu, gv, bu : float
        ``R += rv*V'``, ``G -= gu*U' + gv*V'``, ``B += bu*U'`` with ``U' = U - c_off``.

    """

    name: str
    ky: float
    y_off: float
    c_off: float
    rv: float
    gu: float
    gv: float
    bu: float


def _limited(name: str, kr: float, kb: float) -> YuvMatrix:
    kg = 1.0 - kr - kb
    ky = 255.0 / 219.0
    kc = 255.0 / 224.0
    return YuvMatrix(name, ky, 16.0, 128.0, kc * 2 * (1 - kr),
                     kc * 2 * (1 - kb) * kb / kg, kc * 2 * (1 - kr) * kr / kg, kc * 2 * (1 - kb))


def _full(name: str, kr: float, kb: float) -> YuvMatrix:
    kg = 1.0 - kr - kb
    return YuvMatrix(name, 1.0, 0.0, 128.0, 2 * (1 - kr), 2 * (1 - kb) * kb / kg,
                     2 * (1 - kr) * kr / kg, 2 * (1 - kb))


#: Supported matrices by name; video decoders output BT.601 or BT.709 limited range.
YUV_MATRICES = {
    'bt601': _limited('bt601', 0.299, 0.114),
    'bt709': _limited('bt709', 0.2126, 0.0722),
    'bt601_full': _full('bt601_full', 0.299, 0.114),
    'bt709_full': _full('bt709_full', 0.2126, 0.0722),
}


def yuv_matrix(name: str) -> YuvMatrix:
    """Return the YUV matrix called ``name``.

    Raises
    ------
    ValueError
        If the name is not one of :data:`YUV_MATRICES`.

    """
    try:
        return YUV_MATRICES[name]
    except KeyError:
        raise ValueError(f'unknown YUV matrix {name!r}; expected one of '
                         f'{sorted(YUV_MATRICES)}') from None


def crop_window(crop: CropLike) -> Tuple[float, float, float, float]:
    """Turn a crop box into ``(x, y, w, h)`` float pixels of the full frame.

    Parameters
    ----------
    crop : Box or sequence of 4 float
        ``[x1, y1, x2, y2]`` in full-frame pixels; may extend past the frame (the part
        outside is padded). Width and height must be positive.

    Returns
    -------
    tuple of 4 float
        Left, top, width, height.

    Raises
    ------
    ValueError
        If the box is not 4 finite numbers with ``x2 > x1`` and ``y2 > y1``.

    """
    xyxy = crop.xyxy if isinstance(crop, Box) else np.asarray(crop, dtype=np.float64)
    if xyxy.shape != (4,) or not np.all(np.isfinite(xyxy)):
        raise ValueError(f'crop must be 4 finite numbers [x1, y1, x2, y2], got {xyxy!r}')
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f'crop must have x2 > x1 and y2 > y1, got {[x1, y1, x2, y2]}')
    return x1, y1, x2 - x1, y2 - y1
