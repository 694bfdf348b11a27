"""The composed pipeline: bridge, tracker and fusion in one process, frames by reference."""

import subprocess
import sys

from ros_harness import ros_environment, RosClient, wait_until
from samurai_interfaces.msg import TrackStatus

from samurai_tracker.ros import RESULT_QOS


def test_composed_pipeline_tracks_frames_handed_over_in_process(sam2_tiny_models, tmp_path):
    log_path = tmp_path / 'pipeline.log'
    words = [f'model_dir:={sam2_tiny_models}', 'source:=test://ball', 'output:=none',
             'seed_roi:=100,80,80,60', 'max_kf:=1', 'fusion_wait_s:=30']
    with open(log_path, 'w') as log, RosClient() as ros:
        tracked = ros.subscribe(TrackStatus, '/tracker/status', RESULT_QOS)
        fused = ros.subscribe(TrackStatus, '/fusion/status', RESULT_QOS)
        proc = subprocess.Popen([sys.executable, '-m', 'samurai_tracker.launching.composed']
                                + words, env=ros_environment(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            locked = (TrackStatus.STATE_TRACKED, TrackStatus.STATE_REACQUIRED)
            ok = wait_until(lambda: sum(s.state in locked for s in tracked) >= 3
                            and len(fused) >= 3, 180)
            assert ok, log_path.read_text()[-3000:]
        finally:
            proc.send_signal(2)
            code = proc.wait(timeout=60)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    # The tracker got its frames from the in-process bus, not over DDS.
    assert "frame_transport=composed" in output or 'composed' in output
    stamps = [s.header.stamp for s in tracked if s.state != TrackStatus.STATE_IDLE]
    assert all(a.sec < b.sec or (a.sec == b.sec and a.nanosec < b.nanosec)
               for a, b in zip(stamps, stamps[1:])), 'stamps must increase'
    processed = [line for line in output.splitlines() if 'tracker stopped' in line]
    assert processed and 'processed=0' not in processed[-1], processed
