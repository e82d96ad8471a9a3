"""Checkout use cases: multi-seat bookings, holds, cancellation.

Each method runs in one transaction: on a connection it borrows, or inside the caller's
transaction (as a savepoint) when the API wraps it with an idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from boxoffice.booking.service import BookingService
from boxoffice.domain import Booking, Cancellation, Hold, HoldSeatsMismatch, HoldState, Strategy
from boxoffice.storage import checkout
from boxoffice.storage.db import Pool, connection


@dataclass(frozen=True, slots=True)
class CheckoutPolicy:
    hold_ttl_s: float
    hold_max_s: float
    """A hold can be extended, but never to more than this long after it was placed."""
    seats_per_user: int
    """Booked plus held seats one user may have per event; 0 disables the check."""


class CheckoutService:
    def __init__(self, pool: Pool, booking: BookingService, policy: CheckoutPolicy, acquire_timeout_s: float) -> None:
        self._pool = pool
        self._booking = booking
        self.policy = policy
        self._acquire_timeout_s = acquire_timeout_s

    @asynccontextmanager
    async def _transaction(self, conn: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
        if conn is not None:
            async with conn.transaction():
                yield conn
            return
        async with connection(self._pool, self._acquire_timeout_s) as own, own.transaction():
            yield own

    async def _limit(
        self, conn: asyncpg.Connection, user_id: str, seat_ids: Sequence[int], token: UUID | None = None
    ) -> None:
        if self.policy.seats_per_user:
            await checkout.enforce_seat_limit(conn, user_id, seat_ids, self.policy.seats_per_user, token)

    async def book(
        self,
        seat_ids: Sequence[int],
        user_id: str,
        strategy: Strategy | None = None,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> list[Booking]:
        """All of `seat_ids` or none; a partial overlap raises SeatsTaken naming the taken seats."""
        ids = sorted(set(seat_ids))
        chosen = self._booking.strategy(strategy)
        async with chosen.guard(ids), self._transaction(conn) as tx:
            await self._limit(tx, user_id, ids)
            await chosen.prepare(tx, ids)
            bookings = await checkout.claim_many(tx, ids, user_id, chosen.name)
        if conn is None:
            self._booking.notify(bookings)
        return bookings

    async def confirm(
        self,
        token: UUID,
        user_id: str,
        seat_ids: Sequence[int] | None = None,
        strategy: Strategy | None = None,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> list[Booking]:
        """Turn a live hold into bookings; a lapsed hold raises HoldExpired and changes nothing."""
        chosen = self._booking.strategy(strategy)
        async with self._transaction(conn) as tx:
            hold = await checkout.lock_hold(tx, token, user_id)
            ids = sorted(hold["seat_ids"])
            if seat_ids is not None and sorted(set(seat_ids)) != ids:
                raise HoldSeatsMismatch(ids)
            # No REDIS lease here: the seats are already ours, and a rival's lease on them must not
            # fail a valid hold (leases only spare the database losers' writes).
            await self._limit(tx, user_id, ids, token)
            await chosen.prepare(tx, ids)
            bookings = await checkout.claim_many(tx, ids, user_id, chosen.name, token)
            await checkout.end_hold(tx, token, HoldState.CONFIRMED)
        if conn is None:
            self._booking.notify(bookings)
        return bookings

    async def hold(
        self,
        seat_ids: Sequence[int],
        user_id: str,
        strategy: Strategy | None = None,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> Hold:
        ids = sorted(set(seat_ids))
        chosen = self._booking.strategy(strategy)
        async with chosen.guard(ids), self._transaction(conn) as tx:
            await self._limit(tx, user_id, ids)
            await chosen.prepare(tx, ids)
            hold = await checkout.place_hold(tx, ids, user_id, uuid.uuid4(), self.policy.hold_ttl_s)
        self._changed(conn)
        return hold

    async def extend(self, token: UUID, user_id: str, *, conn: asyncpg.Connection | None = None) -> Hold:
        async with self._transaction(conn) as tx:
            hold = await checkout.extend_hold(tx, token, user_id, self.policy.hold_ttl_s, self.policy.hold_max_s)
        self._changed(conn)
        return hold

    async def release(self, token: UUID, user_id: str, *, conn: asyncpg.Connection | None = None) -> Hold:
        async with self._transaction(conn) as tx:
            hold = await checkout.release_hold(tx, token, user_id)
        self._changed(conn)
        return hold

    async def get_hold(self, token: UUID) -> Hold:
        async with connection(self._pool, self._acquire_timeout_s) as conn:
            return await checkout.get_hold(conn, token)

    async def cancel(
        self, booking_id: int, user_id: str, reason: str | None, *, conn: asyncpg.Connection | None = None
    ) -> Cancellation:
        async with self._transaction(conn) as tx:
            cancellation = await checkout.cancel_booking(tx, booking_id, user_id, reason)
        self._changed(conn)
        return cancellation

    def _changed(self, conn: asyncpg.Connection | None) -> None:
        """Tell change listeners now, unless the caller's transaction is still open (it tells them)."""
        if conn is None:
            self._booking.changed()

