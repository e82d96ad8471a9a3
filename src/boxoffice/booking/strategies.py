"""Locking strategies behind one interface; each ends in the database's conditional write."""

from __future__ import annotations

from typing import Protocol

from boxoffice.booking.domain import Booking, SeatOccupied, Strategy
from boxoffice.booking.locks import SeatLeases
from boxoffice.storage import seats
from boxoffice.storage.db import Pool, connection


class BookingStrategy(Protocol):
    name: Strategy

    async def book(self, seat_id: int, user_id: str) -> Booking: ...


class _PooledStrategy:
    def __init__(self, pool: Pool, acquire_timeout_s: float) -> None:
        self._pool = pool
        self._acquire_timeout_s = acquire_timeout_s


class AtomicStrategy(_PooledStrategy):
    """One conditional statement, one round trip, autocommit: the fastest correct claim."""

    name = Strategy.ATOMIC

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with connection(self._pool, self._acquire_timeout_s) as conn:
            return await seats.claim(conn, seat_id, user_id, self.name)


class RowLockStrategy(_PooledStrategy):
    """PostgreSQL row lock (`SELECT ... FOR UPDATE`) inside a transaction, as in the original design."""

    name = Strategy.DB

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with connection(self._pool, self._acquire_timeout_s) as conn:
            return await seats.claim_with_row_lock(conn, seat_id, user_id, self.name)


class RedisLockStrategy(_PooledStrategy):
    """Fast-fail Redis lease so losers never reach the database; the conditional write still decides."""

    name = Strategy.REDIS

    def __init__(self, pool: Pool, acquire_timeout_s: float, leases: SeatLeases) -> None:
        super().__init__(pool, acquire_timeout_s)
        self.leases = leases

    async def book(self, seat_id: int, user_id: str) -> Booking:
        async with self.leases.hold(seat_id) as held:
            if not held:
                raise SeatOccupied(seat_id, "is being booked by another request")
            async with connection(self._pool, self._acquire_timeout_s) as conn:
                return await seats.claim(conn, seat_id, user_id, self.name)
