"""What to start for each launch file, as plain data: one source of truth for both launchers.

``launch/*.launch.py`` turn a plan into ``launch_ros`` Node actions on a ROS install;
:mod:`samurai_tracker.launching.processes` runs the same plan as processes where the
Python launch stack is not installed (CI, the demo). Both therefore start the same nodes
with the same names, parameters and remappings.

Graph of ``pipeline`` (all names relative to the namespace)::

    camera_bridge ──image──▶ detector ──detections──▶ tracker ──tracker/status──▶ fusion
       ▲                 ▲ tracker/status          ▲ tracker/reseed ◀──────────┘
       └──────── fusion/status (overlay) ──────────┘
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from samurai_tracker.launching.arguments import LaunchArguments

__all__ = ['NodeSpec', 'pipeline_plan', 'replay_plan', 'tracker_plan']

PACKAGE = 'samurai_tracker'


@dataclass(frozen=True)
class NodeSpec:
    """One node to start.

    Parameters
    ----------
    executable : str
        Console script installed in ``lib/samurai_tracker`` (``ros2 run`` name).
    module : str
        Python module with ``main()`` (how the process launcher starts it).
    name : str
        Node name.
    namespace : str
        Namespace ('' = root).
    parameters : dict
        ROS parameters.
    remappings : tuple of (str, str)
        Topic remappings, relative names.

    """

    executable: str
    module: str
    name: str
    namespace: str = ''
    parameters: Dict[str, Any] = field(default_factory=dict)
    remappings: Tuple[Tuple[str, str], ...] = ()


def _common(args: LaunchArguments) -> Dict[str, Any]:
    return {'use_sim_time': args.use_sim_time}


def _detector(args: LaunchArguments, transport: str) -> NodeSpec:
    return NodeSpec('detector_node', 'samurai_tracker.detector.detector_node', 'detector',
                    args.namespace, {**_common(args), 'model_path': args.detector_model,
                                     'frame_transport': transport,
                                     'input_size': args.detector_input_size,
                                     'every_n': args.detector_every_n},
                    (('track_status', 'tracker/status'),))


def _tracker(args: LaunchArguments, transport: str) -> NodeSpec:
    params: Dict[str, Any] = {**_common(args), 'model_dir': args.model_dir,
                              'backend': args.backend, 'target_class': args.target_class,
                              'max_kf': args.max_kf, 'frame_transport': transport}
    if args.seed_roi is not None:
        params['seed_roi'] = list(args.seed_roi)
    return NodeSpec('tracker_node', 'samurai_tracker.tracker.tracker_node', 'tracker',
                    args.namespace, params)


def _fusion(args: LaunchArguments) -> NodeSpec:
    # Without a detector there is no detection stream to wait for.
    no_detector = {} if args.detector_model else {'stream_timeout_s': 0.01}
    return NodeSpec('fusion_node', 'samurai_fusion.fusion_node', 'fusion', args.namespace,
                    {**_common(args), **no_detector, 'target_class': args.target_class,
                     'reseed_service': 'tracker/reseed', 'flush_after_s': args.fusion_wait_s,
                     'tracker_timeout_s': max(args.fusion_wait_s, 5.0)})


def tracker_plan(args: LaunchArguments) -> List[NodeSpec]:
    """Detector, tracker and fusion on an existing ``image`` topic (a bag, another driver)."""
    nodes = [_tracker(args, 'standard'), _fusion(args)]
    if args.detector_model:
        nodes.insert(0, _detector(args, 'standard'))
    return nodes


def pipeline_plan(args: LaunchArguments) -> List[NodeSpec]:
    """Camera bridge -> detector -> tracker -> fusion -> overlay and encode."""
    transport = 'composed' if args.composed else 'standard'
    camera_params: Dict[str, Any] = {
        **_common(args), 'source': args.source, 'frame_transport': transport,
        'loop': args.loop, 'realtime': args.realtime, 'output': args.output,
        'output_host': args.rtp_host, 'output_port': args.rtp_port,
        'output_path': args.output_path, 'draw_detections': True}
    camera = NodeSpec('camera_bridge_node', 'samurai_tracker.bridge.bridge_node', 'camera_bridge',
                      args.namespace, camera_params,
                      (('track_status', 'fusion/status'),))
    nodes = [camera, _tracker(args, transport), _fusion(args)]
    if args.detector_model:
        nodes.insert(1, _detector(args, transport))
    return nodes


def replay_plan(args: LaunchArguments) -> List[NodeSpec]:
    """Return the tracking stack for ``ros2 bag play --clock``, sim time on every node."""
    if not args.use_sim_time:
        raise ValueError('replay needs use_sim_time:=true (the bag drives the clock)')
    return tracker_plan(args)
