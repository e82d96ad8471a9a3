"""Events and their seat maps, created from a layout (file or admin API) in one transaction."""

from __future__ import annotations

import asyncpg

from boxoffice.domain import Event, EventExists
from boxoffice.layouts import EventSpec

_EVENT_COLUMNS = """
e.id, e.slug, e.name, e.venue, e.starts_at, e.created_at,
(SELECT count(*) FROM seats s WHERE s.event_id = e.id) AS seat_count
"""

_SEAT_COLUMNS = [
    "event_id", "seat_number", "section", "section_order", "row_label", "row_idx", "col_idx", "category",
    "price_cents",
]  # fmt: skip


def _event(row: asyncpg.Record) -> Event:
    return Event(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        venue=row["venue"],
        starts_at=row["starts_at"],
        created_at=row["created_at"],
        seat_count=row["seat_count"],
    )


async def create_event(conn: asyncpg.Connection, spec: EventSpec) -> Event:
    """Insert the event and every seat of its map; a duplicate slug raises EventExists.

    Must run inside a transaction (the caller's unit of work), so a failure leaves no half map.
    """
    event_id = await conn.fetchval(
        "INSERT INTO events (slug, name, venue, starts_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (slug) DO NOTHING RETURNING id",
        spec.slug,
        spec.name,
        spec.venue,
        spec.startsAt,
    )
    if event_id is None:
        raise EventExists(spec.slug)
    await conn.copy_records_to_table("seats", records=spec.seat_rows(event_id), columns=_SEAT_COLUMNS)
    event = await get_event(conn, event_id)
    assert event is not None
    return event


async def get_event(conn: asyncpg.Connection, event_id: int) -> Event | None:
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM events e WHERE e.id = $1", event_id)
    return _event(row) if row else None


async def list_events(conn: asyncpg.Connection, limit: int = 100) -> list[Event]:
    rows = await conn.fetch(f"SELECT {_EVENT_COLUMNS} FROM events e ORDER BY e.id LIMIT $1", limit)
    return [_event(r) for r in rows]
