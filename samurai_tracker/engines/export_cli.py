"""``samurai-export``: SAM 2.1 checkpoint (or random init) -> five ONNX models + constants.

Examples
--------
Export a real checkpoint for 512 crops and check parity::

    samurai-export --checkpoint sam2.1_hiera_tiny.pt --output models/tiny512 --verify

A random tiny model that reads "object present, IoU ~0.98" on every frame (tests, demo)::

    samurai-export --random-init --config tiny --bias-offsets 10 4 --output models/rnd

``--bias-offsets OBJ IOU`` adds OBJ logits to the object-score head's output bias and IOU
logits to the IoU head's output bias (negative OBJ scripts "object absent"); the offsets
are recorded in the manifest. Bad input exits with status 2 and one line on stderr that
says what is wrong and what to do; a failed parity gate exits with status 3.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from samurai_tracker.engines.contract import DEFAULT_CROP, MODEL_NAMES, SUPPORTED_CROPS

__all__ = ['build_parser', 'main']

EXIT_BAD_INPUT = 2
EXIT_PARITY_FAILED = 3


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``samurai-export``."""
    parser = argparse.ArgumentParser(
        prog='samurai-export',
        description='Export SAM 2.1 into the five SAMURAI ONNX models, a constants file and '
                    'a manifest (and parity.json with --verify).')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--checkpoint', help='SAM 2.1 checkpoint (.pt), e.g. '
                        'sam2.1_hiera_tiny.pt; its size is read from the weights')
    source.add_argument('--random-init', action='store_true',
                        help='export a randomly initialised model (marked untrained)')
    parser.add_argument('--config', help='tiny, small, base_plus or large (or a SAM 2.1 config '
                        'name); required with --random-init, checked against a checkpoint')
    parser.add_argument('--output', '-o', required=True, help='output directory')
    parser.add_argument('--crop', type=int, default=DEFAULT_CROP,
                        help=f'crop side S in pixels, one of {SUPPORTED_CROPS} '
                        f'(default {DEFAULT_CROP}; 1024 for full-frame mode)')
    parser.add_argument('--bias-offsets', type=float, nargs=2, metavar=('OBJ', 'IOU'),
                        default=None, help='add OBJ to the object-score head output bias and '
                        'IOU to the IoU head output bias, in logits (e.g. 10 4)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random init')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset (default 17)')
    parser.add_argument('--models', nargs='+', choices=MODEL_NAMES, default=list(MODEL_NAMES),
                        help='export only these models')
    parser.add_argument('--verify', action='store_true',
                        help='check each model in ONNX Runtime against the original sam2 '
                        'module and write parity.json (gate: cosine >= 0.999)')
    parser.add_argument('--quiet', action='store_true', help='print only errors')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``samurai-export``; return the process exit status."""
    args = build_parser().parse_args(argv)
    from samurai_tracker.engines.export import export_models
    from samurai_tracker.engines.manifest import ManifestError
    from samurai_tracker.engines.sam2_model import BiasOffsets, ExportError

    def log(message: str) -> None:
        if not args.quiet:
            print(message, flush=True)

    try:
        offsets = BiasOffsets(*args.bias_offsets) if args.bias_offsets else BiasOffsets()
        result = export_models(args.output, size=args.config, checkpoint=args.checkpoint,
                               crop=args.crop, random_init=args.random_init, offsets=offsets,
                               seed=args.seed, opset=args.opset, verify=args.verify,
                               models=args.models, log=log)
    except (ExportError, ManifestError, ValueError) as error:
        print(f'samurai-export: error: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    if result.parity is not None:
        for model, outputs in result.parity['models'].items():
            for output, entry in outputs.items():
                log(f'  {model:17s} {output:20s} cosine {entry["cosine"]:.6f}  max abs '
                    f'{entry["max_abs_error"]:.3g}  {"ok" if entry["pass"] else "FAIL"}')
    log(f'wrote {result.output_dir} in {result.seconds:.1f} s')
    if not result.parity_passed:
        print('samurai-export: error: parity gate failed (see parity.json); do not use these '
              'models', file=sys.stderr)
        return EXIT_PARITY_FAILED
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
