"""Locking strategies behind one interface; each ends in the database's conditional write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import asyncpg

from boxoffice.booking.locks import SeatLeases
from boxoffice.domain import Booking, SeatOccupied, SeatsTaken, Strategy
from boxoffice.storage import checkout, seats
from boxoffice.storage.db import Database


class BookingStrategy(Protocol):
    name: Strategy

    async def book(self, seat_id: int, user_id: str) -> Booking: ...

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

    def __init__(self, db: Database) -> None:
        self._db = db

    def guard(self, seat_ids: Sequence[int]) -> AbstractAsyncContextManager[None]:
        return _no_guard()

    async def prepare(self, conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
        return None


class AtomicStrategy(_DatabaseArbitrated):
    """One conditional statement, one round trip, autocommit: the fastest correct claim."""

    name = Strategy.ATOMIC

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with self._db.atomic() as conn:
            return await seats.claim(conn, seat_id, user_id, self.name)


class RowLockStrategy(_DatabaseArbitrated):
    """PostgreSQL row lock (`SELECT ... FOR UPDATE`) inside a transaction, as in the original design."""

    name = Strategy.DB

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with self._db.transaction() as conn:
            return await seats.claim_with_row_lock(conn, seat_id, user_id, self.name)

    async def prepare(self, conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
        await checkout.lock_in_order(conn, seat_ids)


class RedisLockStrategy(_DatabaseArbitrated):
    """Fast-fail Redis lease so losers never reach the database; the conditional write still decides."""

    name = Strategy.REDIS

    def __init__(self, db: Database, leases: SeatLeases) -> None:
        super().__init__(db)
        self.leases = leases

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with self.leases.hold(seat_id) as held:
            if not held:
                raise SeatOccupied(seat_id, "is being booked by another request")
            async with self._db.atomic() as conn:
                return await seats.claim(conn, seat_id, user_id, self.name)

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


def standard(db: Database, leases: SeatLeases, default: Strategy) -> Strategies:
    return Strategies(
        {
            Strategy.ATOMIC: AtomicStrategy(db),
            Strategy.DB: RowLockStrategy(db),
            Strategy.REDIS: RedisLockStrategy(db, leases),
        },
        default,
    )
