"""Booking use cases: one seat, several seats, a hold's seats, cancellation, the inventory.

Each use case owns its transaction through `Database` (or joins the caller's, e.g. an
idempotency key's) and registers its notification with `on_commit`, so listeners hear only
about changes that committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from boxoffice.booking.batcher import SingleFlight
from boxoffice.booking.strategies import Strategies
from boxoffice.domain import (
    DEFAULT_EVENT_ID,
    Booking,
    BookingNotFound,
    BookingRecord,
    Cancellation,
    HoldSeatsMismatch,
    HoldState,
    Inventory,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatsNotFound,
    SeatsTaken,
    Strategy,
)
from boxoffice.observability.metrics import RATE_LIMITED_TOTAL, record_booking
from boxoffice.storage import checkout, seats
from boxoffice.storage.db import Database, in_transaction, on_commit

ChangeListener = Callable[[], None]


@dataclass(frozen=True, slots=True)
class CheckoutPolicy:
    hold_ttl_s: float
    hold_max_s: float
    """A hold can be extended, but never to more than this long after it was placed."""
    seats_per_user: int
    """Booked plus held seats one user may have per event; 0 disables the check."""

    async def enforce_seat_cap(
        self, conn: asyncpg.Connection, user_id: str, seat_ids: Sequence[int], token: UUID | None = None
    ) -> None:
        """Inside the change's transaction; `token` is a hold being confirmed (not counted twice)."""
        if self.seats_per_user:
            try:
                await checkout.enforce_seat_limit(conn, user_id, seat_ids, self.seats_per_user, token)
            except SeatLimitExceeded:
                RATE_LIMITED_TOTAL.labels("seats").inc()
                raise


class SeatChanges:
    """Who hears about committed seat changes (e.g. the real-time doorbell); listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []
        self._sequence_floor: Callable[[], int | None] | None = None

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def written(self) -> None:
        """A seat change was written in the current unit of work: tell listeners once it commits."""
        on_commit(self._ring)

    def _ring(self) -> None:
        for listener in self._listeners:
            listener()

    def sequence_floor(self, floor: Callable[[], int | None]) -> None:
        """Where the real-time relay has settled the outbox; snapshots then report a resume point."""
        self._sequence_floor = floor

    def floor(self) -> int | None:
        return self._sequence_floor() if self._sequence_floor else None


class BookingService:
    def __init__(
        self,
        db: Database,
        strategies: Strategies,
        policy: CheckoutPolicy,
        changes: SeatChanges,
        flights: SingleFlight | None = None,
    ) -> None:
        self._db = db
        self.strategies = strategies
        self.policy = policy
        self.changes = changes
        self._flights = flights

    async def book_seat(self, seat_id: int, user_id: str, strategy: Strategy | None = None) -> Booking:
        """The original single-seat call: exactly one of many concurrent requests for a seat wins."""
        chosen = self.strategies.get(strategy)
        if self.policy.seats_per_user:
            # The per-user cap needs the multi-seat transaction; the answer keeps the single-seat shape.
            try:
                return (await self.book_seats([seat_id], user_id, strategy))[0]
            except SeatsNotFound as exc:
                raise SeatNotFound(seat_id) from exc
            except SeatsTaken as exc:
                raise SeatOccupied(seat_id, "is already booked or held") from exc
        with record_booking(chosen.name):
            if self._flights is not None and chosen.single_flight and not in_transaction():
                booking = await self._flights.run(seat_id, chosen.name, lambda: chosen.book(seat_id, user_id))
            else:
                booking = await chosen.book(seat_id, user_id)
        self.changes.written()
        return booking

    async def book_seats(
        self, seat_ids: Sequence[int], user_id: str, strategy: Strategy | None = None
    ) -> list[Booking]:
        """All of `seat_ids` or none; a partial overlap raises SeatsTaken naming the taken seats."""
        ids = sorted(set(seat_ids))
        chosen = self.strategies.get(strategy)
        async with chosen.guard(ids), self._db.transaction() as conn:
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            await chosen.prepare(conn, ids)
            bookings = await checkout.claim_many(conn, ids, user_id, chosen.name)
            self.changes.written()
        return bookings

    async def confirm(
        self, token: UUID, user_id: str, seat_ids: Sequence[int] | None = None, strategy: Strategy | None = None
    ) -> list[Booking]:
        """Turn a live hold into bookings; a lapsed hold raises HoldExpired and changes nothing."""
        chosen = self.strategies.get(strategy)
        async with self._db.transaction() as conn:
            hold = await checkout.lock_hold(conn, token, user_id)
            ids = sorted(hold["seat_ids"])
            if seat_ids is not None and sorted(set(seat_ids)) != ids:
                raise HoldSeatsMismatch(ids)
            # No REDIS lease here: the seats are already ours, and a rival's lease on them must not
            # fail a valid hold (leases only spare the database losers' writes).
            await self.policy.enforce_seat_cap(conn, user_id, ids, token)
            await chosen.prepare(conn, ids)
            bookings = await checkout.claim_many(conn, ids, user_id, chosen.name, token)
            await checkout.end_hold(conn, token, HoldState.CONFIRMED)
            self.changes.written()
        return bookings

    async def cancel(self, booking_id: int, user_id: str, reason: str | None) -> Cancellation:
        async with self._db.transaction() as conn:
            cancellation = await checkout.cancel_booking(conn, booking_id, user_id, reason)
            self.changes.written()
        return cancellation

    async def get(self, booking_id: int) -> BookingRecord:
        async with self._db.connection() as conn:
            record = await checkout.booking_record(conn, booking_id)
        if record is None:
            raise BookingNotFound(booking_id)
        return record

    async def inventory(self, event_id: int = DEFAULT_EVENT_ID) -> Inventory:
        # Read the floor before the snapshot starts: everything settled below it is then visible.
        floor = self.changes.floor()
        async with self._db.transaction(isolation="repeatable_read", readonly=True) as conn:
            return await seats.inventory(conn, event_id, floor)
