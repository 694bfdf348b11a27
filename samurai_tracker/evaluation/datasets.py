"""Find the sequences of a dataset folder (LaSOT, OTB, UAV123 layouts) or of a video file.

Layouts, as the datasets ship them (``<...>`` is a name):

* **LaSOT**: ``<root>/<class>/<class>-<n>/img/00000001.jpg`` with ``groundtruth.txt``,
  ``full_occlusion.txt`` and ``out_of_view.txt`` beside ``img/``. ``root`` may also be
  one class folder or one sequence folder.
* **OTB**: ``<root>/<Sequence>/img/0001.jpg`` with ``groundtruth_rect.txt``; sequences with
  two targets carry ``groundtruth_rect.1.txt`` and ``groundtruth_rect.2.txt`` and become
  ``<Sequence>_1`` and ``<Sequence>_2``.
* **UAV123**: ``<root>/anno/<subset>/<sequence>.txt`` and
  ``<root>/data_seq/<subset>/<sequence>/000001.jpg`` (subset ``UAV123`` or ``UAV20L``;
  NaN rows mark absent frames). Sub-sequences such as ``bird1_1`` share the image folder
  ``bird1`` and take their frame range from the dataset's ``configSeqs.m`` when the root
  holds one.

Every problem with one sequence (missing ground truth, no images, a frame count that
differs from the ground-truth rows, a malformed line, an absent first box) becomes a
:class:`SkippedSequence` with a message that says what is wrong and what to do; the other
sequences are still evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from samurai_tracker.evaluation.frames import (
    FrameReadError, FrameSource, ImageFolderFrames, list_images, VideoFrames)
from samurai_tracker.evaluation.groundtruth import (
    GroundTruth, GroundTruthError, read_boxes, read_flags)

__all__ = [
    'DatasetError',
    'DatasetListing',
    'LAYOUTS',
    'SequenceSpec',
    'SkippedSequence',
    'detect_layout',
    'load_dataset',
    'load_video_sequence',
]

LAYOUTS: Tuple[str, ...] = ('lasot', 'otb', 'uav123')
"""Dataset folder layouts :func:`load_dataset` reads (``'auto'`` picks one)."""


class DatasetError(ValueError):
    """The dataset as a whole cannot be read (no layout recognised, root missing)."""


class _SequenceProblem(ValueError):
    """One sequence cannot be evaluated; caught and turned into a SkippedSequence."""


@dataclass(frozen=True)
class SequenceSpec:
    """One sequence ready to run: frames and the ground truth of each frame.

    Parameters
    ----------
    name : str
        Sequence name, unique within a run (used for file names in the report).
    layout : str
        ``'lasot'``, ``'otb'``, ``'uav123'`` or ``'video'``; chooses the absent-frame
        convention of the metrics.
    frames : FrameSource
        Yields exactly ``len(groundtruth)`` frames.
    groundtruth : GroundTruth
        Per-frame truth; frame 0 must be present (it seeds the tracker).
    notes : tuple of str
        Warnings that did not stop the sequence (for example a missing flag file).

    """

    name: str
    layout: str
    frames: FrameSource
    groundtruth: GroundTruth
    notes: Tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        """Check the frame count against the ground truth and the seed frame."""
        if self.frames.num_frames != len(self.groundtruth):
            raise ValueError(f'{self.name}: {self.frames.num_frames} frames but '
                             f'{len(self.groundtruth)} ground-truth rows')
        if not self.groundtruth.present[0]:
            raise ValueError(f'{self.name}: the first ground-truth box must be present '
                             f'to seed the tracker, got {self.groundtruth.xywh[0].tolist()}')


@dataclass(frozen=True)
class SkippedSequence:
    """A sequence that was not evaluated, and why (shown in the report and the console)."""

    name: str
    reason: str


@dataclass(frozen=True)
class DatasetListing:
    """What :func:`load_dataset` found: sequences to run and sequences skipped."""

    layout: str
    sequences: Tuple[SequenceSpec, ...]
    skipped: Tuple[SkippedSequence, ...]


def _assemble(name: str, layout: str, frames: FrameSource, boxes: np.ndarray,
              flags: Sequence[np.ndarray], truncate: bool, max_frames: Optional[int],
              notes: List[str]) -> SequenceSpec:
    """Check counts and the seed box, then build the spec (raises _SequenceProblem)."""
    if frames.num_frames == 0:
        raise _SequenceProblem(f'no frames in {frames.description} (empty sequence); '
                               f'expected {len(boxes)} to match the ground truth')
    groundtruth = GroundTruth.from_boxes(boxes, flags)
    if frames.num_frames != len(groundtruth):
        if truncate and frames.num_frames > len(groundtruth):
            notes.append(f'{frames.num_frames} frames but {len(groundtruth)} ground-truth '
                         f'rows: evaluated the first {len(groundtruth)} frames only')
            frames = _first_frames(frames, len(groundtruth))
        else:
            raise _SequenceProblem(
                f'{frames.num_frames} frames in {frames.description} but '
                f'{len(groundtruth)} ground-truth rows; fix the files, or pass '
                f'--truncate-to-groundtruth to evaluate the first rows only when there are '
                f'more frames than rows (as the LaSOT toolkit does for monkey-17)')
    if max_frames is not None and max_frames < len(groundtruth):
        groundtruth = groundtruth.truncated(max_frames)
        frames = _first_frames(frames, max_frames)
    if not groundtruth.present[0]:
        raise _SequenceProblem(
            f'the first ground-truth box {groundtruth.xywh[0].tolist()} is absent or empty; '
            f'the one-pass evaluation seeds the tracker from it')
    return SequenceSpec(name, layout, frames, groundtruth, tuple(notes))


class _FirstFrames:
    """The first ``count`` frames of another source."""

    def __init__(self, source: FrameSource, count: int) -> None:
        self._source = source
        self._count = count

    @property
    def num_frames(self) -> int:
        return self._count

    @property
    def fps(self) -> float:
        return self._source.fps

    @property
    def description(self) -> str:
        return self._source.description

    def __iter__(self):  # type: ignore[no-untyped-def]
        for index, frame in enumerate(self._source):
            if index >= self._count:
                break
            yield frame


def _first_frames(frames: FrameSource, count: int) -> FrameSource:
    if isinstance(frames, ImageFolderFrames):
        return ImageFolderFrames(frames.paths[:count], frames.fps, frames.description)
    return _FirstFrames(frames, count)


def _guarded(name: str, build) -> Union[SequenceSpec, SkippedSequence]:  # type: ignore
    try:
        return build()
    except (_SequenceProblem, GroundTruthError, FrameReadError, ValueError) as error:
        return SkippedSequence(name, str(error))


def _lasot_sequence(folder: Path, truncate: bool,
                    max_frames: Optional[int]) -> Union[SequenceSpec, SkippedSequence]:
    def build() -> SequenceSpec:
        notes: List[str] = []
        gt_path = folder / 'groundtruth.txt'
        if not gt_path.is_file():
            raise _SequenceProblem(f'no ground truth: {folder} has img/ but no groundtruth.txt')
        boxes = read_boxes(gt_path)
        flags = []
        for flag_name in ('full_occlusion.txt', 'out_of_view.txt'):
            if (folder / flag_name).is_file():
                flags.append(read_flags(folder / flag_name, expected=len(boxes)))
            else:
                notes.append(f'{flag_name} missing: absence taken from the boxes only')
        images = list_images(folder / 'img')
        frames = ImageFolderFrames(images, description=str(folder / 'img'))
        return _assemble(folder.name, 'lasot', frames, boxes, flags, truncate, max_frames,
                         notes)
    return _guarded(folder.name, build)


def _otb_sequences(folder: Path, truncate: bool, max_frames: Optional[int]
                   ) -> List[Union[SequenceSpec, SkippedSequence]]:
    gt_files = sorted(folder.glob('groundtruth_rect*.txt'))
    if not gt_files:
        return [SkippedSequence(folder.name, f'no ground truth: {folder} has img/ but no '
                                             f'groundtruth_rect.txt')]
    out: List[Union[SequenceSpec, SkippedSequence]] = []
    for gt_path in gt_files:
        match = re.fullmatch(r'groundtruth_rect(?:\.(\d+))?\.txt', gt_path.name)
        if match is None:
            continue
        name = folder.name if match.group(1) is None else f'{folder.name}_{match.group(1)}'

        def build(gt_path: Path = gt_path, name: str = name) -> SequenceSpec:
            boxes = read_boxes(gt_path)
            images = list_images(folder / 'img')
            frames = ImageFolderFrames(images, description=str(folder / 'img'))
            return _assemble(name, 'otb', frames, boxes, [], truncate, max_frames, [])
        out.append(_guarded(name, build))
    return out


_CONFIG_ENTRY = re.compile(
    r"'name'\s*,\s*'(?P<name>[^']+)'.*?'path'\s*,\s*'(?P<path>[^']*)'.*?"
    r"'startFrame'\s*,\s*(?P<start>\d+)\s*,\s*'endFrame'\s*,\s*(?P<end>\d+)")


def _uav_frame_ranges(root: Path) -> Dict[str, Tuple[str, int, int]]:
    """Parse ``configSeqs*.m`` entries: name -> (image folder name, first, last frame)."""
    ranges: Dict[str, Tuple[str, int, int]] = {}
    for config in sorted(root.glob('configSeqs*.m')):
        text = config.read_text(encoding='utf-8', errors='replace')
        for match in _CONFIG_ENTRY.finditer(text):
            folder = [part for part in re.split(r'[\\/]', match['path']) if part]
            ranges[match['name']] = (folder[-1] if folder else match['name'],
                                     int(match['start']), int(match['end']))
    return ranges


def _numbered(images: Iterable[Path], first: int, last: int) -> List[Path]:
    chosen = []
    for path in images:
        try:
            number = int(path.stem)
        except ValueError:
            continue
        if first <= number <= last:
            chosen.append(path)
    return sorted(chosen, key=lambda path: int(path.stem))


def _uav_sequence(root: Path, anno: Path, ranges: Dict[str, Tuple[str, int, int]],
                  truncate: bool, max_frames: Optional[int]
                  ) -> Union[SequenceSpec, SkippedSequence]:
    name = anno.stem
    subset = anno.parent.name

    def build() -> SequenceSpec:
        boxes = read_boxes(anno)
        candidates = [root / 'data_seq' / subset / name, root / 'data_seq' / 'UAV123' / name]
        folder = next((path for path in candidates if path.is_dir()), None)
        if folder is not None:
            images = list(list_images(folder))
        elif name in ranges:
            image_folder, first, last = ranges[name]
            folder = root / 'data_seq' / subset / image_folder
            if not folder.is_dir():
                folder = root / 'data_seq' / 'UAV123' / image_folder
            images = _numbered(list_images(folder), first, last)
        else:
            raise _SequenceProblem(
                f'no image folder {candidates[0]}; if {name} is a sub-sequence, put the '
                f"dataset's configSeqs.m (with its frame ranges) in {root}")
        frames = ImageFolderFrames(images, description=str(folder))
        return _assemble(name, 'uav123', frames, boxes, [], truncate, max_frames, [])
    return _guarded(name, build)


def _uav_sequences(root: Path, truncate: bool, max_frames: Optional[int]
                   ) -> List[Union[SequenceSpec, SkippedSequence]]:
    """Every annotation file, plus image folders that no annotation uses (skipped)."""
    ranges = _uav_frame_ranges(root)
    annos = sorted((root / 'anno').glob('*/*.txt'))
    found = [_uav_sequence(root, anno, ranges, truncate, max_frames) for anno in annos]
    used = {anno.stem for anno in annos} | {
        folder for name, (folder, _, _) in ranges.items() if name in {a.stem for a in annos}}
    for folder in sorted((root / 'data_seq').glob('*/*')):
        if folder.is_dir() and folder.name not in used:
            found.append(SkippedSequence(folder.name, f'no ground truth: {folder} has no '
                                                      f'annotation anno/*/{folder.name}.txt'))
    return found


def _sequence_dirs(root: Path, markers: Sequence[str], depth: int = 2) -> List[Path]:
    """Folders at most ``depth`` levels below ``root`` holding an entry matching a marker."""
    found: List[Path] = []
    level = [root]
    for _ in range(depth + 1):
        found.extend(folder for folder in level
                     if any(any(folder.glob(marker)) for marker in markers))
        level = sorted(child for folder in level for child in folder.iterdir()
                       if child.is_dir() and not child.name.startswith('.'))
    return sorted(set(found))


def detect_layout(root: Path) -> str:
    """Guess the layout of a dataset folder: ``'uav123'``, ``'lasot'`` or ``'otb'``.

    Raises
    ------
    DatasetError
        If ``root`` is not a folder or matches no known layout.

    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f'{root}: dataset folder not found')
    if (root / 'anno').is_dir() and (root / 'data_seq').is_dir():
        return 'uav123'
    if _sequence_dirs(root, ['groundtruth.txt']):
        return 'lasot'
    if _sequence_dirs(root, ['groundtruth_rect*.txt'], depth=1):
        return 'otb'
    raise DatasetError(
        f'{root}: no known layout: expected anno/ and data_seq/ (UAV123), folders with '
        f'groundtruth.txt and img/ (LaSOT) or groundtruth_rect.txt and img/ (OTB)')


