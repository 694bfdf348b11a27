"""Write an evaluation as files: one JSON report, a CSV per sequence, a summary CSV.

Layout under the output folder::

    report.json               everything: conventions, overall, per sequence, skipped
    summary.csv               one row per evaluated sequence, then an 'OVERALL' row
    sequences/<name>.csv      one row per frame: truth, report, errors, timings

JSON has no NaN: undefined numbers (a rate without a denominator) are written as null.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
from pathlib import Path
import re
from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from samurai_tracker.evaluation.metrics import (
    Accuracy, CENTRE_THRESHOLDS_PX, NORM_CENTRE_THRESHOLDS, OVERLAP_THRESHOLDS)
from samurai_tracker.evaluation.scoring import EvaluationResult, SequenceResult
from samurai_tracker.evaluation.speed import speed_summary
from samurai_tracker.records import TrackState

__all__ = ['file_stem', 'report_dict', 'write_report']

CONVENTIONS = {
    'success': 'fraction of frames with IoU > t for t in 0:0.05:1 (21 thresholds, OTB/LaSOT '
               'toolkits); auc = mean of the 21 values; op50/op75 = curve at 0.5/0.75',
    'precision': 'fraction of frames with centre error <= t px, t = 0..50; reported at 20 px',
    'norm_precision': 'LaSOT: centre offset divided per axis by the true width/height, '
                      'fraction <= t for t = 0:0.01:0.5; reported at 0.2 and as the mean '
                      'over [0, 0.5] (norm_precision_auc)',
    'overall': 'mean of the per-sequence curves (sequences weigh equally)',
    'seed_frame': 'frame 0 is seeded with and scored against the true box',
    'absent_frames': "'fail': absent frames count as failures in the denominator (pytracking "
                     "LaSOT/UAV123); 'exclude': they are left out (OTB)",
    'false_tracked': 'frames reported TRACKED/REACQUIRED while the target is absent or IoU '
                     '== 0 (frame 0 not judged)',
    'delays': 'frames from the first absent frame to the first LOST (or OCCLUDED/LOST) report '
              'within the absence; frames from the return to the first on-target (IoU > 0) '
              'TRACKED/REACQUIRED report before the next absence; null = never',
}


def file_stem(name: str) -> str:
    """Return ``name`` made safe as a file name (letters, digits, ``. _ -``)."""
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or 'sequence'


def _clean(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays into JSON types and NaN/inf into None."""
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _accuracy_dict(accuracy: Accuracy) -> Dict[str, Any]:
    return dict(accuracy.summary(), success_curve=accuracy.success_curve,
                precision_curve=accuracy.precision_curve,
                norm_precision_curve=accuracy.norm_precision_curve)


def _sequence_dict(result: SequenceResult, csv_path: str) -> Dict[str, Any]:
    states = result.run.states
    counts = {state.name: int((states == int(state)).sum()) for state in TrackState}
    return {
        'name': result.name, 'layout': result.spec.layout,
        'source': result.spec.frames.description, 'frames': len(result.run),
        'present_frames': int(result.spec.groundtruth.present.sum()),
        'notes': list(result.spec.notes), 'absent_frames_policy': result.absent_frames,
        'accuracy': _accuracy_dict(result.accuracy),
        'honesty': result.honesty.summary(), 'state_counts': counts,
        'speed': speed_summary([result.run]), 'csv': csv_path,
    }


