"""Locking strategies behind one interface; each ends in the database's conditional write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Protocol

import asyncpg

from boxoffice.booking.batcher import ClaimBatcher, ClaimOne
from boxoffice.booking.locks import SeatLeases
from boxoffice.domain import Booking, SeatOccupied, SeatsTaken, Strategy
from boxoffice.storage import checkout, seats
from boxoffice.storage.db import Database, in_transaction


class BookingStrategy(Protocol):
    name: Strategy
    single_flight: bool
    """Concurrent requests for one seat in a worker may share one claim (see batcher.SingleFlight)."""

    async def book(self, seat_id: int, user_id: str, seat_cap: int = 0) -> Booking:
        """Claim one seat; `seat_cap` (0: none) is the user's cap of booked plus held seats in its event."""
        ...

    def guard(self, seat_ids: Sequence[int]) -> AbstractAsyncContextManager[None]:
        """Entered before a multi-seat change borrows a connection (REDIS: the seats' leases)."""
        ...

    async def prepare(self, conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
        """Runs inside the multi-seat transaction before the conditional write (DB: ordered row locks)."""
        ...


@asynccontextmanager
async def _no_guard() -> AsyncIterator[None]:
    yield


class _DatabaseArbitrated:
    """Multi-seat defaults: the ordered, guarded write in storage.checkout decides alone."""

    name: Strategy
    single_flight = False

    def __init__(self, db: Database, batcher: ClaimBatcher | None = None) -> None:
        self._db = db
        self._batcher = batcher

    async def _claim(self, seat_id: int, user_id: str, seat_cap: int) -> Booking:
        """The conditional write: with other requests' claims (group commit) unless a transaction is open,
        whose claim must belong to it (an idempotency key's)."""
        if self._batcher is None or in_transaction():
            return await _claim_alone(self._db, seat_id, user_id, self.name, seat_cap)
        return await self._batcher.claim(seat_id, user_id, self.name, seat_cap)

    def guard(self, seat_ids: Sequence[int]) -> AbstractAsyncContextManager[None]:
        return _no_guard()

    async def prepare(self, conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
        return None


class AtomicStrategy(_DatabaseArbitrated):
    """One conditional statement, one round trip, autocommit: the fastest correct claim."""

    name = Strategy.ATOMIC
    single_flight = True

    async def book(self, seat_id: int, user_id: str, seat_cap: int = 0) -> Booking:
        return await self._claim(seat_id, user_id, seat_cap)


class RowLockStrategy(_DatabaseArbitrated):
    """PostgreSQL row lock (`SELECT ... FOR UPDATE`) inside a transaction, as in the original design.

    With a batcher, concurrent claims share that transaction: their rows locked in id order, then written."""

    name = Strategy.DB
    single_flight = True

    async def book(self, seat_id: int, user_id: str, seat_cap: int = 0) -> Booking:
        if self._batcher is None or in_transaction():
            return await _lock_and_claim(self._db, seat_id, user_id, self.name, seat_cap)
        return await self._batcher.claim(seat_id, user_id, self.name, seat_cap)

    async def prepare(self, conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
        await checkout.lock_in_order(conn, seat_ids)


class RedisLockStrategy(_DatabaseArbitrated):
    """Fast-fail Redis lease so losers never reach the database; the conditional write still decides."""

    name = Strategy.REDIS

    def __init__(self, db: Database, leases: SeatLeases, batcher: ClaimBatcher | None = None) -> None:
        super().__init__(db, batcher)
        self.leases = leases

    async def book(self, seat_id: int, user_id: str, seat_cap: int = 0) -> Booking:
        lease = await self.leases.take(seat_id)
        if lease is None:
            raise SeatOccupied(seat_id, "is being booked by another request")
        try:
            return await self._claim(seat_id, user_id, seat_cap)
        finally:
            # The outcome is decided: answer without waiting for Redis to free the lease.
            self.leases.give_back_soon(lease)

    def guard(self, seat_ids: Sequence[int]) -> AbstractAsyncContextManager[None]:
        return self._guard(seat_ids)

    @asynccontextmanager
    async def _guard(self, seat_ids: Sequence[int]) -> AsyncIterator[None]:
        async with self.leases.hold_many(seat_ids) as contended:
            if contended:
                raise SeatsTaken(contended, "are being booked by another request")
            yield


class Strategies:
    """The strategies of this deployment and the one used when a request names none."""

    def __init__(self, strategies: Mapping[Strategy, BookingStrategy], default: Strategy) -> None:
        self._strategies = dict(strategies)
        self.default = default

    def get(self, name: Strategy | None = None) -> BookingStrategy:
        return self._strategies[name or self.default]


async def _claim_alone(db: Database, seat_id: int, user_id: str, strategy: Strategy, seat_cap: int = 0) -> Booking:
    """One conditional write: autocommit (a savepoint in a caller's transaction). With a cap, a
    transaction that first takes the user's lock and counts (as the multi-seat path does)."""
    if not seat_cap:
        async with db.atomic() as conn:
            return await seats.claim(conn, seat_id, user_id, strategy)
    async with db.transaction() as conn:
        await checkout.enforce_seat_limit(conn, user_id, [seat_id], seat_cap)
        return await seats.claim(conn, seat_id, user_id, strategy)


async def _lock_and_claim(db: Database, seat_id: int, user_id: str, strategy: Strategy, seat_cap: int = 0) -> Booking:
    """BEGIN; the user's lock and count (with a cap); SELECT ... FOR UPDATE; the conditional write; COMMIT."""
    async with db.transaction() as conn:
        if seat_cap:
            await checkout.enforce_seat_limit(conn, user_id, [seat_id], seat_cap)
        return await seats.claim_with_row_lock(conn, seat_id, user_id, strategy)


def claim_alone(db: Database) -> ClaimOne:
    """One claim on its own connection: what a batch falls back to for a seat it could not decide."""
    return partial(_claim_alone, db)


def lock_and_claim(db: Database) -> ClaimOne:
    """The DB strategy's claim on its own: BEGIN; SELECT ... FOR UPDATE; the conditional write; COMMIT."""
    return partial(_lock_and_claim, db)


def standard(
    db: Database,
    leases: SeatLeases,
    default: Strategy,
    batcher: ClaimBatcher | None = None,
    locking_batcher: ClaimBatcher | None = None,
) -> Strategies:
    """ATOMIC and REDIS send their single-seat claims through `batcher` (group commit), DB through
    `locking_batcher` (its lock-then-write transaction per batch), when given them."""
    return Strategies(
        {
            Strategy.ATOMIC: AtomicStrategy(db, batcher),
            Strategy.DB: RowLockStrategy(db, locking_batcher),
            Strategy.REDIS: RedisLockStrategy(db, leases, batcher),
        },
        default,
    )
