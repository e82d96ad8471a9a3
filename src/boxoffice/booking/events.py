"""Events and their seat maps: listing, reading, and creating one from a layout."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boxoffice.domain import (
    Event,
    EventNotFound,
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

    async def set_options(self, event_id: int, no_orphans: bool | None, orphan_row_ends: bool | None) -> Event:
        async with self._db.transaction() as conn:
            event = await venues.get_event(conn, event_id)
            if event is None:
                raise EventNotFound(event_id)
            await inventory.set_options(
                conn,
                event_id,
                event.no_orphans if no_orphans is None else no_orphans,
                event.orphan_row_ends if orphan_row_ends is None else orphan_row_ends,
            )
            updated = await venues.get_event(conn, event_id)
        assert updated is not None
        return updated

    async def admin_view(self, event_id: int) -> tuple[Event, builtins.list[Seat], Inventory]:
        async with self._db.transaction(isolation="repeatable_read", readonly=True) as conn:
            event = await venues.get_event(conn, event_id)
            if event is None:
                raise EventNotFound(event_id)
            return event, await inventory.all_seats(conn, event_id), await seats.inventory(conn, event_id)


def _check_channel(event: Event | None, event_id: int, channel: str | None) -> None:
    if event is None:
        raise EventNotFound(event_id)
    if channel is not None and channel not in event.channels:
        raise UnknownArea(channel, "channel")
