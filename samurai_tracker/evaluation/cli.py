r"""``samurai-eval``: run a tracker over a dataset or a video and write metrics and plots.

Examples::

    # SAMURAI runtime on a LaSOT folder, ONNX Runtime, crop mode, coast 2 frames
    samurai-eval /data/LaSOT --model-dir models/tiny --backend onnxruntime \\
        --view-mode crop --max-kf 2 --output results/lasot_tiny

    # the template-matching baseline on a video with its ground truth
    samurai-eval --video clip.mp4 --groundtruth clip.txt --tracker template -o results/clip

The run prints one line per skipped sequence as soon as it is found, a progress bar per
sequence (tqdm), and a table of the per-sequence and overall figures at the end. Files
written: ``report.json``, ``summary.csv``, ``sequences/<name>.csv``, ``success.png``,
``precision.png``, ``timelines/<name>.png``. Exit status 0 when at least one sequence
was evaluated, 1 when none could be, 2 for bad arguments or an unusable tracker.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple

from samurai_tracker.evaluation.datasets import (
    DatasetError, LAYOUTS, load_dataset, load_video_sequence, SequenceSpec, SkippedSequence)
from samurai_tracker.evaluation.metrics import ABSENT_FRAME_POLICIES
from samurai_tracker.evaluation.report import write_report
from samurai_tracker.evaluation.runner import run_sequence, TrackerLike
from samurai_tracker.evaluation.scoring import (
    EvaluationResult, score_run, SequenceResult, summarise)
from samurai_tracker.evaluation.template_tracker import TemplateTracker

__all__ = ['build_parser', 'main', 'make_tracker', 'parse_overrides']

TRACKERS = ('samurai', 'template')
BACKENDS = ('onnxruntime', 'tensorrt', 'torch')


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``samurai-eval``."""
    parser = argparse.ArgumentParser(
        prog='samurai-eval',
        description='One-pass evaluation of a single-object tracker: success/AUC, precision, '
                    'normalised precision, OP50/OP75, lost-state honesty and speed.')
    source = parser.add_argument_group('input (a dataset folder, or --video with --groundtruth)')
    source.add_argument('dataset', nargs='?', type=Path,
                        help='dataset folder in LaSOT, OTB or UAV123 layout')
    source.add_argument('--layout', choices=('auto',) + LAYOUTS, default='auto',
                        help='dataset layout (default: detected)')
    source.add_argument('--sequences', default='',
                        help='comma-separated sequence names to evaluate (default: all)')
    source.add_argument('--video', type=Path, help='video file to evaluate on')
    source.add_argument('--groundtruth', type=Path,
                        help='x,y,w,h per line for --video (NaN rows: target absent)')
    source.add_argument('--max-frames', type=int, default=None,
                        help='evaluate at most this many frames per sequence')
    source.add_argument('--truncate-to-groundtruth', action='store_true',
                        help='when a sequence has more frames than ground-truth rows, '
                             'evaluate the first rows instead of skipping it')
    tracker = parser.add_argument_group('tracker')
    tracker.add_argument('--tracker', choices=TRACKERS, default='samurai',
                         help="'samurai': the SAMURAI runtime (needs --model-dir); "
                              "'template': the template-matching baseline")
    tracker.add_argument('--model-dir', type=Path, help='exported SAMURAI models')
    tracker.add_argument('--backend', choices=BACKENDS, default='onnxruntime')
    tracker.add_argument('--view-mode', choices=('crop', 'full_frame'), default=None,
                         help='encoder view (default: the runtime default, crop)')
    tracker.add_argument('--max-kf', type=int, default=None,
                         help='frames coasted on the Kalman prediction between inferences')
    tracker.add_argument('--backend-option', dest='backend_options', action='append',
                         default=[], metavar='KEY=VALUE',
                         help="backend constructor option, e.g. device=cuda (repeatable)")
    tracker.add_argument('--set', dest='overrides', action='append', default=[],
                         metavar='KEY=VALUE', help='any other runtime config knob (repeatable)')
    output = parser.add_argument_group('output')
    output.add_argument('-o', '--output', type=Path, default=Path('artifacts/eval'),
                        help='output folder (default: ./artifacts/eval, git-ignored)')
    output.add_argument('--absent-frames', choices=ABSENT_FRAME_POLICIES, default='auto',
                        help="absent frames in the accuracy metrics: 'fail' counts them as "
                             "failures (LaSOT/UAV123 toolkits), 'exclude' drops them (OTB); "
                             "'auto' follows the layout")
    output.add_argument('--no-plots', action='store_true', help='skip the PNG plots')
    output.add_argument('--no-progress', action='store_true', help='no progress bars')
    return parser


