"""Camera calibration files (the ROS ``camera_calibration_parsers`` YAML layout).

Read once at start-up and published as ``camera_info`` with every frame, so downstream
nodes (and a gimbal controller converting pixel offsets to angles) get the intrinsics
that belong to the image. The layout is the one ``cameracalibrator`` writes::

    image_width: 640
    image_height: 480
    camera_name: front
    camera_matrix: {rows: 3, cols: 3, data: [fx, 0, cx, 0, fy, cy, 0, 0, 1]}
    distortion_model: plumb_bob
    distortion_coefficients: {rows: 1, cols: 5, data: [k1, k2, t1, t2, k3]}
    rectification_matrix: {rows: 3, cols: 3, data: [...]}
    projection_matrix: {rows: 3, cols: 4, data: [...]}
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Mapping, Tuple

import yaml

__all__ = ['CameraCalibration', 'load_calibration']

_IDENTITY3 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class CameraCalibration:
    """Pinhole intrinsics of one camera (the fields of ``sensor_msgs/CameraInfo``).

    Parameters
    ----------
    width, height : int
        Image size the calibration was made at, pixels (>= 1).
    camera_name : str
    distortion_model : str
        E.g. ``plumb_bob``, ``rational_polynomial``, ``equidistant``.
    d : tuple of float
        Distortion coefficients (any length).
    k : tuple of 9 floats
        Row-major 3x3 camera matrix (pixels).
    r : tuple of 9 floats
        Row-major 3x3 rectification matrix.
    p : tuple of 12 floats
        Row-major 3x4 projection matrix (pixels).

    """

    width: int
    height: int
    camera_name: str
    distortion_model: str
    d: Tuple[float, ...]
    k: Tuple[float, ...]
    r: Tuple[float, ...]
    p: Tuple[float, ...]

    def __post_init__(self) -> None:
        """Validate sizes and finiteness."""
        if self.width < 1 or self.height < 1:
            raise ValueError(f'calibration image size must be >= 1x1, '
                             f'got {self.width}x{self.height}')
        for name, values, length in (('camera_matrix', self.k, 9),
                                     ('rectification_matrix', self.r, 9),
                                     ('projection_matrix', self.p, 12)):
            if len(values) != length:
                raise ValueError(f'{name} must have {length} values, got {len(values)}')
        for value in self.k + self.r + self.p + self.d:
            if not math.isfinite(value):
                raise ValueError('calibration values must be finite')
        if self.k[0] <= 0 or self.k[4] <= 0:
            raise ValueError(f'camera_matrix focal lengths must be > 0, got fx={self.k[0]}, '
                             f'fy={self.k[4]}')


def _matrix(doc: Mapping[str, Any], key: str, rows: int, cols: int,
            default: Tuple[float, ...] = ()) -> Tuple[float, ...]:
    entry = doc.get(key)
    if entry is None:
        if default:
            return default
        raise ValueError(f'calibration file lacks {key} ({rows}x{cols} matrix)')
    data = entry.get('data') if isinstance(entry, Mapping) else entry
    if not isinstance(data, (list, tuple)):
        raise ValueError(f'{key} must be a mapping with a data list')
    if rows and cols and len(data) != rows * cols:
        raise ValueError(f'{key} must have {rows}x{cols} = {rows * cols} values, '
                         f'got {len(data)}')
    return tuple(float(v) for v in data)


def load_calibration(path: str) -> CameraCalibration:
    """Read a calibration YAML file.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When it is not valid YAML or misses or mis-sizes a field (the message names it).

    """
    with open(path, 'r', encoding='utf-8') as handle:
        try:
            doc = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise ValueError(f'calibration file {path!r} is not valid YAML: {error}') from error
    if not isinstance(doc, Mapping):
        raise ValueError(f'calibration file {path!r} must hold a YAML mapping')
    try:
        width, height = int(doc['image_width']), int(doc['image_height'])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f'calibration file {path!r} needs integer image_width and '
                         'image_height') from None
    k = _matrix(doc, 'camera_matrix', 3, 3)
    d = _matrix(doc, 'distortion_coefficients', 0, 0, (0.0,) * 5)
    r = _matrix(doc, 'rectification_matrix', 3, 3, _IDENTITY3)
    default_p = (k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0)
    p = _matrix(doc, 'projection_matrix', 3, 4, default_p)
    return CameraCalibration(width, height, str(doc.get('camera_name', '')),
                             str(doc.get('distortion_model', 'plumb_bob')), d, k, r, p)
