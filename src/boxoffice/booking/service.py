"""Booking use cases: one seat, several seats, a hold's seats, cancellation, the inventory.

Each use case owns its transaction through `Database` (or joins the caller's, e.g. an
idempotency key's) and registers its notification with `on_commit`, so listeners hear only
about changes that committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

import asyncpg

from boxoffice.booking import picking
from boxoffice.booking.batcher import SingleFlight
from boxoffice.booking.ownership import Ownership
from boxoffice.booking.strategies import BookingStrategy, Strategies
from boxoffice.domain import (
    DEFAULT_EVENT_ID,
    Access,
    BestAvailable,
    Booking,
    BookingNotFound,
    BookingRecord,
    Caller,
    Cancellation,
    Hold,
    HoldNotFound,
    HoldSeatsMismatch,
    HoldState,
    Inventory,
    NeedsCheckout,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatsNotFound,
    SeatsTaken,
    Strategy,
)
from boxoffice.observability.metrics import RATE_LIMITED_TOTAL, count_conflicts, record_booking
from boxoffice.storage import checkout, inventory, lookups, seats
from boxoffice.storage.db import Database, in_transaction, on_commit
from boxoffice.storage.inventory import RowKey

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


MAX_PAGE = 500

R = TypeVar("R", covariant=True)


class Target(Protocol[R]):
    """The final state seats are taken to: the one thing booking and holding differ in."""

    async def take(self, conn: asyncpg.Connection, seat_ids: Sequence[int], user_id: str) -> R:
        """All of `seat_ids` (sorted, distinct) or none, inside the caller's transaction."""
        ...

    async def take_ga(
        self, conn: asyncpg.Connection, best: BestAvailable, channel: str | None, user_id: str
    ) -> R | None:
        """GA tickets by quantity in one statement (SKIP LOCKED); None when it took nothing."""
        ...


@dataclass(frozen=True, slots=True)
class ToBook:
    """Seats to BOOKED, as bookings of `strategy`; `hold_token` confirms that hold's seats."""

    strategy: Strategy
    hold_token: UUID | None = None

    async def take(self, conn: asyncpg.Connection, seat_ids: Sequence[int], user_id: str) -> list[Booking]:
        return await checkout.claim_many(conn, seat_ids, user_id, self.strategy, self.hold_token)

    async def take_ga(
        self, conn: asyncpg.Connection, best: BestAvailable, channel: str | None, user_id: str
    ) -> list[Booking] | None:
        assert best.section is not None
        taken = await inventory.book_ga(
            conn, best.event_id, best.section, channel, best.quantity, user_id, self.strategy
        )
        return taken or None


@dataclass(frozen=True, slots=True)
class ToHold:
    """Seats to HELD for `ttl_s`, under a new token each time."""

    ttl_s: float

    async def take(self, conn: asyncpg.Connection, seat_ids: Sequence[int], user_id: str) -> Hold:
        return await checkout.place_hold(conn, seat_ids, user_id, uuid.uuid4(), self.ttl_s)

    async def take_ga(
        self, conn: asyncpg.Connection, best: BestAvailable, channel: str | None, user_id: str
    ) -> Hold | None:
        assert best.section is not None
        return await inventory.hold_ga(
            conn, best.event_id, best.section, channel, best.quantity, user_id, uuid.uuid4(), self.ttl_s
        )


