"""Lost-state honesty on hand-written state sequences."""

import numpy as np

from samurai_tracker.evaluation.honesty import absence_runs, honesty, merge_honesty
from samurai_tracker.records import TrackState

T, O, L, R = (TrackState.TRACKED, TrackState.OCCLUDED, TrackState.LOST,
              TrackState.REACQUIRED)


def _case():
    present = np.array([1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1], bool)
    states = [T, T, T, O, L, L, L, R, T, T, T, L]
    nan = np.nan
    overlap = [1.0, 0.8, nan, nan, nan, nan, 0.0, 0.7, 0.0, nan, nan, 0.0]
    return states, present, overlap


def test_absence_runs():
    assert absence_runs([1, 1, 0, 0, 1, 0]) == [(2, 3), (5, 5)]
    assert absence_runs([0, 1, 1]) == []          # frame 0 (the seed) is never judged
    assert absence_runs([1, 0, 0, 0]) == [(1, 3)]


def test_events_and_counts_by_hand():
    result = honesty(*_case())
    first, second = result.events
    # absence 2..5: OCCLUDED on 3 (1 frame late), LOST on 4 (2 frames), back on 6,
    # LOST on 6 and REACQUIRED with IoU 0.7 on 7: 1 frame to reacquire
    assert (first.first, first.last, first.length) == (2, 5, 4)
    assert first.frames_to_not_tracked == 1 and first.frames_to_lost == 2
    assert first.returns_at == 6 and first.frames_to_reacquire == 1
    # absence 9..10 is reported TRACKED throughout: never declared; back on 11 but LOST
    assert (second.first, second.last) == (9, 10)
    assert second.frames_to_not_tracked is None and second.frames_to_lost is None
    assert second.returns_at == 11 and second.frames_to_reacquire is None
    # claims on frames 1, 2, 7, 8, 9, 10; wrong: 2, 9, 10 (absent) and 8 (IoU 0)
    assert result.claimed_frames == 6
    assert result.false_tracked_absent == 3 and result.false_tracked_off_target == 1
    assert result.false_tracked == 4 and result.false_tracked_rate == 4 / 6
    assert result.absent_frames == 6 and result.absent_frames_flagged == 3
    assert result.judged_frames == 11


def test_summary_statistics():
    summary = honesty(*_case()).summary()
    assert summary['delay_to_lost'] == {'events': 2, 'missed': 1, 'mean': 2.0,
                                        'median': 2.0, 'max': 2}
    assert summary['delay_to_reacquire']['events'] == 2
    assert summary['delay_to_reacquire']['missed'] == 1
    assert summary['delay_to_reacquire']['mean'] == 1.0
    assert [event['first'] for event in summary['events']] == [2, 9]


def test_trailing_absence_has_no_return_and_seed_frame_is_not_judged():
    present = np.array([0, 1, 1, 0, 0], bool)   # frame 0 flagged absent: ignored (seed)
    states = [T, T, T, O, O]
    result = honesty(states, present, [1.0, 0.9, 0.9, np.nan, np.nan])
    (event,) = result.events
    assert event.returns_at is None and event.frames_to_reacquire is None
    assert event.frames_to_not_tracked == 0 and event.frames_to_lost is None
    assert result.summary()['delay_to_reacquire']['events'] == 0
    assert result.false_tracked == 0 and result.claimed_frames == 2


def test_reacquire_must_be_on_target_and_before_the_next_absence():
    present = np.array([1, 0, 1, 1, 0, 1], bool)
    states = [T, L, R, T, L, T]
    overlap = [1.0, np.nan, 0.0, 0.0, np.nan, 0.6]     # claims on 2, 3 are off target
    first, second = honesty(states, present, overlap).events
    assert first.returns_at == 2 and first.frames_to_reacquire is None
    assert second.returns_at == 5 and second.frames_to_reacquire == 0


def test_merge_sums_counts():
    one = honesty(*_case())
    both = merge_honesty([one, one])
    assert both.false_tracked == 8 and both.claimed_frames == 12
    assert len(both.events) == 4
    assert both.summary()['delay_to_lost']['missed'] == 2
