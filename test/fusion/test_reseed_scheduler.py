"""Reseed delivery: one call per event, exponential backoff while the service is missing."""

from samurai_fusion import ReseedRequest, ReseedScheduler
from samurai_tracker.records import Box


def _request(box=True, kind='loss', event=1):
    return ReseedRequest(kind=kind, box=Box.from_cxcywh(50, 50, 10, 10) if box else None,
                         class_id='0', stamp_ns=5, reason='test', event=event)


def test_backoff_doubles_while_the_service_is_missing_then_one_call():
    scheduler = ReseedScheduler(initial_backoff_s=0.5, max_backoff_s=4.0)
    scheduler.request(_request())
    polls = [t / 10 for t in range(0, 200)]  # poll every 100 ms for 20 s
    checked_at = []
    for now in polls:
        before = scheduler.counters['unavailable']
        assert scheduler.due(now, service_ready=False) is None
        if scheduler.counters['unavailable'] > before:
            checked_at.append(now)
    gaps = [round(b - a, 1) for a, b in zip(checked_at, checked_at[1:])]
    assert gaps[:4] == [0.5, 1.0, 2.0, 4.0] and set(gaps[4:]) == {4.0}
    assert scheduler.counters['calls'] == 0
    now = 30.0
    request = scheduler.due(now, service_ready=True)
    assert request is not None and scheduler.due(now + 0.1, True) is None
    scheduler.answered(request, accepted=True, now_s=now + 0.2)
    assert all(scheduler.due(now + t, True) is None for t in range(1, 30))
    assert scheduler.counters['calls'] == 1 and scheduler.counters['accepted'] == 1


def test_refused_box_is_retried_once_without_a_box():
    scheduler = ReseedScheduler(initial_backoff_s=0.5)
    scheduler.request(_request())
    first = scheduler.due(0.0, True)
    scheduler.answered(first, accepted=False, now_s=0.1)
    assert scheduler.due(0.2, True) is None  # backing off
    retry = scheduler.due(1.0, True)
    assert retry is not None and retry.box is None and retry.event == first.event
    scheduler.answered(retry, accepted=False, now_s=1.1)
    assert scheduler.due(100.0, True) is None
    assert scheduler.counters['given_up'] == 1 and scheduler.counters['calls'] == 2


def test_unanswered_call_times_out_and_is_retried():
    scheduler = ReseedScheduler(initial_backoff_s=0.5, call_timeout_s=2.0)
    scheduler.request(_request())
    first = scheduler.due(0.0, True)
    assert scheduler.due(1.0, True) is None
    assert scheduler.due(2.1, True) is None  # timed out, now backing off
    again = scheduler.due(2.7, True)
    assert again is first and scheduler.counters['timeouts'] == 1
    scheduler.answered(first, accepted=True, now_s=2.8)
    assert not scheduler.busy


def test_cancel_drops_a_queued_loss_request_only():
    scheduler = ReseedScheduler()
    scheduler.request(_request(kind='drift'))
    scheduler.cancel('loss')
    assert scheduler.busy
    scheduler.request(_request(kind='loss', event=2))
    scheduler.cancel('loss')
    assert not scheduler.busy and scheduler.due(10.0, True) is None
