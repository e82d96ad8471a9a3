"""Group commit and single-flight: fewer statements and commits per booking under load.

`ClaimBatcher` sends this worker's concurrent single-seat claims as one statement (one commit for
many bookings) while the previous batch is in flight: no timer, so a lone request goes out at
once. `SingleFlight` lets concurrent requests for one seat share one claim: the winner gets the
booking, the others a 409 without a database round trip.

Both keep the per-user seat cap exact (docs/performance.md, "The seat cap in a batch"): a batch
with capped claims takes its users' advisory locks (the multi-seat path's lock), then counts and
claims in one statement; a cap refusal says nothing about the seat, so it is never shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import asyncpg

from boxoffice.domain import (
    Booking,
    DatabaseUnavailable,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    Strategy,
)
from boxoffice.observability.metrics import BATCH_RETRIES, BATCH_SIZE
from boxoffice.storage import seats
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)


class ClaimOne(Protocol):
    """One claim on its own (waiting out a busy lock there), the per-user cap enforced when given."""

    def __call__(self, seat_id: int, user_id: str, strategy: Strategy, seat_cap: int = 0) -> Awaitable[Booking]: ...


@dataclass(slots=True)
class _Claim:
    seat_id: int
    user_id: str
    strategy: Strategy
    seat_cap: int
    """The user's cap of booked plus held seats in the seat's event; 0: none."""
    future: asyncio.Future[Booking]
    twins: list[_Claim] | None = None
    """Later claims of the same seat that arrived for the same batch: they share this claim's outcome."""


