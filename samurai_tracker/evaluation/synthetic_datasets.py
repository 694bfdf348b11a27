"""Write a :class:`~samurai_tracker.synthetic.SyntheticClip` as a benchmark dataset on disk.

No dataset can be downloaded on the development and CI machines, so the harness is
exercised on generated sequences written exactly in the layouts it reads (see
:mod:`.datasets`): LaSOT (with ``full_occlusion.txt`` set over the clip's occlusion
range), OTB (``groundtruth_rect.txt``, tab separated, no absence information, as in OTB),
UAV123 (``NaN`` rows while occluded) and a video file with a text ground truth. Benchmarks
and the demo use the same writers.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from samurai_tracker.synthetic import SyntheticClip

__all__ = ['WRITABLE_LAYOUTS', 'truth_lines', 'write_sequence']

WRITABLE_LAYOUTS = ('lasot', 'otb', 'uav123', 'video')


def _cv2():  # type: ignore[no-untyped-def]
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - the venv carries it
        raise ImportError('writing frames needs OpenCV: pip install opencv-python-headless'
                          ) from error
    return cv2


def truth_lines(clip: SyntheticClip, separator: str = ',',
                nan_when_hidden: bool = False) -> List[str]:
    """Return one ``x<sep>y<sep>w<sep>h`` line per frame (integer pixels).

    With ``nan_when_hidden`` the frames inside the clip's occlusion read ``NaN`` (UAV123).
    """
    lines = []
    for index in range(clip.num_frames):
        if nan_when_hidden and not clip.visible(index):
            lines.append(separator.join(['NaN'] * 4))
            continue
        x, y, w, h = clip.truth(index).xywh()
        lines.append(separator.join(str(int(round(v))) for v in (x, y, w, h)))
    return lines


def _write_frames(clip: SyntheticClip, folder: Path, digits: int, ext: str) -> None:
    cv2 = _cv2()
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(clip.num_frames):
        path = folder / f'{index + 1:0{digits}d}.{ext}'
        if not cv2.imwrite(str(path), clip.frame(index)[:, :, ::-1]):
            raise OSError(f'{path}: OpenCV could not write the frame')


def write_sequence(clip: SyntheticClip, root: Path, layout: str, name: str,
                   ext: str = 'jpg') -> Path:
    """Write ``clip`` under ``root`` as sequence ``name`` in ``layout``.

    Parameters
    ----------
    clip : SyntheticClip
        Frames and truth to write.
    root : pathlib.Path
        Dataset root (created when missing); several sequences may share it.
    layout : str
        One of :data:`WRITABLE_LAYOUTS`.
    name : str
        Sequence name; for LaSOT use ``<class>-<n>`` (the class folder is its prefix).
    ext : str
        Image format ``'jpg'`` or ``'png'`` (frames are 1-based, zero-padded as in the
        datasets: 8 digits LaSOT, 4 OTB, 6 UAV123).

    Returns
    -------
    pathlib.Path
        The sequence folder (LaSOT, OTB), the annotation file (UAV123) or the video file.

    """
    root = Path(root)
    if layout == 'lasot':
        folder = root / name.split('-')[0] / name
        _write_frames(clip, folder / 'img', 8, ext)
        (folder / 'groundtruth.txt').write_text('\n'.join(truth_lines(clip)) + '\n')
        hidden = [str(int(not clip.visible(i))) for i in range(clip.num_frames)]
        (folder / 'full_occlusion.txt').write_text(','.join(hidden) + '\n')
        (folder / 'out_of_view.txt').write_text(','.join(['0'] * clip.num_frames) + '\n')
        return folder
    if layout == 'otb':
        folder = root / name
        _write_frames(clip, folder / 'img', 4, ext)
        (folder / 'groundtruth_rect.txt').write_text('\n'.join(truth_lines(clip, '\t')) + '\n')
        return folder
    if layout == 'uav123':
        _write_frames(clip, root / 'data_seq' / 'UAV123' / name, 6, ext)
        anno = root / 'anno' / 'UAV123' / f'{name}.txt'
        anno.parent.mkdir(parents=True, exist_ok=True)
        anno.write_text('\n'.join(truth_lines(clip, nan_when_hidden=True)) + '\n')
        return anno
    if layout == 'video':
        cv2 = _cv2()
        root.mkdir(parents=True, exist_ok=True)
        video = root / f'{name}.avi'
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), clip.fps,
                                 (clip.width, clip.height))
        if not writer.isOpened():
            raise OSError(f'{video}: OpenCV cannot write MJPG video')
        try:
            for index in range(clip.num_frames):
                writer.write(np.ascontiguousarray(clip.frame(index)[:, :, ::-1]))
        finally:
            writer.release()
        (root / f'{name}.txt').write_text('\n'.join(truth_lines(clip, nan_when_hidden=True))
                                          + '\n')
        return video
    raise ValueError(f'layout must be one of {WRITABLE_LAYOUTS}, got {layout!r}')
