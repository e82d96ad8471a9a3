"""Events and their seat maps: listing, reading, and creating one from a layout."""

from __future__ import annotations

from boxoffice.domain import Event, EventNotFound
from boxoffice.layouts import EventSpec
from boxoffice.storage import venues
from boxoffice.storage.db import Database


class EventService:
    def __init__(self, db: Database) -> None:
        self._db = db

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