def report_dict(evaluation: EvaluationResult, config: Optional[Mapping[str, Any]] = None,
                files: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Build the JSON-ready report (NaN already turned into None)."""
    overall_honesty = evaluation.overall_honesty.summary()
    overall_honesty.pop('events')
    body = {
        'tool': 'samurai-eval',
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'config': dict(config or {}),
        'conventions': dict(CONVENTIONS, overlap_thresholds=OVERLAP_THRESHOLDS,
                            centre_thresholds_px=CENTRE_THRESHOLDS_PX,
                            norm_centre_thresholds=NORM_CENTRE_THRESHOLDS),
        'overall': {'sequences': len(evaluation.sequences),
                    'skipped': len(evaluation.skipped),
                    'accuracy': _accuracy_dict(evaluation.overall_accuracy),
                    'honesty': overall_honesty, 'speed': evaluation.speed},
        'sequences': [_sequence_dict(result, f'sequences/{file_stem(result.name)}.csv')
                      for result in evaluation.sequences],
        'skipped': [{'name': item.name, 'reason': item.reason} for item in evaluation.skipped],
        'files': dict(files or {}),
    }
    return _clean(body)


def _frame_rows(result: SequenceResult) -> List[Dict[str, Any]]:
    truth, run, errors = result.spec.groundtruth, result.run, result.errors
    stage_names = list(run.stage_ms)
    rows = []
    for index in range(len(run)):
        row: Dict[str, Any] = {'frame': index}
        for key, value in zip(('gt_x', 'gt_y', 'gt_w', 'gt_h'), truth.xywh[index]):
            row[key] = value
        row['present'] = int(truth.present[index])
        for key, value in zip(('pred_x1', 'pred_y1', 'pred_x2', 'pred_y2'),
                              run.pred_xyxy[index]):
            row[key] = value
        row['state'] = TrackState(int(run.states[index])).name
        row['confidence'] = run.confidences[index]
        row['iou'] = errors.overlap[index]
        row['centre_error_px'] = errors.centre_px[index]
        row['norm_centre_error'] = errors.centre_norm[index]
        row['call_ms'] = run.call_ms[index]
        for name in stage_names:
            row[f'{name}_ms'] = run.stage_ms[name][index]
        rows.append(row)
    return rows


def _format(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return '' if math.isnan(value) else f'{float(value):.6g}'
    return value


def _write_csv(path: Path, rows: List[Dict[str, Any]]) -> None:
    fields: List[str] = []
    for row in rows:
        fields.extend(key for key in row if key not in fields)
    with path.open('w', newline='', encoding='utf-8') as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _format(value) for key, value in row.items()})


def _summary_row(name: str, accuracy: Accuracy, honesty: Dict[str, Any],
                 fps: Any) -> Dict[str, Any]:
    return dict(
        {'sequence': name}, **{key: value for key, value in accuracy.summary().items()},
        false_tracked=honesty['false_tracked'], claimed_frames=honesty['claimed_frames'],
        absent_frames=honesty['absent_frames'],
        mean_delay_to_lost=honesty['delay_to_lost']['mean'],
        missed_lost=honesty['delay_to_lost']['missed'],
        mean_delay_to_reacquire=honesty['delay_to_reacquire']['mean'],
        missed_reacquire=honesty['delay_to_reacquire']['missed'],
        track_fps=fps)


def write_report(evaluation: EvaluationResult, output: Path,
                 config: Optional[Mapping[str, Any]] = None,
                 extra_files: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Write ``report.json``, ``summary.csv`` and ``sequences/<name>.csv`` under ``output``.

    Returns
    -------
    dict
        The report as written (JSON types).

    """
    output = Path(output)
    (output / 'sequences').mkdir(parents=True, exist_ok=True)
    summary = []
    for result in evaluation.sequences:
        _write_csv(output / 'sequences' / f'{file_stem(result.name)}.csv', _frame_rows(result))
        fps = speed_summary([result.run])['track_call']['fps']
        summary.append(_summary_row(result.name, result.accuracy,
                                    result.honesty.summary(), fps))
    summary.append(_summary_row('OVERALL', evaluation.overall_accuracy,
                                evaluation.overall_honesty.summary(),
                                evaluation.speed['track_call']['fps']))
    _write_csv(output / 'summary.csv', summary)
    files = dict(extra_files or {}, summary='summary.csv', sequences='sequences/')
    report = report_dict(evaluation, config, files)
    with (output / 'report.json').open('w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2, allow_nan=False)
        handle.write('\n')
    return report
