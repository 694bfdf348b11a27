"""launch_testing version of the tracking-stack scenario (runs under `colcon test`).

Needs the Python launch stack (launch, launch_ros, launch_testing) of a ROS install; on
machines without it (CI here) the same scenario runs through test_stack_processes.py.
"""

import os
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing needs a ROS install (CI runs '
    'test_stack_processes.py instead)')
import launch  # noqa: E402
import launch_ros.actions  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from ros_harness import RosClient  # noqa: E402
from stack_scenarios import play_clip_and_check_stamps, stack_arguments  # noqa: E402

from samurai_tracker.launching import parse_arguments, tracker_plan  # noqa: E402

MODEL_DIR = os.environ.get('SAMURAI_TEST_MODEL_DIR', '')


@pytest.mark.launch_test
def generate_test_description():
    if not MODEL_DIR:
        from samurai_tracker.engines.cache import cached_random_export
        from samurai_tracker.engines.sam2_model import BiasOffsets
        model_dir = cached_random_export('/tmp/samurai_test_models', size='tiny', crop=512,
                                         offsets=BiasOffsets(10.0, 4.0), seed=0)
    else:
        model_dir = MODEL_DIR
    plan = tracker_plan(parse_arguments(stack_arguments(model_dir)))
    nodes = [launch_ros.actions.Node(package='samurai_tracker', executable=spec.executable,
                                     name=spec.name, parameters=[spec.parameters],
                                     remappings=list(spec.remappings))
             for spec in plan]
    return launch.LaunchDescription(nodes + [launch_testing.actions.ReadyToTest()]), {
        'nodes': nodes}


class TestTrackerStack(unittest.TestCase):

    def test_fused_status_carries_image_stamps(self):
        with RosClient() as ros:
            play_clip_and_check_stamps(ros)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2])
