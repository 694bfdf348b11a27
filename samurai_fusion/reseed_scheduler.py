"""Deliver reseed requests to the tracker: one call per event, backing off while it is away.

The fusion filter decides *that* the tracker must be reseeded
(:class:`~samurai_fusion.fusion_filter.ReseedRequest`); this class decides *when* to call
the service, so that a lost track never floods the tracker and a missing tracker never
floods the graph:

* one request is outstanding at a time; a newer request replaces a queued one;
* while the service is missing (not discovered, or a call timed out), attempts are
  spaced by an exponential backoff, ``initial_backoff_s`` doubling up to
  ``max_backoff_s``;
* an accepted call ends the event; a refused call is retried once as an *empty* request
  (let the tracker take the next detection itself) after the backoff, then given up;
* a loss request is cancelled when the track comes back on its own.

Time is passed in (seconds of any monotonic clock), so this logic is tested without ROS.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, Optional

from samurai_fusion.fusion_filter import ReseedRequest

__all__ = ['ReseedScheduler']


class ReseedScheduler:
    """Queue, pace and retry reseed calls.

    Parameters
    ----------
    initial_backoff_s : float
        First wait after the service was found missing (s, > 0).
    max_backoff_s : float
        Longest wait between attempts (s, >= initial_backoff_s).
    call_timeout_s : float
        A call without an answer after this long counts as the service missing (s, > 0).

    """

    def __init__(self, initial_backoff_s: float = 0.5, max_backoff_s: float = 8.0,
                 call_timeout_s: float = 5.0) -> None:
        if not (0 < initial_backoff_s <= max_backoff_s) or call_timeout_s <= 0:
            raise ValueError('ReseedScheduler needs 0 < initial_backoff_s <= max_backoff_s '
                             'and call_timeout_s > 0')
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.call_timeout_s = call_timeout_s
        self._queued: Optional[ReseedRequest] = None
        self._in_flight: Optional[ReseedRequest] = None
        self._sent_at = 0.0
        self._not_before = 0.0
        self._backoff = initial_backoff_s
        self._refused_once = False
        self.counters: Dict[str, int] = {'requested': 0, 'calls': 0, 'accepted': 0,
                                         'refused': 0, 'unavailable': 0, 'timeouts': 0,
                                         'cancelled': 0, 'given_up': 0}

    @property
    def busy(self) -> bool:
        """Whether a request is queued or in flight."""
        return self._queued is not None or self._in_flight is not None

    def request(self, request: ReseedRequest) -> None:
        """Queue ``request`` (replacing a queued one; an in-flight call is left to finish)."""
        self.counters['requested'] += 1
        self._queued = request
        self._refused_once = False

    def cancel(self, kind: str = 'loss') -> None:
        """Drop a queued request of ``kind`` (the track came back before it was sent)."""
        if self._queued is not None and self._queued.kind == kind:
            self._queued = None
            self.counters['cancelled'] += 1

    def due(self, now_s: float, service_ready: bool) -> Optional[ReseedRequest]:
        """Return the request to call now, or None.

        Parameters
        ----------
        now_s : float
            Current monotonic time (s).
        service_ready : bool
            Whether the service server is discovered.

        Returns
        -------
        ReseedRequest or None
            The caller must call the service with it and report back with
            :meth:`answered` (or let :meth:`due` notice the timeout).

        """
        if self._in_flight is not None:
            if now_s - self._sent_at < self.call_timeout_s:
                return None
            self.counters['timeouts'] += 1
            self._queued = self._queued or self._in_flight
            self._in_flight = None
            self._wait_longer(now_s)
        if self._queued is None or now_s < self._not_before:
            return None
        if not service_ready:
            self.counters['unavailable'] += 1
            self._wait_longer(now_s)
            return None
        self._in_flight, self._queued = self._queued, None
        self._sent_at = now_s
        self.counters['calls'] += 1
        return self._in_flight

    def _wait_longer(self, now_s: float) -> None:
        self._not_before = now_s + self._backoff
        self._backoff = min(self._backoff * 2, self.max_backoff_s)

    def answered(self, request: ReseedRequest, accepted: bool, now_s: float) -> None:
        """Report the service's answer to ``request``."""
        if self._in_flight is not request:
            return  # an answer after its timeout: the request was already requeued
        self._in_flight = None
        if accepted:
            self.counters['accepted'] += 1
            self._backoff = self.initial_backoff_s
            self._not_before = 0.0
            return
        self.counters['refused'] += 1
        if self._refused_once or request.box is None or self._queued is not None:
            self.counters['given_up'] += 1
            return
        self._refused_once = True
        self._queued = replace(request, box=None, stamp_ns=0,
                               reason=request.reason + '; retry without a box')
        self._wait_longer(now_s)
