"""The operator's part: configure a room, read it, revoke admissions.

It needs only the database (no tokens, no cache, no background step), so the CLI builds this part
alone; a serving process passes `changed` to re-read its cache after each change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from boxoffice.booking.waitroom.rooms import Room
from boxoffice.domain import EventNotFound, WaitingRoomConfig, WaitingRoomStats
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database


class RoomAdmin:
    def __init__(self, db: Database, changed: Callable[[], Awaitable[None]] | None = None) -> None:
        self._db = db
        self._changed = changed

    async def configure(self, config: WaitingRoomConfig) -> WaitingRoomStats:
        async with self._db.transaction() as conn:
            if not await store.event_exists(conn, config.event_id):
                raise EventNotFound(config.event_id)
            row = await store.configure(conn, config)
        if self._changed is not None:
            await self._changed()
        return Room(row).stats()

    async def stats(self, event_id: int) -> WaitingRoomStats | None:
        """The room as stored now (None: never configured); EventNotFound for an unknown event."""
        async with self._db.connection() as conn:
            row = await store.room(conn, event_id)
            if row is None and not await store.event_exists(conn, event_id):
                raise EventNotFound(event_id)
        return Room(row).stats() if row is not None else None

    async def revoke(self, event_id: int, user_id: str | None) -> int:
        """Revoke one visitor's place or admission, or every admission so far: how many."""
        async with self._db.transaction() as conn:
            if await store.room(conn, event_id) is None:
                if not await store.event_exists(conn, event_id):
                    raise EventNotFound(event_id)
                return 0
            count = (
                await store.revoke_user(conn, event_id, user_id)
                if user_id is not None
                else await store.revoke_all(conn, event_id)
            )
        if self._changed is not None:
            await self._changed()
        return count