def _parse_value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ('true', 'false'):
        return lowered == 'true'
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_overrides(items: Sequence[str]) -> Dict[str, Any]:
    """Turn ``['max_kf=2', 'view_mode=crop']`` into ``{'max_kf': 2, 'view_mode': 'crop'}``.

    Values become bool (true/false), int or float where they parse as such, else str.

    Raises
    ------
    ValueError
        If an item has no ``=`` or an empty key.

    """
    overrides: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise ValueError(f'--set expects KEY=VALUE, got {item!r}')
        overrides[key.strip()] = _parse_value(value)
    return overrides


def make_tracker(args: argparse.Namespace) -> Tuple[TrackerLike, Dict[str, Any]]:
    """Build the tracker the arguments ask for; returns it and its configuration.

    Raises
    ------
    ValueError
        If the arguments do not describe a usable tracker (the message says what to pass).

    """
    if args.tracker == 'template':
        return TemplateTracker(), {'tracker': 'template'}
    overrides = parse_overrides(args.overrides)
    if args.view_mode is not None:
        overrides['view_mode'] = args.view_mode
    if args.max_kf is not None:
        overrides['max_kf'] = args.max_kf
    if args.model_dir is None:
        raise ValueError('--tracker samurai needs --model-dir (the exported models); '
                         'use --tracker template for the baseline')
    try:
        from samurai_tracker.tracker import load_tracker
    except ImportError as error:
        raise ValueError(f'the SAMURAI runtime cannot be imported ({error}); '
                         f'use --tracker template for the baseline') from error
    backend_options = parse_overrides(args.backend_options)
    tracker = load_tracker(str(args.model_dir), backend=args.backend,
                           backend_options=backend_options or None, **overrides)
    config = {'tracker': 'samurai', 'model_dir': str(args.model_dir),
              'backend': args.backend, 'backend_options': backend_options,
              'overrides': overrides}
    runtime_config = getattr(tracker, 'config', None)
    if dataclasses.is_dataclass(runtime_config) and not isinstance(runtime_config, type):
        config['runtime_config'] = {
            key: value for key, value in dataclasses.asdict(runtime_config).items()
            if isinstance(value, (bool, int, float, str))}
    return tracker, config


def _listing(args: argparse.Namespace
             ) -> Tuple[str, List[SequenceSpec], List[SkippedSequence]]:
    if args.video is not None:
        if args.groundtruth is None:
            raise DatasetError('--video needs --groundtruth (x,y,w,h per frame)')
        item = load_video_sequence(args.video, args.groundtruth,
                                   truncate=args.truncate_to_groundtruth,
                                   max_frames=args.max_frames)
        if isinstance(item, SkippedSequence):
            return 'video', [], [item]
        return 'video', [item], []
    names = [name.strip() for name in args.sequences.split(',') if name.strip()] or None
    listing = load_dataset(args.dataset, args.layout, names, args.truncate_to_groundtruth,
                           args.max_frames)
    return listing.layout, list(listing.sequences), list(listing.skipped)


def _fmt(value: Any, scale: float = 100.0, digits: int = 1) -> str:
    if value is None or value != value:
        return '-'
    return f'{value * scale:.{digits}f}'


