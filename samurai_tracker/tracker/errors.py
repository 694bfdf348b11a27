"""Exception types of the SAMURAI runtime.

Each names one kind of failure so that callers (the tracker node, the evaluation harness,
the demo) can react to it precisely: a bad frame is dropped and reported, a missing model
file tells the operator which command makes it.
"""

from __future__ import annotations

__all__ = ['ModelSetError', 'TrackerError', 'TrackerInputError']


class TrackerError(RuntimeError):
    """Base class of every error the SAMURAI runtime raises on purpose."""


class TrackerInputError(TrackerError, ValueError):
    """A frame, box or timestamp handed to the tracker is unusable.

    The tracker raises it *before* touching its state, so the next good frame is tracked
    as if the bad one had never arrived. The message says what was expected.
    """


class ModelSetError(TrackerError):
    """A model directory is incomplete or inconsistent.

    The message names the missing or wrong file and the command that makes it.
    """
