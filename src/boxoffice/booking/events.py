"""Events and their seat maps: listing, reading, creating one from a layout, editing and cancelling it."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boxoffice.domain import (
    UNSET,
    Event,
    EventCancellation,
    EventCancelled,
    EventChanges,
    EventNotFound,
    EventStatus,
    InvalidEventChange,
    Inventory,
    NotEnoughFreeSeats,
    Seat,
    SeatsNotFound,
    SeatsTaken,
    UnknownArea,
)
from boxoffice.layouts import EventSpec
from boxoffice.storage import inventory, seats, venues
from boxoffice.storage.db import Database


@dataclass(frozen=True, slots=True)
class Allocation:
    """Target pool of an allocation: `blocked` (a reason) or `channel`, neither = public sale."""

    blocked: str | None = None
    channel: str | None = None
    from_blocked: str | None = None
    from_channel: str | None = None


class EventService:
    def __init__(self, db: Database, on_change: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_change = on_change
        """`SeatChanges.written`: the real-time doorbell rings once the allocation commits."""

    def _written(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def list(self) -> list[Event]:
        async with self._db.connection() as conn:
            return await venues.list_events(conn)

    async def get(self, event_id: int) -> Event:
        async with self._db.connection() as conn:
            event = await venues.get_event(conn, event_id)
        if event is None:
            raise EventNotFound(event_id)
        return event

    async def create(self, spec: EventSpec) -> Event:
        """The event and its whole seat map, or nothing (a duplicate slug raises EventExists)."""
        async with self._db.transaction() as conn:
            return await venues.create_event(conn, spec)

    async def allocate_seats(self, event_id: int, seat_ids: Sequence[int], target: Allocation) -> builtins.list[int]:
        """Block, unblock or move free seats to a channel: all of them or none."""
        async with self._db.transaction() as conn:
            _check_channel(await venues.get_event(conn, event_id), event_id, target.channel)
            changed, busy, missing = await inventory.allocate_seats(
                conn, event_id, seat_ids, target.blocked, target.channel
            )
            if missing:
                raise SeatsNotFound(missing)
            if busy:
                raise SeatsTaken(busy, "are booked or held; only free seats change allocation")
            self._written()
        return changed

    async def allocate_area(self, event_id: int, area: str, count: int, target: Allocation) -> builtins.list[int]:
        """Move `count` free tickets of a GA area between pools (public, a channel, blocked): all or none."""
        async with self._db.transaction() as conn:
            _check_channel(await venues.get_event(conn, event_id), event_id, target.channel)
            if area not in await inventory.area_names(conn, event_id):
                raise UnknownArea(area)
            moved = await inventory.allocate_ga(
                conn, event_id, area, count, target.blocked, target.channel, target.from_blocked, target.from_channel
            )
            if len(moved) < count:
                raise NotEnoughFreeSeats(area, count, len(moved))
            self._written()
        return moved

    async def update(self, event_id: int, changes: EventChanges) -> Event:
        """Rename, reschedule, move the sales window, set the orphan rule: all of it or nothing. A
        cancelled event is final (EventCancelled). A window change reaches every seat of the event
        in this transaction, so a claim either committed before it or is judged by the new window."""
        async with self._db.transaction() as conn:
            event = await venues.lock_event(conn, event_id)
            if event.status is EventStatus.CANCELLED:
                assert event.cancelled_at is not None
                raise EventCancelled(event_id, event.cancelled_at, event.cancel_reason)
            _check_window(event, changes)
            await venues.update_event(conn, event, changes)
            if changes.no_orphans is not UNSET or changes.orphan_row_ends is not UNSET:
                await inventory.set_options(
                    conn,
                    event_id,
                    event.no_orphans if changes.no_orphans is UNSET else changes.no_orphans,
                    event.orphan_row_ends if changes.orphan_row_ends is UNSET else changes.orphan_row_ends,
                )
            updated = await venues.get_event(conn, event_id)
        assert updated is not None
        return updated

    async def cancel(self, event_id: int, reason: str, by: str) -> EventCancellation:
        """In one transaction: the event CANCELLED (nothing sells any more: every claim checks it),
        every booking voided (CANCELLED, reason `EVENT_CANCELLED`; there are no payments to refund),
        every hold released, and each freed seat's outbox row written, so live maps see it."""
        async with self._db.transaction() as conn:
            cancellation = await venues.cancel_event(conn, event_id, reason, by)
            if cancellation.seats_freed:
                self._written()
        return cancellation

    async def admin_view(self, event_id: int) -> tuple[Event, builtins.list[Seat], Inventory]:
        async with self._db.transaction(isolation="repeatable_read", readonly=True) as conn:
            event = await venues.get_event(conn, event_id)
            if event is None:
                raise EventNotFound(event_id)
            return event, await inventory.all_seats(conn, event_id), await seats.inventory(conn, event_id)


def _check_window(event: Event, changes: EventChanges) -> None:
    """An explicit sales window must open before it closes (by default at the event's date). The
    default window is never refused: an event dated before its creation simply does not sell."""
    starts_at = event.starts_at if changes.starts_at is UNSET else changes.starts_at
    sales_start = event.sales_start if changes.sales_start is UNSET else changes.sales_start
    sales_end = event.sales_end if changes.sales_end is UNSET else changes.sales_end
    if sales_start is None and sales_end is None:
        return
    opens = sales_start or event.created_at
    closes = sales_end or starts_at
    if closes is not None and opens >= closes:
        raise InvalidEventChange(
            f"salesStart ({opens.isoformat()}) must be before salesEnd"
            f" ({closes.isoformat()}{'' if sales_end else ', the event date'})"
        )


def _check_channel(event: Event | None, event_id: int, channel: str | None) -> None:
    if event is None:
        raise EventNotFound(event_id)
    if channel is not None and channel not in event.channels:
        raise UnknownArea(channel, "channel")
