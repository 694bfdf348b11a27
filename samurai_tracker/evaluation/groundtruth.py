"""Ground truth of one sequence and the text formats it is stored in.

The single-object tracking benchmarks store one box per frame as ``x, y, w, h`` (top-left
corner and size, pixels) in a text file, one line per frame:

* LaSOT ``groundtruth.txt`` uses commas; the separate one-line files ``full_occlusion.txt``
  and ``out_of_view.txt`` hold one 0/1 flag per frame, comma separated.
* OTB ``groundtruth_rect.txt`` uses commas in some sequences and tabs or spaces in others.
* UAV123 ``anno/<subset>/<sequence>.txt`` uses commas and writes ``NaN,NaN,NaN,NaN`` for
  frames where the target is fully occluded or out of view.

The parser accepts any mix of commas, semicolons, tabs and spaces, so one reader serves
every layout; a line that does not hold exactly four numbers is an error that names the
file and the line, because a silently shifted row would mis-score every later frame.

Boxes are used exactly as stored (no 1-based to 0-based shift), as the public toolkits
(OTB, LaSOT, pytracking) do: the tracker is seeded in the same coordinates, so an offset
would only move its seed and its output together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    'GroundTruth',
    'GroundTruthError',
    'parse_boxes',
    'parse_flags',
    'read_boxes',
    'read_flags',
    'valid_box_rows',
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SEPARATORS = re.compile(r'[,;\s]+')


class GroundTruthError(ValueError):
    """A ground-truth or flag file is missing or malformed; the message names file and line."""


@dataclass(frozen=True)
class GroundTruth:
    """Per-frame truth of one sequence.

    Parameters
    ----------
    xywh : numpy.ndarray, shape (N, 4), float64
        ``[x, y, w, h]`` per frame in full-frame pixels as stored in the dataset. Rows may be
        NaN (UAV123 marks absent frames so) or have a zero size (LaSOT absent frames).
    present : numpy.ndarray, shape (N,), bool
        True where the target can be seen: the box is finite with ``w > 0`` and ``h > 0``
        and no occlusion or out-of-view flag is set. Accuracy metrics and the honesty
        metrics both key off this mask.

    Raises
    ------
    ValueError
        If the shapes disagree, N is 0, or ``present`` is True on a row that is not a
        finite box of positive size.

    """

    xywh: FloatArray
    present: BoolArray

    def __post_init__(self) -> None:
        """Validate shapes and the present mask, and freeze the arrays."""
        xywh = np.asarray(self.xywh, dtype=np.float64).copy()
        present = np.asarray(self.present, dtype=bool).copy()
        if xywh.ndim != 2 or xywh.shape[1] != 4:
            raise ValueError(f'GroundTruth.xywh must have shape (N, 4), got {xywh.shape}')
        if xywh.shape[0] == 0:
            raise ValueError('GroundTruth needs at least one frame, got 0 rows')
        if present.shape != (xywh.shape[0],):
            raise ValueError(
                f'GroundTruth.present must have shape ({xywh.shape[0]},), got {present.shape}')
        if np.any(present & ~valid_box_rows(xywh)):
            bad = int(np.flatnonzero(present & ~valid_box_rows(xywh))[0])
            raise ValueError(f'GroundTruth.present is True on frame {bad} whose box '
                             f'{xywh[bad].tolist()} is not finite with positive size')
        for name, array in (('xywh', xywh), ('present', present)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @classmethod
    def from_boxes(cls, xywh: npt.ArrayLike,
                   absent_flags: Sequence[npt.ArrayLike] = ()) -> 'GroundTruth':
        """Build the truth from boxes and optional per-frame absence flags.

        Parameters
        ----------
        xywh : array_like, shape (N, 4)
            Boxes ``[x, y, w, h]`` in pixels; NaN or non-positive size marks an absent frame.
        absent_flags : sequence of array_like, each shape (N,)
            Flags that are nonzero where the target is hidden (LaSOT full occlusion, out of
            view). A frame is present only when its box is valid and no flag is set.

        """
        boxes = np.asarray(xywh, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f'boxes must have shape (N, 4), got {boxes.shape}')
        present = valid_box_rows(boxes)
        for flags in absent_flags:
            flag_array = np.asarray(flags)
            if flag_array.shape != (boxes.shape[0],):
                raise ValueError(f'absence flags must have shape ({boxes.shape[0]},), '
                                 f'got {flag_array.shape}')
            present &= flag_array == 0
        return cls(boxes, present)

    def __len__(self) -> int:
        """Return the number of frames N."""
        return int(self.xywh.shape[0])

    @property
    def xyxy(self) -> FloatArray:
        """Boxes as ``[x1, y1, x2, y2]`` pixels, shape (N, 4); NaN rows stay NaN."""
        out = self.xywh.copy()
        out[:, 2:] += out[:, :2]
        return out

    def truncated(self, num_frames: int) -> 'GroundTruth':
        """Return the truth of the first ``num_frames`` frames (1 <= num_frames <= N)."""
        if not 1 <= num_frames <= len(self):
            raise ValueError(f'num_frames must lie in [1, {len(self)}], got {num_frames}')
        return GroundTruth(self.xywh[:num_frames], self.present[:num_frames])


def valid_box_rows(xywh: FloatArray) -> BoolArray:
    """Return a (N,) mask of rows that are finite boxes with ``w > 0`` and ``h > 0``."""
    with np.errstate(invalid='ignore'):
        return np.all(np.isfinite(xywh), axis=1) & (xywh[:, 2] > 0) & (xywh[:, 3] > 0)


def parse_boxes(text: str, source: str = '<text>') -> FloatArray:
    """Parse box lines ``x, y, w, h`` (any of , ; tab space between values).

    Parameters
    ----------
    text : str
        File contents; blank lines are ignored, ``nan`` (any case) is accepted.
    source : str
        Name used in error messages (normally the file path).

    Returns
    -------
    numpy.ndarray, shape (N, 4), float64

    Raises
    ------
    GroundTruthError
        If a line does not hold exactly four numbers, or there is no box at all.

    """
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        tokens = [token for token in _SEPARATORS.split(stripped) if token]
        if len(tokens) != 4:
            raise GroundTruthError(
                f'{source}:{number}: expected 4 values "x,y,w,h", got {len(tokens)}: '
                f'{stripped[:60]!r}')
        try:
            rows.append([float(token) for token in tokens])
        except ValueError:
            raise GroundTruthError(
                f'{source}:{number}: values must be numbers (or NaN), got {stripped[:60]!r}'
            ) from None
    if not rows:
        raise GroundTruthError(f'{source}: no boxes (empty ground truth)')
    return np.asarray(rows, dtype=np.float64)


def parse_flags(text: str, source: str = '<text>',
                expected: Optional[int] = None) -> npt.NDArray[np.int64]:
    """Parse per-frame 0/1 flags separated by commas, spaces or newlines.

    Parameters
    ----------
    text : str
        File contents, for example LaSOT's one-line ``full_occlusion.txt``.
    source : str
        Name used in error messages.
    expected : int, optional
        Number of frames the flags must cover.

    Returns
    -------
    numpy.ndarray, shape (N,), int64 of 0 and 1

    Raises
    ------
    GroundTruthError
        If a value is not 0 or 1, or the count differs from ``expected``.

    """
    tokens = [token for token in _SEPARATORS.split(text.strip()) if token]
    values = []
    for position, token in enumerate(tokens, start=1):
        if token not in ('0', '1'):
            raise GroundTruthError(
                f'{source}: value {position} must be 0 or 1, got {token[:20]!r}')
        values.append(int(token))
    if expected is not None and len(values) != expected:
        raise GroundTruthError(
            f'{source}: holds {len(values)} flags but the ground truth has {expected} frames')
    return np.asarray(values, dtype=np.int64)


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise GroundTruthError(f'{path}: file not found')
    try:
        return path.read_text(encoding='utf-8', errors='strict')
    except UnicodeDecodeError as error:
        raise GroundTruthError(f'{path}: not a UTF-8 text file ({error.reason})') from None


def read_boxes(path: Path) -> FloatArray:
    """Read a box file (see :func:`parse_boxes`); shape (N, 4) float64."""
    return parse_boxes(_read_text(Path(path)), str(path))


def read_flags(path: Path, expected: Optional[int] = None) -> npt.NDArray[np.int64]:
    """Read a 0/1 flag file (see :func:`parse_flags`); shape (N,) int64."""
    return parse_flags(_read_text(Path(path)), str(path), expected)
