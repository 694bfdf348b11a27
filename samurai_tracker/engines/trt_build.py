"""``samurai-build-engines``: fp16 TensorRT engines from an exported model directory.

Builds ``<name>.engine`` next to each ``<name>.onnx`` with the TensorRT Python builder
(TensorRT 10 API), using the decoder's optimisation profile (``sparse`` from 1x2x256 to
1x3x256, optimum 1x3x256: one engine serves the box seed and the empty tracking prompt),
prints the equivalent ``trtexec`` lines, and records the TensorRT version, GPU name and
compute capability in the manifest's ``tensorrt`` section, which the TensorRT backend
checks at load time. ``--dry-run`` only prints the ``trtexec`` lines (no TensorRT needed).
``--verify`` runs the parity check on the engines and writes ``parity_tensorrt.json``.
Engines are version- and GPU-locked: build them on the machine that runs them.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from samurai_tracker.engines.contract import MODEL_NAMES, MODELS

__all__ = ['build_engine', 'main', 'optimisation_profiles', 'trtexec_command']

EXIT_BAD_INPUT = 2
EXIT_PARITY_FAILED = 3


def optimisation_profiles(name: str) -> Dict[str, Tuple[Tuple[int, ...], ...]]:
    """Return ``{input: (min, opt, max)}`` shapes of the dynamic inputs of model ``name``."""
    if name == 'mask_decoder':
        return {'sparse': ((1, 2, 256), (1, 3, 256), (1, 3, 256))}
    return {}


def trtexec_command(model_dir: str, name: str, fp16: bool = True) -> str:
    """Return the ``trtexec`` line equivalent to building model ``name``."""
    onnx_path = os.path.join(model_dir, MODELS[name].file_name)
    engine_path = os.path.join(model_dir, name + '.engine')
    parts = ['trtexec', f'--onnx={onnx_path}', f'--saveEngine={engine_path}']
    if fp16:
        parts.append('--fp16')
    for tensor, (low, opt, high) in optimisation_profiles(name).items():
        def fmt(shape: Tuple[int, ...]) -> str:
            return f'{tensor}:' + 'x'.join(str(d) for d in shape)
        parts += [f'--minShapes={fmt(low)}', f'--optShapes={fmt(opt)}', f'--maxShapes={fmt(high)}']
    return ' '.join(parts)


def build_engine(onnx_path: str, engine_path: str, name: str, fp16: bool = True,
                 workspace_gib: float = 4.0) -> None:
    """Build one serialized engine with the TensorRT 10 Python builder.

    Raises
    ------
    BackendError
        If TensorRT is missing, the ONNX file does not parse, or the build fails.

    """
    from samurai_tracker.backends.base import BackendError
    from samurai_tracker.backends.tensorrt_backend import import_tensorrt

    trt = import_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendError(f'TensorRT cannot parse {onnx_path}: {errors}')
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * (1 << 30)))
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profiles = optimisation_profiles(name)
    if profiles:
        profile = builder.create_optimization_profile()
        for tensor, (low, opt, high) in profiles.items():
            profile.set_shape(tensor, low, opt, high)
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendError(f'TensorRT failed to build {onnx_path} (see the log above)')
    tmp = engine_path + '.tmp'
    with open(tmp, 'wb') as handle:
        handle.write(serialized)
    os.replace(tmp, engine_path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='samurai-build-engines',
        description='Build TensorRT engines from a samurai-export model directory.')
    parser.add_argument('--model-dir', required=True, help='directory written by samurai-export')
    parser.add_argument('--models', nargs='+', choices=MODEL_NAMES, default=list(MODEL_NAMES))
    parser.add_argument('--fp32', action='store_true', help='build fp32 engines (default fp16)')
    parser.add_argument('--workspace-gib', type=float, default=4.0,
                        help='builder workspace limit in GiB')
    parser.add_argument('--device-id', type=int, default=0, help='CUDA device ordinal')
    parser.add_argument('--dry-run', action='store_true',
                        help='only print the equivalent trtexec commands')
    parser.add_argument('--verify', action='store_true',
                        help='check the engines against the original sam2 modules')
    return parser


def _verify(model_dir: str, manifest: Dict[str, Any], models: Sequence[str],
            device_id: int) -> Dict[str, Any]:
    from samurai_tracker.backends.tensorrt_backend import TensorRTBackend
    from samurai_tracker.engines.parity import run_parity, write_parity
    from samurai_tracker.engines.sam2_model import BiasOffsets, build_sam2

    info = manifest['model']
    model, _ = build_sam2(info['size'], int(manifest['crop']), checkpoint=info['checkpoint'],
                          seed=int(info.get('seed') or 0),
                          offsets=BiasOffsets(**info.get('bias_offsets', {})))
    report = run_parity(model_dir, model, models=models, backend_name='tensorrt',
                        backend_factory=lambda name: TensorRTBackend(
                            os.path.join(model_dir, name + '.engine'), device_id,
                            host_outputs=True))
    write_parity(model_dir, report, 'parity_tensorrt.json')
    return report


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``samurai-build-engines``; return the process exit status."""
    args = _parser().parse_args(argv)
    from samurai_tracker.backends.base import BackendError
    from samurai_tracker.engines.manifest import ManifestError, read_manifest, write_manifest
    from samurai_tracker.engines.sam2_model import file_sha256

    model_dir = os.path.abspath(args.model_dir)
    fp16 = not args.fp32
    try:
        manifest = read_manifest(model_dir)
        for name in args.models:
            if not os.path.isfile(os.path.join(model_dir, MODELS[name].file_name)):
                raise ManifestError(f'{MODELS[name].file_name} missing in {model_dir}; '
                                    're-run samurai-export')
    except ManifestError as error:
        print(f'samurai-build-engines: error: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    lines = [trtexec_command(model_dir, name, fp16) for name in args.models]
    print('# equivalent trtexec commands:')
    for line in lines:
        print(line)
    if args.dry_run:
        return 0
    try:
        from samurai_tracker.backends.tensorrt_backend import current_build_info

        info = current_build_info(args.device_id)
        engines = {}
        for name in args.models:
            engine_path = os.path.join(model_dir, name + '.engine')
            print(f'building {engine_path} ...', flush=True)
            build_engine(os.path.join(model_dir, MODELS[name].file_name), engine_path, name,
                         fp16=fp16, workspace_gib=args.workspace_gib)
            engines[name] = {'file': os.path.basename(engine_path),
                             'sha256': file_sha256(engine_path)}
    except BackendError as error:
        print(f'samurai-build-engines: error: {error}', file=sys.stderr)
        return EXIT_BAD_INPUT
    manifest['tensorrt'] = {**info, 'precision': 'fp16' if fp16 else 'fp32',
                            'built_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),
                            'engines': engines, 'trtexec': lines}
    write_manifest(model_dir, manifest)
    if args.verify:
        report = _verify(model_dir, manifest, args.models, args.device_id)
        if not report['passed']:
            print('samurai-build-engines: error: engine parity gate failed (see '
                  'parity_tensorrt.json)', file=sys.stderr)
            return EXIT_PARITY_FAILED
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