def load_dataset(root: Path, layout: str = 'auto', names: Optional[Sequence[str]] = None,
                 truncate: bool = False, max_frames: Optional[int] = None) -> DatasetListing:
    """List the sequences of a dataset folder.

    Parameters
    ----------
    root : pathlib.Path
        Dataset folder (see the module docstring for the layouts).
    layout : str
        ``'auto'`` or one of :data:`LAYOUTS`.
    names : sequence of str, optional
        Evaluate only these sequences; names not found are reported as skipped.
    truncate : bool
        When a sequence has more frames than ground-truth rows, evaluate the first rows'
        worth of frames instead of skipping it.
    max_frames : int, optional
        Evaluate at most this many frames per sequence (>= 1), for quick runs.

    Returns
    -------
    DatasetListing
        Sequences sorted by name, and the skipped ones with their reasons.

    Raises
    ------
    DatasetError
        If the folder is missing or the layout is unknown.

    """
    root = Path(root)
    if max_frames is not None and max_frames < 1:
        raise DatasetError(f'max_frames must be >= 1, got {max_frames}')
    chosen = detect_layout(root) if layout == 'auto' else layout
    if chosen not in LAYOUTS:
        raise DatasetError(f'layout must be auto or one of {", ".join(LAYOUTS)}, got {layout}')
    if not root.is_dir():
        raise DatasetError(f'{root}: dataset folder not found')
    found: List[Union[SequenceSpec, SkippedSequence]] = []
    if chosen == 'lasot':
        found = [_lasot_sequence(folder, truncate, max_frames)
                 for folder in _sequence_dirs(root, ['groundtruth.txt', 'img/'])]
    elif chosen == 'otb':
        for folder in _sequence_dirs(root, ['groundtruth_rect*.txt', 'img/'], depth=1):
            found.extend(_otb_sequences(folder, truncate, max_frames))
    else:
        found = _uav_sequences(root, truncate, max_frames)
    if names is not None:
        wanted = set(names)
        missing = sorted(wanted - {item.name for item in found})
        found = [item for item in found if item.name in wanted]
        found.extend(SkippedSequence(name, f'sequence {name} not found in {root}')
                     for name in missing)
    found.sort(key=lambda item: item.name)
    return DatasetListing(
        chosen,
        tuple(item for item in found if isinstance(item, SequenceSpec)),
        tuple(item for item in found if isinstance(item, SkippedSequence)))


def load_video_sequence(video: Path, groundtruth: Path, name: Optional[str] = None,
                        truncate: bool = False, max_frames: Optional[int] = None
                        ) -> Union[SequenceSpec, SkippedSequence]:
    """Pair a video file with a ground-truth text file (one ``x,y,w,h`` line per frame).

    NaN rows or rows of zero size mark frames where the target is absent.

    Returns
    -------
    SequenceSpec or SkippedSequence
        The sequence, or the reason it cannot be evaluated.

    """
    video = Path(video)
    label = name or video.stem

    def build() -> SequenceSpec:
        boxes = read_boxes(Path(groundtruth))
        frames = VideoFrames(video)
        return _assemble(label, 'video', frames, boxes, [], truncate, max_frames, [])
    return _guarded(label, build)
