"""The admission step's arithmetic, pure: the engine's measured health, the adaptive rate (AIMD)
and the admission budget. No I/O, so each rule is unit-tested on its own
(tests/booking/waitroom/test_pacing.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Health:
    """What the engine measured over the last window (all instances together)."""

    requests: int
    unavailable: int
    """Answers 503 (the database busy or unreachable, an unknown outcome)."""
    p99_ms: float | None
    """Holds' and bookings' 99th percentile latency; None without samples."""
    saturation: float
    """Connections lent out / pool capacity, 0..1 (the worst instance)."""


@dataclass(frozen=True, slots=True)
class Aimd:
    """Additive increase while healthy, multiplicative decrease when a signal degrades.

    Healthy means: p99 below `target_p99_ms`, the pool below `max_saturation`, and at most
    `max_unavailable` of the requests answered 503. The rate only grows while it is what limits
    admissions (there is a queue and room for more buyers): a rate that is not used proves nothing.
    """

    target_p99_ms: float = 100.0
    max_saturation: float = 0.9
    max_unavailable: float = 0.01
    increase_fraction: float = 0.1
    """Each healthy step adds this share of the operator's ceiling."""
    decrease: float = 0.7
    """Each unhealthy step multiplies the rate by this."""
    min_requests: int = 20
    """Fewer requests than this in a window make the 503 ratio meaningless (one 503 of 3 is no trend)."""

    def degraded(self, h: Health) -> str | None:
        """Which signal is bad (for logs and tests), or None when all are good."""
        if h.p99_ms is not None and h.p99_ms > self.target_p99_ms:
            return "latency"
        if h.saturation > self.max_saturation:
            return "saturation"
        if h.requests >= self.min_requests and h.unavailable > self.max_unavailable * h.requests:
            return "unavailable"
        if h.requests < self.min_requests and h.unavailable >= 3:
            return "unavailable"
        return None

    def next_rate(self, rate: float, h: Health, floor: float, ceiling: float, rate_limited: bool) -> float:
        if self.degraded(h) is not None:
            rate *= self.decrease
        elif rate_limited:
            rate += self.increase_fraction * ceiling
        return min(max(rate, floor), ceiling)


def aggregate(samples: Sequence[Health]) -> Health:
    """Instances together: requests and 503s add up; latency and saturation take the worst instance."""
    p99s = [s.p99_ms for s in samples if s.p99_ms is not None]
    return Health(
        requests=sum(s.requests for s in samples),
        unavailable=sum(s.unavailable for s in samples),
        p99_ms=max(p99s) if p99s else None,
        saturation=max((s.saturation for s in samples), default=0.0),
    )


def budget(
    rate_per_minute: float, elapsed_s: float, carry: float, active: int, max_active: int, waiting: int
) -> tuple[int, float]:
    """(visitors to admit now, fraction carried to the next step).

    The rate accrues over the time since the last step (at most two seconds' worth, so a paused
    leader never releases a burst), capped by free buyer slots and by the queue; an empty queue
    carries nothing forward.
    """
    accrued = carry + rate_per_minute * min(max(elapsed_s, 0.0), 2.0) / 60.0
    whole = math.floor(accrued)
    free = max(max_active - active, 0)
    admit = max(min(whole, free, waiting), 0)
    left = accrued - admit if admit == whole and waiting > admit else 0.0
    return admit, min(left, 1.0)


# --- this process's latency window ---------------------------------------------------------------

MAX_SAMPLES = 20_000


class HealthWindow:
    """Holds' and bookings' latencies and 503s of this process since the last drain."""

    def __init__(self) -> None:
        self._latencies: list[float] = []
        self.requests = 0
        self.unavailable = 0

    def observe(self, latency_s: float, unavailable: bool) -> None:
        self.requests += 1
        if unavailable:
            self.unavailable += 1
        if len(self._latencies) < MAX_SAMPLES:
            self._latencies.append(latency_s)

    def drain(self) -> tuple[int, int, float | None]:
        """(requests, 503s, p99 in ms) since the last drain, and start a new window."""
        samples, requests, unavailable = self._latencies, self.requests, self.unavailable
        self._latencies, self.requests, self.unavailable = [], 0, 0
        return requests, unavailable, percentile_ms(samples, 0.99)


def percentile_ms(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000.0
