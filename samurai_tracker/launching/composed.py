"""samurai_pipeline: every node of the pipeline in one process, frames passed by reference.

``ros2 run samurai_tracker samurai_pipeline source:=clip.mp4 model_dir:=models`` (or
``pipeline.launch.py composed:=true``) builds the same plan as ``pipeline.launch.py`` and
instantiates the camera bridge, detector, tracker and fusion nodes in this process on a
multi-threaded executor. Frames move through the in-process frame bus (no serialisation);
detections, tracks and status still travel as topics, so RViz, rosbag and other processes
see the same graph as in the multi-process launch.

Arguments are launch arguments (``name:=value``, see ``--help``) followed optionally by
``--ros-args``.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from typing import Dict, List, Optional

import yaml

from samurai_tracker.launching.arguments import ARGUMENTS, LaunchArgumentError, parse_arguments
from samurai_tracker.launching.plan import NodeSpec, pipeline_plan

__all__ = ['main', 'split_launch_arguments']

#: module -> Node subclass of each node the pipeline can compose.
NODE_CLASSES = {
    'samurai_tracker.bridge.bridge_node': 'CameraBridgeNode',
    'samurai_tracker.detector.detector_node': 'DetectorNode',
    'samurai_tracker.tracker.tracker_node': 'TrackerNode',
    'samurai_fusion.fusion_node': 'FusionNode',
}


def split_launch_arguments(argv: List[str]) -> Dict[str, str]:
    """Parse ``name:=value`` words (before any ``--ros-args``) into a dict."""
    words = argv[:argv.index('--ros-args')] if '--ros-args' in argv else argv
    given: Dict[str, str] = {}
    for word in words:
        if ':=' not in word:
            raise LaunchArgumentError(f"expected name:=value, got '{word}' (see --help)")
        name, value = word.split(':=', 1)
        given[name] = value
    return given


def _rclpy_args(plan: List[NodeSpec], params_file: str) -> List[str]:
    args = ['samurai_pipeline', '--ros-args', '--params-file', params_file]
    namespace = plan[0].namespace
    if namespace:
        args += ['-r', f'__ns:={namespace}']
    for spec in plan:
        for source, target in spec.remappings:
            args += ['-r', f'{spec.name}:{source}:={target}']
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the composed pipeline; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if '--help' in argv or '-h' in argv:
        print((__doc__ or '').strip() + '\n\nLaunch arguments:')
        for name, (default, description) in ARGUMENTS.items():
            print(f'  {name}:={default!r:<22} {description}')
        return 0
    try:
        given = split_launch_arguments(argv)
        given['composed'] = 'true'
        plan = pipeline_plan(parse_arguments(given))
    except LaunchArgumentError as error:
        print(f'samurai_pipeline: {error}', file=sys.stderr)
        return 2
    from samurai_tracker.ros.spin import exit_process, run_nodes
    factories = [getattr(importlib.import_module(spec.module), NODE_CLASSES[spec.module])
                 for spec in plan]  # the camera first: it stops handing out frames first
    with tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False) as handle:
        yaml.safe_dump({f'{spec.namespace}/{spec.name}': {'ros__parameters': spec.parameters}
                        for spec in plan}, handle)
        params_file = handle.name
    try:
        code = run_nodes(factories, _rclpy_args(plan, params_file), 'samurai_pipeline:',
                         threads=max(4, 2 * len(plan)))
    finally:
        os.unlink(params_file)
    exit_process(code)
    return code


if __name__ == '__main__':
    raise SystemExit(main())
