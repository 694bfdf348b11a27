"""Map GStreamer buffer times to ROS time, keeping stamps honest and monotonic.

A buffer's presentation time (PTS) converted to running time tells when, on the
pipeline clock, the frame was captured (live sources) or is due to be shown (files played
at their native rate). The pipeline clock is GStreamer's system clock (monotonic), not
ROS time, so a frame's stamp is taken as ``ros_now - age``, with
``age = clock_now - (base_time + running_time)``, the frame's age on the pipeline clock.

Ages below zero happen when a file is played as fast as possible (frames are ahead of
their schedule): the stamp is then "now" -- a frame is never stamped in the future.
Stamps are forced strictly increasing (by at least 1 ns), so downstream stamp matching
and message filters never see time run backwards, also across file loops and
reconnects, where running time restarts at 0.
"""

from __future__ import annotations

from typing import Optional

__all__ = ['StampMapper', 'NO_TIME']

#: Value of ``Gst.CLOCK_TIME_NONE`` (an invalid or missing time).
NO_TIME = 2 ** 64 - 1


class StampMapper:
    """Turn pipeline times into strictly increasing ROS stamps (all in nanoseconds)."""

    def __init__(self) -> None:
        self._last: Optional[int] = None

    @property
    def last_stamp_ns(self) -> Optional[int]:
        """The most recent stamp handed out, or None before the first frame."""
        return self._last

    def stamp(self, ros_now_ns: int, running_time_ns: Optional[int] = None,
              base_time_ns: Optional[int] = None, clock_now_ns: Optional[int] = None) -> int:
        """Return the ROS stamp (ns) of a frame.

        Parameters
        ----------
        ros_now_ns : int
            ROS time when the frame reached the bridge, ns (>= 0).
        running_time_ns : int, optional
            The buffer PTS in running time, ns; None or :data:`NO_TIME` when the buffer
            has no timestamp (the arrival time is used instead).
        base_time_ns : int, optional
            The pipeline's base time, ns (clock time at which running time was 0).
        clock_now_ns : int, optional
            The pipeline clock's current time, ns.

        Returns
        -------
        int
            ``ros_now_ns - age`` where age is clamped to ``[0, ros_now_ns]``, then raised
            to ``last + 1`` when needed to keep stamps strictly increasing.

        """
        if ros_now_ns < 0:
            raise ValueError(f'ros_now_ns must be >= 0 ns, got {ros_now_ns}')
        age = 0
        known = (running_time_ns, base_time_ns, clock_now_ns)
        if all(t is not None and 0 <= t < NO_TIME for t in known):
            assert running_time_ns is not None and base_time_ns is not None
            assert clock_now_ns is not None
            age = clock_now_ns - (base_time_ns + running_time_ns)
            age = min(max(age, 0), ros_now_ns)
        stamp = ros_now_ns - age
        if self._last is not None and stamp <= self._last:
            stamp = self._last + 1
        self._last = stamp
        return stamp
