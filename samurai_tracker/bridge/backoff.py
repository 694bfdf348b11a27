"""Capped exponential backoff for reconnecting a source that dropped.

An RTSP camera that reboots or a USB camera that is re-plugged must not be hammered with
reconnect attempts (each one costs a TCP handshake, a DESCRIBE and a decoder restart), and
must not be given up on either: the robot keeps flying. The delay before attempt ``k``
(counting from 0) is ``min(initial_s * factor**k, max_s)``, optionally spread by a
deterministic jitter so that several bridges restarted together do not reconnect in
lock-step. A success (frames flowing again) resets the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import random
from typing import List, Optional

__all__ = ['Backoff', 'BackoffPolicy']


@dataclass(frozen=True)
class BackoffPolicy:
    """Parameters of the reconnect delay sequence.

    Parameters
    ----------
    initial_s : float
        Delay before the first retry, seconds, in (0, 3600].
    factor : float
        Growth per failed attempt, in [1, 10].
    max_s : float
        Cap on any delay, seconds, >= ``initial_s``.
    jitter : float
        Relative spread in [0, 1): each delay is multiplied by a factor drawn uniformly
        from ``[1 - jitter, 1]`` (never longer than the cap).

    """

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 10.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        """Validate the ranges."""
        if not 0.0 < self.initial_s <= 3600.0:
            raise ValueError(f'backoff initial_s must lie in (0, 3600] s, got {self.initial_s}')
        if not 1.0 <= self.factor <= 10.0:
            raise ValueError(f'backoff factor must lie in [1, 10], got {self.factor}')
        if not self.initial_s <= self.max_s <= 86400.0:
            raise ValueError(f'backoff max_s must lie in [initial_s={self.initial_s}, 86400] s, '
                             f'got {self.max_s}')
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError(f'backoff jitter must lie in [0, 1), got {self.jitter}')

    def delay(self, attempt: int) -> float:
        """Un-jittered delay before retry ``attempt`` (0-based), seconds."""
        if attempt < 0:
            raise ValueError(f'attempt must be >= 0, got {attempt}')
        # Cap the exponent so huge attempt counts cannot overflow a float.
        exponent = min(attempt, 200)
        return float(min(self.initial_s * self.factor ** exponent, self.max_s))


@dataclass
class Backoff:
    """Mutable reconnect state: how many attempts failed in a row and the next delay.

    Parameters
    ----------
    policy : BackoffPolicy
        The delay sequence.
    seed : int, optional
        Seed of the jitter generator (tests use a fixed seed; None draws from the OS).

    """

    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    seed: Optional[int] = None
    attempts: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Create the jitter generator."""
        self._rng = random.Random(self.seed)

    def next_delay(self) -> float:
        """Return the delay (s) before the next attempt and count the attempt."""
        base = self.policy.delay(self.attempts)
        self.attempts += 1
        if self.policy.jitter > 0.0:
            base *= 1.0 - self.policy.jitter * self._rng.random()
        return base

    def reset(self) -> None:
        """Forget failed attempts after a success (frames flow again)."""
        self.attempts = 0

    def preview(self, count: int) -> List[float]:
        """Un-jittered delays of the next ``count`` attempts, seconds (for logs and docs)."""
        return [self.policy.delay(self.attempts + k) for k in range(count)]