class Checkout:
    """The one path that takes seats, chosen by the buyer or by the server, to a `Target`."""

    def __init__(self, db: Database, policy: CheckoutPolicy, changes: SeatChanges) -> None:
        self._db = db
        self.policy = policy
        self._changes = changes

    async def take(
        self, ids: list[int], user_id: str, chosen: BookingStrategy, access: Access | None, to: Target[R]
    ) -> R:
        """All of `ids` (sorted, distinct) or none: the cap, the seats' rules, the strategy's locks, the claim."""
        async with chosen.guard(ids), self._db.transaction() as conn:
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            await picking.check_pick(conn, ids, access)
            await chosen.prepare(conn, ids)
            taken = await to.take(conn, ids, user_id)
            self._changes.written()
        return taken

    async def take_best(
        self,
        best: BestAvailable,
        user_id: str,
        access: Access | None,
        to: Target[R],
        record: Callable[[str], AbstractContextManager[None]] = lambda _path: nullcontext(),
    ) -> R:
        """The server picks the block (or GA tickets) and takes it in the same transaction; each
        decision runs inside `record(path)` (the booking metrics; path "ga" or "best")."""
        ga = await picking.ga_quick(self._db, best)
        path = "ga" if ga else "best"
        if ga and not self.policy.seats_per_user:
            # GA by quantity in one statement (SKIP LOCKED); the checked transaction below when it took nothing.
            with record(path):
                async with self._db.atomic() as conn:
                    channel = await picking.ga_channel(conn, best, access)
                    quick = await to.take_ga(conn, best, channel, user_id)
                    if quick is None:
                        await picking.ga_sold_out(conn, best, channel)
            if quick is not None:
                self._changes.written()
                return quick

        async def attempt(conn: asyncpg.Connection, wait_for: RowKey | None) -> R:
            await self.policy.enforce_seat_cap(conn, user_id, [])
            ids = await picking.choose(conn, best, access, wait_for)
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            taken = await to.take(conn, ids, user_id)
            self._changes.written()
            return taken

        with record(path):
            return await picking.with_attempts(self._db, attempt)


