"""Turn a launch plan into a ``launch.LaunchDescription`` (used by ``launch/*.launch.py``).

Every launch file declares the same arguments (:data:`~samurai_tracker.launching.ARGUMENTS`)
and validates them with :func:`~samurai_tracker.launching.parse_arguments` inside an
``OpaqueFunction``, so a bad argument stops the launch before any node starts, with a
message that names the argument and the fix.
"""

from __future__ import annotations

from typing import Any, Callable, List

from samurai_tracker.launching import (ARGUMENTS, LaunchArgumentError, LaunchArguments,
                                       NodeSpec, parse_arguments)

__all__ = ['plan_launch_description']

PlanFunction = Callable[[LaunchArguments], List[NodeSpec]]


def plan_launch_description(plan: PlanFunction, play_bag: bool = False) -> Any:
    """Build a LaunchDescription that validates the arguments and starts ``plan``'s nodes.

    Parameters
    ----------
    plan : callable
        :func:`~samurai_tracker.launching.pipeline_plan` or a sibling.
    play_bag : bool
        Also run ``ros2 bag play <bag> --clock`` when the ``bag`` argument is set.

    """
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def make_nodes(context: Any) -> List[Any]:
        given = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
        unknown = sorted(set(context.launch_configurations) - set(ARGUMENTS))
        if unknown:
            raise LaunchArgumentError(f'unknown launch argument(s) {unknown}; see --show-args')
        args = parse_arguments(given)
        if args.composed:
            words = [f'{name}:={value}' for name, value in given.items()]
            actions: List[Any] = [Node(package='samurai_tracker', executable='samurai_pipeline',
                                       arguments=words, output='screen')]
        else:
            actions = [Node(package='samurai_tracker', executable=spec.executable,
                            name=spec.name, namespace=spec.namespace or None,
                            parameters=[spec.parameters], remappings=list(spec.remappings),
                            output='screen')
                       for spec in plan(args)]
        if play_bag and args.bag:
            actions.append(ExecuteProcess(cmd=['ros2', 'bag', 'play', args.bag, '--clock'],
                                          output='screen'))
        return actions

    declared = [DeclareLaunchArgument(name, default_value=default, description=description)
                for name, (default, description) in ARGUMENTS.items()]
    return LaunchDescription(declared + [OpaqueFunction(function=make_nodes)])
