"""A waiting visitor's view, pure: people ahead, the estimated wait and when to poll again.
Unit-tested in tests/booking/waitroom/test_positions.py.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def people_ahead(ranks: Sequence[int], rank: int) -> int:
    """How many waiting visitors rank before `rank` (`ranks` sorted)."""
    return bisect.bisect_left(ranks, rank)


def estimated_wait_s(ahead: int, rate_per_minute: float) -> int:
    """Seconds until the visitor's turn at the current rate (rounded up)."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * 60.0 / max(rate_per_minute, 0.1))


MAX_POLL_S = 60
MAX_POLL_SCALE = 8.0


def poll_after_s(estimated_s: int | None, scale: float = 1.0) -> int:
    """Retry-After for a waiting visitor: 1 s when the turn is seconds away, else half the estimated
    wait, stretched by `scale` while the engine is degraded but never past three quarters of the
    wait (nobody is told to come back after their turn), at most a minute. A visitor at position p
    then polls about rate/p times a second, the whole queue about 2 x rate x ln(queue) times."""
    if estimated_s is None:
        return 5
    if estimated_s <= 4:
        return 1
    return max(1, min(MAX_POLL_S, math.ceil(min(estimated_s / 2 * scale, estimated_s * 0.75))))


def next_poll_scale(scale: float, degraded: bool) -> float:
    """AIMD on the polling interval itself: double while degraded, shrink back while healthy."""
    return min(scale * 2, MAX_POLL_SCALE) if degraded else max(scale * 0.75, 1.0)
