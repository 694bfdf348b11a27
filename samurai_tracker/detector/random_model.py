"""Build small detector ONNX files with the Ultralytics output contract, for tests and demos.

No weights can be downloaded here, so tests make their own models:

* :func:`build_random_yolo_onnx` - a randomly initialised convolutional network with the
  exact I/O contract of an exported Ultralytics YOLOv8/11 detector: input ``images``
  ``[1, 3, S, S]`` float32, output ``output0`` ``[1, 4 + nc, N]`` with
  ``N = (S/8)^2 + (S/16)^2 + (S/32)^2`` anchors (8400 at S = 640), boxes ``cx, cy, w, h`` in
  input pixels around each anchor cell and sigmoid class scores. Its detections are
  meaningless but exercise every line of the real decoding path.
* :func:`build_band_detector_onnx` - a hand-wired model with the same contract that really
  finds the object of :class:`~samurai_tracker.synthetic.SyntheticClip`: the sprite's top
  rows are the only pure white (255) pixels of a clip frame and its bottom rows the only
  pure black (0) ones (the scene lies in 64..191), so the model thresholds the channel
  minimum and maximum, takes the white band's columns and first row and the black band's
  last row, and reports one box of the configured class. End-to-end tests use it as a
  detector that sees the truth; it merges two objects into one box, so it is not for
  distractor clips.

torch is imported inside the builders: it is needed to make models, never to run them.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple

__all__ = ['build_band_detector_onnx', 'build_random_yolo_onnx', 'num_anchors']

STRIDES = (8, 16, 32)
"""Feature strides of the three YOLO detection scales (pixels per anchor cell)."""


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError('building a detector ONNX needs torch: '
                          'pip install torch==2.13.0 (CPU build)') from error
    return torch


def num_anchors(input_size: int) -> int:
    """Return the number N of anchors of a YOLOv8/11 head at input side ``input_size`` (pixels)."""
    if input_size < 32 or input_size % 32:
        raise ValueError(f'input_size must be a multiple of 32 >= 32, got {input_size}')
    return sum((input_size // s) ** 2 for s in STRIDES)


def _export(torch: Any, module: Any, path: str, input_size: int) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    example = torch.zeros(1, 3, input_size, input_size)
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, (example,), path, input_names=['images'],
                          output_names=['output0'], opset_version=17, dynamo=False)
    return path


def build_random_yolo_onnx(path: str, num_classes: int = 80, input_size: int = 640,
                           seed: int = 0, width: int = 8) -> str:
    """Write a random detector with the Ultralytics output contract to ``path``.

    Parameters
    ----------
    path : str
        Output ``.onnx`` file (its folder is created).
    num_classes : int
        nc (>= 1); the output has ``4 + nc`` channels.
    input_size : int
        S, a multiple of 32; the input is static ``[1, 3, S, S]``.
    seed : int
        torch seed of the random weights (same seed, same model).
    width : int
        Channels of the tiny backbone (>= 1); small keeps the model fast on a CPU.

    Returns
    -------
    str
        ``path``.

    """
    if num_classes < 1 or width < 1:
        raise ValueError(f'num_classes and width must be >= 1, got {num_classes}, {width}')
    num_anchors(input_size)
    torch = _import_torch()
    nn = torch.nn
    torch.manual_seed(seed)

    class RandomYolo(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1), nn.SiLU(),
                                      nn.Conv2d(width, width, 3, 2, 1), nn.SiLU(),
                                      nn.Conv2d(width, width, 3, 2, 1), nn.SiLU())
            self.down = nn.ModuleList([nn.Conv2d(width, width, 3, 2, 1) for _ in range(2)])
            self.heads = nn.ModuleList([nn.Conv2d(width, 4 + num_classes, 1) for _ in STRIDES])

        def forward(self, images: Any) -> Any:
            feature = self.stem(images)
            levels = [feature]
            for layer in self.down:
                feature = torch.nn.functional.silu(layer(feature))
                levels.append(feature)
            outputs = []
            for stride, level, head in zip(STRIDES, levels, self.heads):
                raw = head(level)  # (1, 4 + nc, h, w)
                h, w = raw.shape[2], raw.shape[3]
                gy = torch.arange(h, dtype=torch.float32).view(1, h, 1).expand(1, h, w)
                gx = torch.arange(w, dtype=torch.float32).view(1, 1, w).expand(1, h, w)
                cx = (gx + 0.5 + torch.tanh(raw[:, 0])) * stride
                cy = (gy + 0.5 + torch.tanh(raw[:, 1])) * stride
                bw = torch.sigmoid(raw[:, 2]) * stride * 8
                bh = torch.sigmoid(raw[:, 3]) * stride * 8
                scores = torch.sigmoid(raw[:, 4:])
                box = torch.stack([cx, cy, bw, bh], dim=1)
                outputs.append(torch.cat([box, scores], dim=1).flatten(2))
            return torch.cat(outputs, dim=2)

    return _export(torch, RandomYolo(), path, input_size)


def build_band_detector_onnx(path: str, num_classes: int = 80, class_id: int = 0,
                             input_size: int = 320, white_level: float = 0.99,
                             black_level: float = 0.05, object_score: float = 1.0,
                             decoy: Optional[Tuple[float, float, float, float, float]] = None
                             ) -> str:
    """Write a detector that finds the :class:`SyntheticClip` object (see the module notes).

    Parameters
    ----------
    path : str
        Output ``.onnx`` file (its folder is created).
    num_classes : int
        nc (>= 1) of the output ``[1, 4 + nc, 1]``.
    class_id : int
        The class the found object is reported as, in [0, nc).
    input_size : int
        S, a multiple of 32.
    white_level, black_level : float
        A pixel belongs to the top band when all three channels exceed ``white_level``, to
        the bottom band when all three lie under ``black_level`` (0..1 input scale).
    object_score : float
        Score (0..1] reported for the found object.
    decoy : tuple of float, optional
        ``(cx, cy, w, h, score)``: a second, constant detection of ``class_id`` in input
        pixels, reported on every image; lets tests tell seed policies apart (a confident
        decoy away from the centre against the real object near it).

    Returns
    -------
    str
        ``path``. The first anchor scores ``object_score`` for ``class_id`` when a band is
        seen, 0 otherwise; other classes score 0. With a decoy the output is
        ``[1, 4 + nc, 2]``.

    """
    if not 0 <= class_id < num_classes:
        raise ValueError(f'class_id must lie in [0, {num_classes}), got {class_id}')
    if not 0 < object_score <= 1:
        raise ValueError(f'object_score must lie in (0, 1], got {object_score}')
    num_anchors(input_size)
    torch = _import_torch()

    class BandDetector(torch.nn.Module):  # type: ignore[misc,name-defined]
        def forward(self, images: Any) -> Any:
            size = images.shape[-1]
            white = (images.amin(dim=1) > white_level).float()[0]  # (S, S)
            black = (images.amax(dim=1) < black_level).float()[0]
            cols = white.amax(dim=0)
            rows = white.amax(dim=1)
            black_rows = black.amax(dim=1)
            index = torch.arange(size, dtype=torch.float32)
            # argmax returns the first maximum: weight by position to get first / last index
            x1 = torch.argmax(cols * (size - index)).float()
            x2 = torch.argmax(cols * (index + 1)).float() + 1
            y1 = torch.argmax(rows * (size - index)).float()
            y2 = torch.argmax(black_rows * (index + 1)).float() + 1
            found = cols.amax() * black_rows.amax() * (y2 > y1).float()
            box = torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]) * found
            scores = (index[:1] * 0).repeat(num_classes)  # zeros traced as an op, not a constant
            onehot = (torch.arange(num_classes) == class_id).float()
            scores = scores + onehot * found * float(object_score)
            found_anchor = torch.cat([box, scores]).view(1, 4 + num_classes, 1)
            if decoy is None:
                return found_anchor
            zero = index[:1] * 0  # traced as an op, so the decoy is not folded away
            fixed = torch.stack([zero[0] + float(v) for v in decoy[:4]])
            decoy_scores = onehot * float(decoy[4]) + zero
            decoy_anchor = torch.cat([fixed, decoy_scores]).view(1, 4 + num_classes, 1)
            return torch.cat([found_anchor, decoy_anchor], dim=2)

    return _export(torch, BandDetector(), path, input_size)
