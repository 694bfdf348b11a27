"""Every knob of the SAMURAI runtime, with its documented range.

:class:`TrackerConfig` is a frozen dataclass validated on construction. Each field carries
its range and a one-line description in the field metadata; :func:`config_parameters`
lists them so the tracker node can declare one ROS parameter per field with exactly that
range, and nothing is documented twice.

The SAMURAI defaults come from the reference configuration
(``sam2/configs/samurai/sam2.1_hiera_t.yaml`` of yangchris11/samurai): 15 stable frames,
stable IoU 0.3, Kalman score weight 0.25 (0.15 for the large model), memory-bank gates
IoU > 0.5, object score > 0, Kalman score > 0, object-score gate -1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from samurai_tracker.tracker.errors import TrackerInputError

__all__ = ['CROP', 'FULL_FRAME', 'ParameterInfo', 'TrackerConfig', 'config_parameters']

CROP = 'crop'
"""View mode: the encoder sees a square crop around the predicted box (the default)."""
FULL_FRAME = 'full_frame'
"""View mode: the whole frame resized to the model size, as the reference does."""


def _knob(default: Any, low: Any, high: Any, doc: str) -> Any:
    """Declare a dataclass field with an inclusive range and a description."""
    return field(default=default, metadata={'range': (low, high), 'doc': doc})


class ParameterInfo(NamedTuple):
    """One configuration knob as the node declares it.

    Attributes
    ----------
    name : str
        Field name, also the ROS parameter name.
    default : object
        Default value (its Python type is the parameter type).
    low, high : object
        Inclusive range; None for string choices.
    choices : tuple of str
        Allowed strings for string knobs, empty otherwise.
    description : str
        What the knob does and its unit.

    """

    name: str
    default: Any
    low: Any
    high: Any
    choices: Tuple[str, ...]
    description: str


@dataclass(frozen=True)
class TrackerConfig:
    """Configuration of :class:`~samurai_tracker.tracker.runtime.SamuraiTracker`.

    Every numeric field has an inclusive range (see :func:`config_parameters`); a value
    outside it raises :class:`~samurai_tracker.tracker.errors.TrackerInputError` that names
    the field and the range. Distances are in full-frame pixels, times in seconds, counts
    in frames.
    """

    view_mode: str = field(default=CROP, metadata={
        'choices': (CROP, FULL_FRAME),
        'doc': "'crop': the encoder sees a square crop around the predicted box; "
               "'full_frame': the whole frame resized to the model size (reference mode)"})
    crop_size: int = _knob(
        512, 64, 2048, 'model input side S in pixels; must equal the exported models\' size')
    context_factor: float = _knob(
        2.0, 1.1, 10.0, 'crop side = context_factor * max(box width, box height)')
    min_crop_side: float = _knob(
        96.0, 16.0, 8192.0, 'smallest crop side in frame pixels (caps the zoom on tiny '
        'objects)')
    max_kf: int = _knob(
        0, 0, 30, 'frames coasted on the Kalman prediction alone after a full inference')
    coast_min_confidence: float = _knob(
        0.6, 0.0, 1.0, 'coast only while the last full inference had at least this '
        'confidence; otherwise the next frame is a full inference')
    stable_frames_threshold: int = _knob(
        15, 1, 1000, 'consecutive good frames before the Kalman-weighted candidate choice')
    stable_ious_threshold: float = _knob(
        0.3, 0.0, 1.0, 'predicted IoU above which a frame counts as stable and updates '
        'the Kalman filter')
    kf_score_weight: float = _knob(
        0.25, 0.0, 1.0, 'weight w of IoU(Kalman box, candidate box) in the candidate score '
        'w * kf_iou + (1 - w) * predicted IoU (0.15 for the large model)')
    min_obj_score_logits: float = _knob(
        -1.0, -100.0, 100.0, 'object-score logit at or below which the masks are blanked '
        'and the no-object pointer is used')
    memory_bank_iou_threshold: float = _knob(
        0.5, 0.0, 1.0, 'a past frame enters the memory bank only if its predicted IoU '
        'is above this')
    memory_bank_obj_score_threshold: float = _knob(
        0.0, -100.0, 100.0, '... and its object-score logit is above this')
    memory_bank_kf_score_threshold: float = _knob(
        0.0, -1.0, 1.0, '... and its Kalman score (when it has one) is above this')
    confidence_obj_weight: float = _knob(
        1.0, 0.0, 100.0, 'confidence = sigmoid(a * object_logit + b * (IoU - c)): a')
    confidence_iou_weight: float = _knob(
        10.0, 0.0, 100.0, 'confidence coefficient b on the predicted IoU')
    confidence_iou_center: float = _knob(
        0.5, 0.0, 1.0, 'confidence coefficient c: the predicted IoU that adds nothing')
    min_confidence: float = _knob(
        0.5, 0.0, 1.0, 'a full inference is a good measurement when its confidence is at '
        'least this')
    coast_confidence_decay: float = _knob(
        0.9, 0.0, 1.0, 'confidence factor per frame without a measurement')
    lost_after_frames: int = _knob(
        30, 1, 100000, 'frames without a good measurement before the track is LOST')
    lost_after_seconds: float = _knob(
        0.0, 0.0, 3600.0, 'also LOST after this long without a good measurement (needs '
        'stamps; 0 disables)')
    reacquire_frames: int = _knob(
        3, 1, 1000, 'good frames in REACQUIRED (after a loss or a reseed) before TRACKED')
    search_full_frame_when_lost: bool = field(default=True, metadata={
        'doc': 'in crop mode, look at the whole frame while LOST so the object can be '
               'found again anywhere'})
    min_frame_side: int = _knob(
        16, 2, 65536, 'frames smaller than this (pixels, either side) are rejected')

    def __post_init__(self) -> None:
        """Check every field against its range or choices."""
        for f in fields(self):
            value = getattr(self, f.name)
            if 'choices' in f.metadata:
                if value not in f.metadata['choices']:
                    raise TrackerInputError(
                        f'TrackerConfig.{f.name} must be one of {f.metadata["choices"]}, '
                        f'got {value!r}')
                continue
            if f.type in ('bool', bool):
                if not isinstance(value, bool):
                    raise TrackerInputError(
                        f'TrackerConfig.{f.name} must be a bool, got {value!r}')
                continue
            low, high = f.metadata['range']
            integral = isinstance(f.default, int)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    integral and not float(value).is_integer()):
                kind = 'an int' if integral else 'a number'
                raise TrackerInputError(
                    f'TrackerConfig.{f.name} must be {kind} in [{low}, {high}], got {value!r}')
            if not (low <= value <= high):
                raise TrackerInputError(
                    f'TrackerConfig.{f.name} must lie in [{low}, {high}], got {value!r}')
            object.__setattr__(self, f.name, int(value) if integral else float(value))

    def with_overrides(self, **overrides: Any) -> 'TrackerConfig':
        """Return a copy with some fields replaced; unknown names raise TrackerInputError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TrackerInputError(
                f'unknown TrackerConfig field(s) {unknown}; known: {sorted(known)}')
        return replace(self, **overrides)

    def as_dict(self) -> Dict[str, Any]:
        """Return the configuration as a plain dict (for JSON reports)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def config_parameters(config: Optional[TrackerConfig] = None) -> List[ParameterInfo]:
    """List every knob with its default (taken from ``config``), range and description."""
    config = config or TrackerConfig()
    result = []
    for f in fields(TrackerConfig):
        low, high = f.metadata.get('range', (None, None))
        result.append(ParameterInfo(f.name, getattr(config, f.name), low, high,
                                    tuple(f.metadata.get('choices', ())), f.metadata['doc']))
    return result
