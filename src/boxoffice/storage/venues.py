"""Events and their seat maps, created from a layout (file or admin API) in one transaction."""

from __future__ import annotations

import hashlib

import asyncpg

from boxoffice.domain import Event, EventExists
from boxoffice.layouts import EventSpec

_EVENT_COLUMNS = """
e.id, e.slug, e.name, e.venue, e.starts_at, e.created_at, e.no_orphans, e.orphan_row_ends,
(SELECT count(*) FROM seats s WHERE s.event_id = e.id AND s.kind = 'SEAT') AS seat_count,
ARRAY(SELECT c.name FROM event_channels c WHERE c.event_id = e.id ORDER BY c.name) AS channels
"""

_SEAT_COLUMNS = [
    "event_id", "seat_number", "section", "section_order", "row_label", "row_idx", "col_idx", "category",
    "price_cents", "kind", "accessibility", "channel", "blocked", "rank", "plain",
]  # fmt: skip
_SECTION_COLUMNS = ["event_id", "name", "section_order", "kind", "capacity", "category", "price_cents"]


def channel_key_hash(key: str) -> bytes:
    """Only a hash of a channel key is stored; a presented key is hashed the same way to find its channel."""
    return hashlib.sha256(key.encode()).digest()


def _event(row: asyncpg.Record) -> Event:
    return Event(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        venue=row["venue"],
        starts_at=row["starts_at"],
        created_at=row["created_at"],
        seat_count=row["seat_count"],
        no_orphans=row["no_orphans"],
        orphan_row_ends=row["orphan_row_ends"],
        channels=tuple(row["channels"]),
    )


async def create_event(conn: asyncpg.Connection, spec: EventSpec) -> Event:
    """Insert the event and every seat of its map; a duplicate slug raises EventExists.

    Must run inside a transaction (the caller's unit of work), so a failure leaves no half map.
    """
    event_id = await conn.fetchval(
        "INSERT INTO events (slug, name, venue, starts_at, no_orphans, orphan_row_ends)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slug) DO NOTHING RETURNING id",
        spec.slug,
        spec.name,
        spec.venue,
        spec.startsAt,
        spec.noOrphans,
        spec.orphanRowEnds,
    )
    if event_id is None:
        raise EventExists(spec.slug)
    await conn.copy_records_to_table("seats", records=spec.seat_rows(event_id), columns=_SEAT_COLUMNS)
    await conn.copy_records_to_table("event_sections", records=spec.sections_rows(event_id), columns=_SECTION_COLUMNS)
    await conn.executemany(
        "INSERT INTO event_channels (event_id, name, key_hash) VALUES ($1, $2, $3)",
        [(event_id, name, channel_key_hash(c.key)) for name, c in spec.channels.items()],
    )
    event = await get_event(conn, event_id)
    assert event is not None
    return event


async def get_event(conn: asyncpg.Connection, event_id: int) -> Event | None:
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM events e WHERE e.id = $1", event_id)
    return _event(row) if row else None


async def list_events(conn: asyncpg.Connection, limit: int = 100) -> list[Event]:
    rows = await conn.fetch(f"SELECT {_EVENT_COLUMNS} FROM events e ORDER BY e.id LIMIT $1", limit)
    return [_event(r) for r in rows]
