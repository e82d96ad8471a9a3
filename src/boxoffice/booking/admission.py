"""The waiting room's arithmetic, pure: the adaptive rate (AIMD), the admission budget, positions,
estimated waits, admission tokens and the proof-of-work hook. No I/O, so each rule is unit-tested
on its own (tests/booking/test_admission.py).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from boxoffice.domain import AdmissionRefused

# --- health and AIMD -----------------------------------------------------------------------------


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


# --- the visitor's view ------------------------------------------------------------------------


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


# --- admission tokens --------------------------------------------------------------------------

ADMISSION_AUDIENCE = "boxoffice-admission"
ADMISSION_ISSUER = "boxoffice"
MAX_ADMISSION_TOKEN_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Admission:
    """A verified admission: who, to which event, which visitor row, when admitted."""

    user_id: str
    event_id: int
    visitor_id: int
    admitted_at: float
    expires_at: float


class AdmissionTokens:
    """Signed (HS256, a key derived for this purpose only), expiring, bound to event and session."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, user_id: str, event_id: int, visitor_id: int, admitted_at: float, expires_at: float) -> str:
        claims = {
            "sub": user_id,
            "evt": event_id,
            "vid": visitor_id,
            "iat": int(admitted_at),
            "adm": round(admitted_at, 6),
            "exp": int(expires_at),
            "aud": ADMISSION_AUDIENCE,
            "iss": ADMISSION_ISSUER,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str, user_id: str | None, event_id: int, now: float | None = None) -> Admission:
        """The admission, or AdmissionRefused (invalid, expired, wrong_event) naming why."""
        if len(token) > MAX_ADMISSION_TOKEN_BYTES:
            raise AdmissionRefused("invalid", "Admission token too large")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=ADMISSION_AUDIENCE,
                issuer=ADMISSION_ISSUER,
                options={"require": ["sub", "exp", "evt", "vid", "adm"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as exc:
            raise AdmissionRefused("invalid", f"Invalid admission token: {exc}") from exc
        sub, evt, vid, adm, exp = claims["sub"], claims["evt"], claims["vid"], claims["adm"], claims["exp"]
        if not (isinstance(evt, int) and isinstance(vid, int) and isinstance(adm, int | float)):
            raise AdmissionRefused("invalid", "Invalid admission token: bad claims")
        if user_id is None or sub != user_id:
            raise AdmissionRefused("invalid", "The admission token belongs to another session")
        if (now if now is not None else time.time()) >= exp:
            raise AdmissionRefused("expired", "The admission token has expired; join the waiting room again")
        if evt != event_id:
            raise AdmissionRefused("wrong_event", f"The admission token admits to event {evt}, not {event_id}")
        return Admission(sub, evt, vid, float(adm), float(exp))


# --- abuse: the challenge hook -----------------------------------------------------------------


class Challenge(Protocol):
    """The join hook: proof of work here, or an operator's own (a CAPTCHA verifier, a bot score).

    `describe` tells clients what to solve (shown in the room's public state); `verify` gets the
    body's `challenge` (None when absent) and returns whether the visitor may join. It runs before
    anything is written and must be quick; raising is treated as a refusal.
    """

    def describe(self, event_id: int) -> str: ...

    async def verify(self, event_id: int, user_id: str, client: str | None, answer: str | None) -> bool: ...


class ProofOfWork:
    """Hashcash: `sha256("{eventId}:{userId}:{answer}")` must start with `bits` zero bits.

    Bound to the event and the session, so a solution cannot be shared or sold to another visitor;
    re-using one is harmless (a re-join keeps the same place).
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits

    def describe(self, event_id: int) -> str:
        return f"sha256:{self.bits}"

    async def verify(self, event_id: int, user_id: str, client: str | None, answer: str | None) -> bool:
        if answer is None or len(answer) > 64:
            return False
        return leading_zero_bits(hashlib.sha256(f"{event_id}:{user_id}:{answer}".encode()).digest()) >= self.bits


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(event_id: int, user_id: str, bits: int) -> str:
    """A proof-of-work answer (clients and tests): about 2^bits hashes."""
    n = 0
    while True:
        answer = str(n)
        if leading_zero_bits(hashlib.sha256(f"{event_id}:{user_id}:{answer}".encode()).digest()) >= bits:
            return answer
        n += 1


# --- the latency window ------------------------------------------------------------------------

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
