"""Launch arguments: their names, defaults and help, and validation that fails early.

``ros2 launch samurai_tracker pipeline.launch.py model_dir:=... source:=...`` and the
process launcher both hand their ``name -> string`` arguments to
:func:`parse_arguments`, which refuses unknown names, missing files, a model directory
without the models the backend needs and out-of-range numbers with one message that
names the argument and the fix, before any node starts.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ['ARGUMENTS', 'LaunchArgumentError', 'LaunchArguments', 'parse_arguments']

SAM_MODELS = ('image_encoder', 'prompt_encoder', 'mask_decoder', 'memory_encoder',
              'memory_attention')
BACKEND_SUFFIX = {'onnxruntime': '.onnx', 'torch': None, 'tensorrt': '.engine'}
OUTPUTS = ('none', 'udp', 'rtsp', 'file')
_NON_FILE_SOURCES = ('rtsp://', 'rtsps://', '/dev/video', 'csi://', 'test://', 'none')

#: name -> (default, description); the launch files declare exactly these.
ARGUMENTS: Dict[str, Tuple[str, str]] = {
    'source': ('test://ball', 'video source: file, rtsp://..., /dev/videoN, csi://N, '
               'test://pattern, or none (frames arrive on the image topic)'),
    'model_dir': ('', 'directory made by samurai-export (and samurai-build-engines for '
                  'tensorrt)'),
    'detector_model': ('', 'YOLO .onnx or .engine; empty = no detector (seed with seed_roi '
                       'or ~/reseed)'),
    'detector_input_size': ('640', 'detector input side in pixels (the imgsz of its export)'),
    'detector_every_n': ('1', 'run the detector on every n-th frame while TRACKED'),
    'backend': ('onnxruntime', 'tracker backend: onnxruntime, tensorrt or torch'),
    'target_class': ('0', 'detector class index to follow (-1 = any)'),
    'seed_roi': ('', 'forced first seed "x,y,width,height" in pixels; empty = from a '
                 'detection'),
    'max_kf': ('0', 'frames coasted on the Kalman prediction after a full inference (0..30)'),
    'fusion_wait_s': ('0.5', 'how long the fusion waits for the tracker\'s result of an image '
                      '(s): 0.5 with a GPU, 30 on a small CPU'),
    'output': ('udp', 'annotated video out: none, udp (RTP H.264), rtsp or file'),
    'output_path': ('samurai_output.mp4', 'file written when output:=file'),
    'rtp_host': ('127.0.0.1', 'RTP destination host'),
    'rtp_port': ('5600', 'RTP destination port (1..65535)'),
    'namespace': ('', 'namespace of every node (one per camera)'),
    'composed': ('false', 'run every node in one process, frames passed by reference'),
    'use_sim_time': ('false', 'take time from /clock (rosbag replay)'),
    'loop': ('false', 'restart a file source at its end'),
    'realtime': ('true', 'play files at their native rate (false: as fast as possible)'),
    'bag': ('', 'replay.launch.py: rosbag to play with --clock into the stack'),
}


class LaunchArgumentError(ValueError):
    """A launch argument is unknown or invalid; the message names it and the fix."""


@dataclass(frozen=True)
class LaunchArguments:
    """Validated launch arguments (see :data:`ARGUMENTS` for each meaning)."""

    source: str
    model_dir: str
    detector_model: str
    detector_input_size: int
    detector_every_n: int
    backend: str
    target_class: int
    seed_roi: Optional[Tuple[float, float, float, float]]
    max_kf: int
    fusion_wait_s: float
    output: str
    output_path: str
    rtp_host: str
    rtp_port: int
    namespace: str
    composed: bool
    use_sim_time: bool
    loop: bool
    realtime: bool
    bag: str


def _number(name: str, text: str, low: float, high: float, kind: type = int) -> Any:
    """Parse ``text`` as ``kind`` (int or float) inside [low, high], or say what is wrong."""
    try:
        value = kind(text)
    except ValueError:
        noun = 'an integer' if kind is int else 'a number'
        raise LaunchArgumentError(f"{name}:='{text}' is not {noun} "
                                  f'(expected {low}..{high})') from None
    if not low <= value <= high:
        raise LaunchArgumentError(f'{name}:={value} is out of range: use {low}..{high}')
    return value


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ('true', '1', 'yes'):
        return True
    if lowered in ('false', '0', 'no'):
        return False
    raise LaunchArgumentError(f"{name}:='{text}' is not a boolean: use true or false")


def _seed_roi(text: str) -> Optional[Tuple[float, float, float, float]]:
    if not text.strip():
        return None
    parts = text.replace('[', '').replace(']', '').split(',')
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or values[0] < 0 or values[1] < 0:
        raise LaunchArgumentError(f"seed_roi:='{text}' must be 'x,y,width,height' in pixels "
                                  'with x, y >= 0 and width, height > 0')
    return values[0], values[1], values[2], values[3]


def _check_models(model_dir: str, backend: str) -> None:
    if not model_dir:
        raise LaunchArgumentError(
            'model_dir is required: make one with `samurai-export --checkpoint '
            'sam2.1_hiera_tiny.pt --output models/` (or --random-init for a test)')
    if not os.path.isdir(model_dir):
        raise LaunchArgumentError(f"model_dir:='{model_dir}' does not exist: run samurai-export "
                                  '--output <dir> first')
    suffix = BACKEND_SUFFIX[backend]
    if suffix is None:
        return
    missing = [m + suffix for m in SAM_MODELS
               if not os.path.isfile(os.path.join(model_dir, m + suffix))]
    if missing:
        fix = ('samurai-build-engines --model-dir ' + model_dir if backend == 'tensorrt'
               else 'samurai-export --output ' + model_dir)
        raise LaunchArgumentError(f"model_dir:='{model_dir}' lacks {', '.join(missing)} for "
                                  f'backend:={backend}: run `{fix}`')


def parse_arguments(given: Mapping[str, str],
                    check_files: bool = True) -> LaunchArguments:
    """Validate launch arguments given as strings.

    Parameters
    ----------
    given : mapping of str to str
        Arguments as typed (``name:=value``); missing ones take their defaults.
    check_files : bool
        Check that files and directories exist (off only for unit tests of parsing).

    Raises
    ------
    LaunchArgumentError
        With the argument's name and the fix.

    """
    unknown = sorted(set(given) - set(ARGUMENTS))
    if unknown:
        raise LaunchArgumentError(f'unknown launch argument(s) {unknown}; known: '
                                  f'{sorted(ARGUMENTS)} (ros2 launch ... --show-args)')
    text = {name: str(given.get(name, default)) for name, (default, _) in ARGUMENTS.items()}
    backend = text['backend']
    if backend not in BACKEND_SUFFIX:
        raise LaunchArgumentError(f"backend:='{backend}' is unknown: use one of "
                                  f'{sorted(BACKEND_SUFFIX)}')
    if text['output'] not in OUTPUTS:
        raise LaunchArgumentError(f"output:='{text['output']}' is unknown: use one of {OUTPUTS}")
    source = text['source']
    if check_files:
        if not source.startswith(_NON_FILE_SOURCES) and not os.path.isfile(source):
            raise LaunchArgumentError(f"source:='{source}' does not exist: give a video file, "
                                      'rtsp://..., /dev/videoN, csi://N or test://ball')
        _check_models(text['model_dir'], backend)
        if text['bag'] and not os.path.exists(text['bag']):
            raise LaunchArgumentError(f"bag:='{text['bag']}' does not exist: record one with "
                                      '`ros2 bag record /image`')
        model = text['detector_model']
        if model and not os.path.isfile(model):
            raise LaunchArgumentError(f"detector_model:='{model}' does not exist: export one "
                                      'with `yolo export model=yolo11n.pt format=onnx`')
    namespace = text['namespace'].strip('/')
    if namespace and not namespace.replace('_', 'a').replace('/', 'a').isalnum():
        raise LaunchArgumentError(f"namespace:='{namespace}' must contain only letters, digits,"
                                  " '_' and '/'")
    return LaunchArguments(
        source=source, model_dir=text['model_dir'], detector_model=text['detector_model'],
        detector_input_size=_number('detector_input_size', text['detector_input_size'], 32, 4096),
        detector_every_n=_number('detector_every_n', text['detector_every_n'], 1, 1000),
        backend=backend, target_class=_number('target_class', text['target_class'], -1, 100000),
        seed_roi=_seed_roi(text['seed_roi']), max_kf=_number('max_kf', text['max_kf'], 0, 30),
        fusion_wait_s=_number('fusion_wait_s', text['fusion_wait_s'], 0.01, 600.0, float),
        output=text['output'], output_path=text['output_path'], rtp_host=text['rtp_host'],
        rtp_port=_number('rtp_port', text['rtp_port'], 1, 65535),
        namespace=('/' + namespace) if namespace else '',
        composed=_bool('composed', text['composed']),
        use_sim_time=_bool('use_sim_time', text['use_sim_time']),
        loop=_bool('loop', text['loop']), realtime=_bool('realtime', text['realtime']),
        bag=text['bag'])
