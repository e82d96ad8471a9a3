"""Operations through the load balancer, recorded as ok / fail / unknown with their times.

The fault suite's rules (tests/faults/harness.py) plus the balancer's own answers: HAProxy answers
`503 SERVICE_UNAVAILABLE` when no instance took the request (definite: nothing ran) and
`503 OUTCOME_UNKNOWN` when the instance was lost or silent after taking it (deploy/ha/localstack.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.faults import harness as faults
from tests.faults.harness import DEFINITE_503, History, Op

HA_DEFINITE_503 = DEFINITE_503 | {"SERVICE_UNAVAILABLE"}


def classify(op: Op) -> str:
    if op.status is None:
        return "unknown"
    if op.status == 201:
        return "ok"
    if op.status < 500 or (op.status == 503 and op.error in HA_DEFINITE_503):
        return "fail"
    return "unknown"


@dataclass
class Timed:
    op: Op
    started: float
    ended: float = 0.0


@dataclass
class Recorder:
    """Every booking sent, with when it started and ended (time.monotonic())."""

    history: History = field(default_factory=History)
    timed: list[Timed] = field(default_factory=list)

    async def book(self, client: httpx.AsyncClient, seat: int, strategy: str, user: str | None = None) -> Op:
        record = Timed(Op(seat, user or f"u-{uuid.uuid4().hex[:10]}", strategy), time.monotonic())
        self.timed.append(record)
        op = record.op
        self.history.ops.append(op)
        body = {"seatId": op.seat_id, "userId": op.user_id, "strategy": op.strategy}
        try:
            response = await client.post("/api/v1/bookings", json=body)
        except httpx.TransportError as exc:  # no answer: the booking may or may not exist
            op.message = repr(exc)
        else:
            op.status = response.status_code
            op.retry_after = response.headers.get("retry-after")
            if response.status_code >= 400:
                with contextlib.suppress(ValueError, AttributeError):
                    answer = response.json()
                    op.error, op.message = answer.get("error"), answer.get("message")
        record.ended = time.monotonic()
        op.latency_s = record.ended - record.started
        op.kind = classify(op)
        return op

    def answered(self) -> int:
        return sum(op.kind != "invoke" for op in self.history.ops)

    def progress(self, more: int) -> Callable[[], bool]:
        target = self.answered() + more
        return lambda: self.answered() >= target

    def where(self, predicate: Callable[[Timed], bool]) -> list[Timed]:
        return [t for t in self.timed if predicate(t)]

    def summary(self) -> str:
        by_strategy = Counter((t.op.strategy, t.op.kind) for t in self.timed)
        errors = Counter(t.op.error for t in self.timed if t.op.error)
        return f"{self.history.summary()} by_strategy={dict(by_strategy)} errors={dict(errors)}"


async def load(
    recorder: Recorder,
    base_url: str,
    seats: range,
    strategies: tuple[str, ...],
    stop: asyncio.Event,
    *,
    concurrency: int = 16,
) -> None:
    """Bookings on random seats until `stop`; a client told to retry waits a little first."""
    rng = random.Random()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            while not stop.is_set():
                op = await recorder.book(client, rng.choice(seats), rng.choice(strategies))
                if op.status is None or op.status >= 500:
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def first_success(recorder: Recorder, base_url: str, seats: range, strategy: str, interval_s: float) -> float:
    """Book fresh seats one at a time until one is acknowledged; return when (time.monotonic())."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for seat in seats:
            op = await recorder.book(client, seat, strategy)
            if op.kind == "ok":
                return time.monotonic()
            assert op.status in (None, 503), f"unexpected answer while waiting for recovery: {op}"
            await asyncio.sleep(interval_s)
    raise AssertionError(f"no {strategy} booking succeeded on seats {seats}: {recorder.summary()}")


def check_invariants(database_url: str, recorder: Recorder) -> None:
    """The fault suite's invariants, with the load balancer's own 503 counted as definite."""
    faults.check_invariants(database_url, recorder.history, HA_DEFINITE_503)
