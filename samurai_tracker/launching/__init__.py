"""Launch plans shared by ``launch/*.launch.py`` and the process launcher (ROS-free)."""

from samurai_tracker.launching.arguments import (ARGUMENTS, LaunchArgumentError,
                                                 LaunchArguments, parse_arguments)
from samurai_tracker.launching.plan import NodeSpec, pipeline_plan, replay_plan, tracker_plan
from samurai_tracker.launching.processes import ProcessLauncher, ros_args

__all__ = [
    'ARGUMENTS',
    'LaunchArgumentError',
    'LaunchArguments',
    'NodeSpec',
    'ProcessLauncher',
    'parse_arguments',
    'pipeline_plan',
    'replay_plan',
    'ros_args',
    'tracker_plan',
]
