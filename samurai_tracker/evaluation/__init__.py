"""samurai-eval: single-object tracking metrics and lost-state honesty, ROS-free.

Read a dataset (LaSOT, OTB, UAV123 layouts) or a video with ground truth
(:mod:`.datasets`), run any tracker with ``seed``/``track``/``timings`` over it in the
one-pass protocol (:mod:`.runner`), score accuracy (:mod:`.metrics`), honesty
(:mod:`.honesty`) and speed (:mod:`.speed`), and write JSON, CSV and PNG
(:mod:`.report`, :mod:`.plots`). The command line lives in :mod:`.cli`.
"""

from samurai_tracker.evaluation.datasets import (
    DatasetError, DatasetListing, detect_layout, LAYOUTS, load_dataset, load_video_sequence,
    SequenceSpec, SkippedSequence)
from samurai_tracker.evaluation.frames import (
    FrameReadError, FrameSource, ImageFolderFrames, VideoFrames)
from samurai_tracker.evaluation.groundtruth import (
    GroundTruth, GroundTruthError, parse_boxes, parse_flags, read_boxes, read_flags)
from samurai_tracker.evaluation.honesty import AbsenceEvent, Honesty, honesty, merge_honesty
from samurai_tracker.evaluation.metrics import (
    Accuracy, CENTRE_THRESHOLDS_PX, frame_errors, FrameErrors, mean_accuracy,
    NORM_CENTRE_THRESHOLDS, OVERLAP_THRESHOLDS, sequence_accuracy)
from samurai_tracker.evaluation.report import write_report
from samurai_tracker.evaluation.runner import run_sequence, SequenceRun, TrackerLike
from samurai_tracker.evaluation.scoring import (
    EvaluationResult, score_run, SequenceResult, summarise)
from samurai_tracker.evaluation.speed import speed_summary
from samurai_tracker.evaluation.template_tracker import TemplateTracker

__all__ = [
    'AbsenceEvent',
    'Accuracy',
    'CENTRE_THRESHOLDS_PX',
    'DatasetError',
    'DatasetListing',
    'EvaluationResult',
    'FrameErrors',
    'FrameReadError',
    'FrameSource',
    'GroundTruth',
    'GroundTruthError',
    'Honesty',
    'ImageFolderFrames',
    'LAYOUTS',
    'NORM_CENTRE_THRESHOLDS',
    'OVERLAP_THRESHOLDS',
    'SequenceResult',
    'SequenceRun',
    'SequenceSpec',
    'SkippedSequence',
    'TemplateTracker',
    'TrackerLike',
    'VideoFrames',
    'detect_layout',
    'frame_errors',
    'honesty',
    'load_dataset',
    'load_video_sequence',
    'mean_accuracy',
    'merge_honesty',
    'parse_boxes',
    'parse_flags',
    'read_boxes',
    'read_flags',
    'run_sequence',
    'score_run',
    'sequence_accuracy',
    'speed_summary',
    'summarise',
    'write_report',
]
