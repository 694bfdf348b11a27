"""Backoff, watchdog, health, stamp mapping and the latest-frame mailbox."""

import threading

import numpy as np
import pytest

from samurai_tracker.bridge.backoff import Backoff, BackoffPolicy
from samurai_tracker.bridge.frames import Frame, ImageEncoding, LatestFrameMailbox
from samurai_tracker.bridge.health import HealthLevel, StreamHealth
from samurai_tracker.bridge.stamps import NO_TIME, StampMapper
from samurai_tracker.bridge.watchdog import Watchdog


def test_backoff_sequence_is_capped_exponential_and_resets():
    backoff = Backoff(BackoffPolicy(initial_s=0.25, factor=2.0, max_s=3.0))
    delays = [backoff.next_delay() for _ in range(7)]
    expected = [min(0.25 * 2 ** k, 3.0) for k in range(7)]
    assert delays == pytest.approx(expected)
    assert delays[-1] == 3.0 and backoff.attempts == 7
    backoff.reset()
    assert backoff.next_delay() == 0.25
    assert BackoffPolicy().delay(10_000) == BackoffPolicy().max_s  # no overflow


def test_backoff_jitter_stays_within_its_band():
    policy = BackoffPolicy(initial_s=1.0, factor=2.0, max_s=8.0, jitter=0.5)
    backoff = Backoff(policy, seed=3)
    for k in range(6):
        delay = backoff.next_delay()
        assert policy.delay(k) * 0.5 <= delay <= policy.delay(k)


@pytest.mark.parametrize('kwargs', [dict(initial_s=0), dict(factor=0.5), dict(max_s=0.1),
                                    dict(jitter=1.0)])
def test_backoff_policy_validation(kwargs):
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)


def test_watchdog_expires_only_while_armed():
    dog = Watchdog(2.0)
    assert not dog.expired(100.0)
    dog.arm(10.0)
    assert not dog.expired(11.9)
    dog.feed(11.0)
    assert not dog.expired(12.9) and dog.expired(13.1)
    assert dog.silence(13.5) == pytest.approx(2.5)
    dog.disarm()
    assert not dog.expired(1000.0)
    with pytest.raises(ValueError):
        Watchdog(0)


def test_health_counts_fps_drops_reconnects_and_age():
    health = StreamHealth(window_s=1.0, stale_after_s=2.0)
    assert health.snapshot(0.0).level is HealthLevel.STALE
    for k in range(21):                       # 20 intervals of 50 ms = 20 fps
        health.frame(10.0 + 0.05 * k)
    health.drop(3)
    snap = health.snapshot(11.0)
    assert snap.fps == pytest.approx(20.0, rel=0.1)
    assert (snap.frames, snap.drops, snap.level) == (21, 3, HealthLevel.OK)
    assert snap.last_frame_age_s == pytest.approx(0.0)
    health.reconnect('rtspsrc: could not connect')
    snap = health.snapshot(11.5)
    assert snap.level is HealthLevel.WARN and snap.reconnects == 1
    assert snap.last_error == 'rtspsrc: could not connect'
    snap = health.snapshot(13.5)
    assert snap.level is HealthLevel.ERROR and snap.last_frame_age_s == pytest.approx(2.5)
    assert snap.fps == 0.0                     # the window emptied: a dead stream reads 0
    assert snap.as_dict()['reconnects'] == '1'


def test_stamps_map_pipeline_age_and_stay_strictly_increasing():
    mapper = StampMapper()
    # A frame captured 30 ms before now on the pipeline clock is stamped 30 ms in the past.
    base, clock_now = 1_000, 1_000 + 500_000_000
    stamp = mapper.stamp(ros_now_ns=10_000_000_000, running_time_ns=470_000_000,
                         base_time_ns=base, clock_now_ns=clock_now)
    assert stamp == 10_000_000_000 - 30_000_000
    # Ahead of schedule (fast playback): never in the future.
    ahead = mapper.stamp(10_010_000_000, 900_000_000, base, clock_now)
    assert ahead == 10_010_000_000
    # Same or earlier candidate (loop restart, reconnect): bumped by 1 ns.
    assert mapper.stamp(10_010_000_000) == ahead + 1
    assert mapper.stamp(5, NO_TIME, base, clock_now) == ahead + 2
    with pytest.raises(ValueError):
        mapper.stamp(-1)


def test_frame_validation_and_mailbox_drops():
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        Frame(np.zeros((4, 4), np.uint8), 0, ImageEncoding.RGB8)
    with pytest.raises(ValueError, match='uint8'):
        Frame(np.zeros((4, 4, 3), np.float32), 0)
    assert Frame(np.zeros((4, 5), np.uint8), 1, ImageEncoding.MONO8).size == (5, 4)
    with pytest.raises(ValueError, match='rgb8, bgr8'):
        ImageEncoding.parse('yuv422')
    box = LatestFrameMailbox()
    frames = [Frame(np.full((2, 2, 3), k, np.uint8), k) for k in range(3)]
    for frame in frames:
        box.put(frame)
    assert box.take(0.1) is frames[-1] and box.drops == 2
    assert box.take(0.01) is None
    got = []
    thread = threading.Thread(target=lambda: got.append(box.take(5.0)))
    thread.start()
    box.put(frames[0])
    thread.join(5.0)
    assert got == [frames[0]]