class BookingService:
    def __init__(
        self,
        db: Database,
        strategies: Strategies,
        policy: CheckoutPolicy,
        changes: SeatChanges,
        owners: Ownership,
        flights: SingleFlight | None = None,
    ) -> None:
        self._db = db
        self.strategies = strategies
        self.policy = policy
        self.changes = changes
        self.owners = owners
        self._flights = flights
        self._checkout = Checkout(db, policy, changes)

    async def book_seat(
        self, seat_id: int, caller: Caller, strategy: Strategy | None = None, access: Access | None = None
    ) -> Booking:
        """The original single-seat call: exactly one of many concurrent requests for a seat wins.

        The per-user seat cap is enforced by the claim itself (in its batch, or alone with the user's
        lock), so capped single-seat bookings keep group commit and single-flight.
        """
        chosen = self.strategies.get(strategy)
        try:
            return await self._book_seat(seat_id, caller, chosen, "seat")
        except NeedsCheckout:
            # A channel, accessible or blocked seat, a GA ticket, or the orphan rule: the checked path.
            with record_booking(chosen.name, "seat"):
                return await self._book_seat_checked(seat_id, caller, chosen, access)

    async def _book_seat_checked(
        self, seat_id: int, caller: Caller, chosen: BookingStrategy, access: Access | None
    ) -> Booking:
        try:
            booked = await self._checkout.take([seat_id], caller.user, chosen, access, ToBook(chosen.name))
            return self.owners.issue(caller, booked[0])
        except SeatsNotFound as exc:
            raise SeatNotFound(seat_id) from exc
        except SeatsTaken as exc:
            if type(exc) is not SeatsTaken:
                raise  # orphan, blocked, channel, accessible: their own answers
            raise SeatOccupied(seat_id, "is already booked or held") from exc

    async def _book_seat(self, seat_id: int, caller: Caller, chosen: BookingStrategy, path: str) -> Booking:
        cap = self.policy.seats_per_user
        with record_booking(chosen.name, path):
            try:
                if self._flights is not None and chosen.single_flight and not in_transaction():
                    booking = await self._flights.run(
                        seat_id, chosen.name, lambda: chosen.book(seat_id, caller.user, cap)
                    )
                else:
                    booking = await chosen.book(seat_id, caller.user, cap)
            except SeatLimitExceeded:
                RATE_LIMITED_TOTAL.labels("seats").inc()
                raise
        self.changes.written()
        return self.owners.issue(caller, booking)

    async def book_seats(
        self, seat_ids: Sequence[int], caller: Caller, strategy: Strategy | None = None, access: Access | None = None
    ) -> list[Booking]:
        """All of `seat_ids` or none; a partial overlap raises SeatsTaken naming the taken seats."""
        ids = sorted(set(seat_ids))
        user_id = caller.user
        chosen = self.strategies.get(strategy)
        if len(ids) == 1:
            # One seat (a basket of one): the single-seat claim, with its group commit and single-flight.
            try:
                return [await self._book_seat(ids[0], caller, chosen, "seats")]
            except NeedsCheckout:
                pass  # a seat with rules to check: the transaction below
            except SeatNotFound as exc:
                raise (exc if isinstance(exc, SeatsNotFound) else SeatsNotFound(ids)) from None
            except SeatOccupied as exc:
                raise (exc if isinstance(exc, SeatsTaken) else SeatsTaken(ids)) from None
        with count_conflicts("seats"):
            bookings = await self._checkout.take(ids, user_id, chosen, access, ToBook(chosen.name))
        return [self.owners.issue(caller, b) for b in bookings]

    async def book_best(
        self, best: BestAvailable, caller: Caller, strategy: Strategy | None = None, access: Access | None = None
    ) -> list[Booking]:
        """The server picks the block (or GA tickets) and books it in the same transaction."""
        name = self.strategies.get(strategy).name
        bookings = await self._checkout.take_best(
            best, caller.user, access, ToBook(name), lambda path: record_booking(name, path)
        )
        return [self.owners.issue(caller, b) for b in bookings]

    async def confirm(
        self, token: UUID, caller: Caller, seat_ids: Sequence[int] | None = None, strategy: Strategy | None = None
    ) -> list[Booking]:
        """Turn a live hold into bookings of its owner; a lapsed hold raises HoldExpired and changes nothing."""
        chosen = self.strategies.get(strategy)
        with count_conflicts("confirm"):
            return await self._confirm(token, caller, seat_ids, chosen)

    async def _confirm(
        self, token: UUID, caller: Caller, seat_ids: Sequence[int] | None, chosen: BookingStrategy
    ) -> list[Booking]:
        async with self._db.transaction() as conn:
            hold = await checkout.lock_hold(conn, token)
            owner: str = hold["user_id"]
            if not self.owners.may(caller, owner, secret_ok=True):
                raise HoldNotFound()
            checkout.ensure_active(hold)
            ids = sorted(hold["seat_ids"])
            if seat_ids is not None and sorted(set(seat_ids)) != ids:
                raise HoldSeatsMismatch(ids)
            # No REDIS lease here: the seats are already ours, and a rival's lease on them must not
            # fail a valid hold (leases only spare the database losers' writes).
            await self.policy.enforce_seat_cap(conn, owner, ids, token)
            await chosen.prepare(conn, ids)
            bookings = await ToBook(chosen.name, token).take(conn, ids, owner)
            await checkout.end_hold(conn, token, HoldState.CONFIRMED)
            self.changes.written()
        return [self.owners.issue(caller, b) for b in bookings]

    async def cancel(
        self, booking_id: int, caller: Caller, manage_token: str | None, reason: str | None
    ) -> Cancellation:
        """The owner (or the holder of its manage token) cancels; anyone else is told it does not exist."""
        async with self._db.transaction() as conn:
            row = await checkout.lock_booking(conn, booking_id)
            if row is None or not self.owners.may_booking(
                caller, row["user_id"], booking_id, row["created_at"], manage_token
            ):
                raise BookingNotFound(booking_id)
            cancellation = await checkout.cancel_booking(conn, booking_id, row, reason)
            self.changes.written()
        return cancellation

    async def get(self, booking_id: int, caller: Caller, manage_token: str | None) -> BookingRecord:
        async with self._db.connection() as conn:
            record = await lookups.booking_record(conn, booking_id)
        if record is None or not self.owners.may_booking(
            caller, record.user_id, booking_id, record.created_at, manage_token
        ):
            raise BookingNotFound(booking_id)
        return record

    async def of_user(
        self, user_id: str, limit: int, before: int | None = None, status: str | None = None
    ) -> list[BookingRecord]:
        """One page of a user's bookings, newest first (`before`: the last id of the previous page)."""
        async with self._db.connection() as conn:
            return await lookups.bookings_of(conn, user_id, min(limit, MAX_PAGE), before, status)

    async def inventory(self, event_id: int = DEFAULT_EVENT_ID) -> Inventory:
        # Read the floor before the snapshot starts: everything settled below it is then visible.
        floor = self.changes.floor()
        async with self._db.transaction(isolation="repeatable_read", readonly=True) as conn:
            return await seats.inventory(conn, event_id, floor)
