"""The tracking stack started from the launch plan as processes (what CI runs for launch)."""

from ros_harness import ros_environment, RosClient
from stack_scenarios import play_clip_and_check_stamps, stack_arguments

from samurai_tracker.launching import parse_arguments, ProcessLauncher, tracker_plan


def test_tracker_stack_from_the_launch_plan(sam2_tiny_models, tmp_path):
    plan = tracker_plan(parse_arguments(stack_arguments(sam2_tiny_models)))
    launcher = ProcessLauncher(plan, env=ros_environment(), log_dir=str(tmp_path))
    with launcher, RosClient() as ros:
        try:
            play_clip_and_check_stamps(ros)
        except AssertionError:
            print({name: launcher.log(name)[-1500:] for name in launcher.processes})
            raise
        assert launcher.exited() == {}
    codes = launcher.stop()
    assert codes == {'tracker': 0, 'fusion': 0}, {n: launcher.log(n)[-800:] for n in codes}