def print_table(evaluation: EvaluationResult, stream: TextIO) -> None:
    """Print the per-sequence and overall figures as a fixed-width table."""
    header = (f'{"sequence":<24}{"frames":>7}{"AUC":>7}{"P@20":>7}{"Pnorm":>7}{"OP50":>7}'
              f'{"OP75":>7}{"falseTrk":>9}{"toLost":>8}{"toReacq":>8}{"fps":>8}')
    print(header, file=stream)
    print('-' * len(header), file=stream)
    rows = [(result.name, len(result.run), result.accuracy, result.honesty.summary(),
             _speed_fps(result)) for result in evaluation.sequences]
    rows.append(('OVERALL', sum(len(result.run) for result in evaluation.sequences),
                 evaluation.overall_accuracy, evaluation.overall_honesty.summary(),
                 evaluation.speed['track_call']['fps']))
    for name, frames, accuracy, honesty, fps in rows:
        print(f'{name[:23]:<24}{frames:>7}{_fmt(accuracy.auc):>7}{_fmt(accuracy.precision):>7}'
              f'{_fmt(accuracy.norm_precision):>7}{_fmt(accuracy.op50):>7}'
              f'{_fmt(accuracy.op75):>7}{honesty["false_tracked"]:>9}'
              f'{_fmt(honesty["delay_to_lost"]["mean"], 1.0):>8}'
              f'{_fmt(honesty["delay_to_reacquire"]["mean"], 1.0):>8}'
              f'{_fmt(fps, 1.0):>8}', file=stream)
    stages = evaluation.speed['stages']
    if stages:
        print(f'\n{"stage":<24}{"ms/frame":>10}{"ms/call":>10}{"calls":>8}{"fps":>9}',
              file=stream)
        for name, stats in stages.items():
            print(f'{name[:23]:<24}{_fmt(stats["mean_ms"], 1.0, 2):>10}'
                  f'{_fmt(stats["mean_ms_when_run"], 1.0, 2):>10}{stats["frames_run"]:>8}'
                  f'{_fmt(stats["fps"], 1.0):>9}', file=stream)
    print('AUC/P@20/Pnorm/OP in %; toLost/toReacq: mean frames; fps: 1000 / mean ms of '
          'track() (table) or of the stage per frame (stages)', file=stream)


def _sequence_bar(sequences: List[SequenceSpec], enabled: bool) -> Iterable[SequenceSpec]:
    """Wrap the sequence list in an outer tqdm bar (the per-frame bars sit below it)."""
    if not enabled:
        return sequences
    from tqdm import tqdm
    return tqdm(sequences, desc='sequences', unit='seq', position=0, dynamic_ncols=True)


def _speed_fps(result: SequenceResult) -> Optional[float]:
    call = result.run.call_ms[1:]
    return 1e3 / float(call.mean()) if call.size and call.mean() > 0 else None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``samurai-eval``; returns the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.dataset is None) == (args.video is None):
        parser.error('give a dataset folder or --video with --groundtruth (one of them)')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error('--max-frames must be >= 1')
    try:
        layout, sequences, skipped = _listing(args)
    except DatasetError as error:
        print(f'samurai-eval: {error}', file=sys.stderr)
        return 2
    for item in skipped:
        print(f'SKIP {item.name}: {item.reason}', file=sys.stderr)
    if not sequences:
        print(f'samurai-eval: no sequence can be evaluated ({len(skipped)} skipped)',
              file=sys.stderr)
    results: List[SequenceResult] = []
    config: Dict[str, Any] = {}
    if sequences:
        try:
            tracker, config = make_tracker(args)
        except Exception as error:  # a broken model dir must not print a bare traceback
            print(f'samurai-eval: cannot build the tracker: {type(error).__name__}: {error}',
                  file=sys.stderr)
            return 2
        for spec in _sequence_bar(sequences, len(sequences) > 1 and not args.no_progress):
            try:
                run = run_sequence(tracker, spec, progress=not args.no_progress,
                                   position=1 if len(sequences) > 1 else 0)
                results.append(score_run(spec, run, args.absent_frames))
            except Exception as error:  # one bad sequence must not end the run
                reason = f'failed while running: {type(error).__name__}: {error}'
                print(f'SKIP {spec.name}: {reason}', file=sys.stderr)
                skipped.append(SkippedSequence(spec.name, reason))
    config.update(layout=layout, source=str(args.dataset or args.video),
                  absent_frames=args.absent_frames, max_frames=args.max_frames)
    evaluation = summarise(results, skipped)
    args.output.mkdir(parents=True, exist_ok=True)
    files: Dict[str, Any] = {}
    if not args.no_plots and results:
        from samurai_tracker.evaluation.plots import write_plots
        files = write_plots(evaluation, args.output)
    write_report(evaluation, args.output, config, files)
    print_table(evaluation, sys.stdout)
    if skipped:
        print(f'skipped {len(skipped)}: ' + ', '.join(item.name for item in skipped))
    print(f'report: {args.output / "report.json"}')
    return 0 if results else 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