class ClaimBatcher:
    """Concurrent single-seat claims of one worker, sent together.

    At most `max_in_flight` batch statements run at once; claims that arrive meanwhile wait for the
    next one (at most `max_batch` claims each). A seat asked twice goes out once per batch: the
    first claim is sent and decides the second's answer (409 when it won). A batch
    the database refused committed nothing, so its claims are retried one by one (one bad row must
    not fail the others); a seat another transaction has locked is claimed alone, waiting out
    `lock_timeout` there instead of stalling its batch. `lock_first` batches the DB strategy: one
    transaction locks the batch's rows in id order, then writes (`storage.seats.claim_batch`).
    """

    def __init__(
        self, db: Database, claim_one: ClaimOne, *, max_batch: int, max_in_flight: int, lock_first: bool = False
    ) -> None:
        self._db = db
        self._claim_one = claim_one
        self._lock_first = lock_first
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._pending: list[_Claim] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def claim(self, seat_id: int, user_id: str, strategy: Strategy, seat_cap: int = 0) -> Booking:
        future: asyncio.Future[Booking] = asyncio.get_running_loop().create_future()
        self._enqueue([_Claim(seat_id, user_id, strategy, seat_cap, future)])
        return await future

    def _enqueue(self, claims: list[_Claim]) -> None:
        self._pending += claims
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            self._spawn(self._drain())

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        """Send batches until no claim is waiting; started by the first claim that finds a free slot."""
        try:
            while batch := self._take():
                await self._send(batch)
        finally:
            self._in_flight -= 1

    def _take(self) -> list[_Claim]:
        """Up to `max_batch` waiting claims on distinct seats, in arrival order; abandoned ones dropped.

        A later claim of a seat already in the batch rides on the first one (the first wins).
        """
        batch: list[_Claim] = []
        later: list[_Claim] = []
        firsts: dict[int, _Claim] = {}
        for claim in self._pending:
            if claim.future.done():
                continue  # its request was cancelled: claim nothing for nobody
            first = firsts.get(claim.seat_id)
            if first is not None:
                if first.twins is None:
                    first.twins = []
                    first.future.add_done_callback(partial(self._settle_twins, first))
                first.twins.append(claim)
            elif len(batch) >= self._max_batch:
                later.append(claim)
            else:
                firsts[claim.seat_id] = claim
                batch.append(claim)
        self._pending = later
        return batch

    def _settle_twins(self, first: _Claim, future: asyncio.Future[Booking]) -> None:
        """The first claim of a seat won: its twins lose (409). It was refused: the same refusal. It
        learned nothing (503, a bug): the same failure, never a 409. Its request went away, or its
        user was over the seat cap (which says nothing about the seat): the twins go out with the
        next batch."""
        twins, first.twins = first.twins or [], None
        if future.cancelled() or isinstance(future.exception(), SeatLimitExceeded):
            self._enqueue([t for t in twins if not t.future.done()])
            return
        failure = future.exception()
        for twin in twins:
            if failure is None:
                _fail(twin.future, SeatOccupied(first.seat_id))
            elif isinstance(failure, SeatOccupied | SeatNotFound):
                _fail(twin.future, _copy(failure))
            else:
                _fail(twin.future, failure)

    async def _send(self, batch: list[_Claim]) -> None:
        batch.sort(key=lambda c: c.seat_id)
        BATCH_SIZE.observe(len(batch))
        caps = [c.seat_cap for c in batch]
        capped = any(caps)
        # Locks (the seats' or the capped users') last until COMMIT: a transaction, whose failures
        # before COMMIT are definite. One autocommit statement otherwise: a lost answer is unknown.
        unit: AbstractAsyncContextManager[asyncpg.Connection] = (
            self._db.transaction() if self._lock_first or capped else self._db.connection(writes=True)
        )
        try:
            async with unit as conn:
                outcomes = await seats.claim_batch(
                    conn,
                    [c.seat_id for c in batch],
                    [c.user_id for c in batch],
                    [c.strategy for c in batch],
                    lock_first=self._lock_first,
                    seat_caps=caps if capped else None,
                )
        except seats.BatchRefused as exc:
            # Nothing was committed: each claim alone learns its own outcome (the bad row's included).
            log.warning("claim_batch_refused size=%d error=%s", len(batch), exc)
            BATCH_RETRIES.labels("refused").inc(len(batch))
            for claim in batch:
                self._spawn(self._alone(claim))
            return
        except Exception as exc:
            # Not sent, or sent with no answer: every member gets the translated failure (a 503).
            for claim in batch:
                _fail(claim.future, exc)
            return
        except BaseException:
            for claim in batch:
                _fail(claim.future, DatabaseUnavailable("The server is shutting down; retry shortly"))
            raise
        for claim, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                BATCH_RETRIES.labels("locked").inc()
                self._spawn(self._alone(claim))
            elif isinstance(outcome, Booking):
                if not claim.future.done():
                    claim.future.set_result(outcome)
            else:
                _fail(claim.future, outcome)

    async def _alone(self, claim: _Claim) -> None:
        try:
            booking = await self._claim_one(claim.seat_id, claim.user_id, claim.strategy, claim.seat_cap)
        except Exception as exc:
            _fail(claim.future, exc)
        except BaseException:
            _fail(claim.future, DatabaseUnavailable("The server is shutting down; retry shortly"))
            raise
        else:
            if not claim.future.done():
                claim.future.set_result(booking)

    async def close(self) -> None:
        """Wait for batches in flight (their claims are decided in the database either way)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _fail(future: asyncio.Future[Booking], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class SingleFlight:
    """Concurrent claims of one seat (per strategy) in this worker share one call.

    Followers of a leader that won get 409 at once; of a leader refused with 409/404, the same
    answer. A leader that failed any other way (503, unknown outcome, a bug, its user over the seat
    cap) says nothing about the seat, so its followers try once more, each on its own: never a 409
    they did not earn, and at most two waits (a lock timeout, say) before an answer. Only for claims
    outside a transaction, whose result is committed when known.

    The shared future carries the leader's outcome as its result, never as its exception: a future
    keeps the traceback of an exception set on it, and with it a reference cycle per refusal.
    """

    FOLLOW_LIMIT = 1

    def __init__(self) -> None:
        self._calls: dict[tuple[int, Strategy], asyncio.Future[Booking | BaseException]] = {}

    async def run(self, seat_id: int, strategy: Strategy, call: Callable[[], Awaitable[Booking]]) -> Booking:
        key = (seat_id, strategy)
        for _ in range(self.FOLLOW_LIMIT):
            leader = self._calls.get(key)
            if leader is None:
                break
            outcome = await asyncio.shield(leader)
            if isinstance(outcome, Booking):
                raise SeatOccupied(seat_id)
            if isinstance(outcome, SeatOccupied | SeatNotFound):
                raise _copy(outcome)
            # The leader learned nothing about the seat: try again.
        if key in self._calls:
            return await call()  # the leader failed: go alone rather than wait on another
        future: asyncio.Future[Booking | BaseException] = asyncio.get_running_loop().create_future()
        self._calls[key] = future
        try:
            booking = await call()
        except BaseException as exc:
            future.set_result(exc)
            raise
        else:
            future.set_result(booking)
            return booking
        finally:
            del self._calls[key]


def _copy(exc: BaseException) -> BaseException:
    """The same refusal for another request (sharing one exception object shares its traceback)."""
    clone = type(exc).__new__(type(exc))
    clone.__dict__.update(exc.__dict__)
    clone.args = exc.args
    return clone
