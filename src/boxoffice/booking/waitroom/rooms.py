"""One room as it was read from the store, and the room's answer when the store fails: shared by
the operator's part (`admin.py`) and a serving process's cache (`cache.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from boxoffice.domain import EventNotFound, WaitingRoomConfig, WaitingRoomStats, WaitingRoomUnavailable
from boxoffice.storage import waitroom as store


def unavailable(exc: BaseException) -> WaitingRoomUnavailable:
    return WaitingRoomUnavailable(f"The waiting room cannot reach its store ({type(exc).__name__}); nobody is let in")


class Room:
    """One room as this process last read it."""

    __slots__ = ("active", "admitted_total", "config", "frontier", "rate", "revoked_before", "waiting")

    def __init__(self, row: asyncpg.Record) -> None:
        self.config: WaitingRoomConfig = store.config_of(row)
        self.rate: float = float(row["rate_per_minute"])
        self.waiting: int = int(row["waiting"])
        self.active: int = int(row["active"])
        self.admitted_total: int = int(row["admitted_total"])
        self.frontier: int = int(row["frontier"])
        """The highest rank admitted so far: a visitor ranked above it has not been admitted yet."""
        revoked: datetime | None = row["revoked_before"]
        self.revoked_before: float | None = revoked.timestamp() if revoked else None

    def stats(self) -> WaitingRoomStats:
        revoked = datetime.fromtimestamp(self.revoked_before, UTC) if self.revoked_before else None
        return WaitingRoomStats(self.config, self.waiting, self.active, self.admitted_total, self.rate, revoked)

    @property
    def touch_after_s(self) -> float:
        """A waiting visitor's presence is written to the store at most this often."""
        return min(self.config.hold_s / 4, 30.0)

    @property
    def prestart(self) -> bool:
        """The sale has not started: a visitor joining now takes part in the draw."""
        return self.config.starts_at > datetime.now(UTC)


async def gated_room(conn: asyncpg.Connection, event_id: int) -> Room | None:
    """The room as stored now when its event is gated, None when not; EventNotFound for no such event."""
    row = await store.room(conn, event_id)
    if row is None or not row["enabled"]:
        if not await store.event_exists(conn, event_id):
            raise EventNotFound(event_id)
        return None
    return Room(row)
