"""Events and their seat maps: created from a layout (file or admin API) in one transaction, edited,
cancelled; and the sales window each seat carries for the claim (`seatsql.on_sale`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from boxoffice.domain import (
    UNSET,
    Event,
    EventCancellation,
    EventCancelled,
    EventChanges,
    EventExists,
    EventNotFound,
    EventStatus,
    NotOnSale,
    SalesClosed,
    SalesNotOpen,
)
from boxoffice.layouts import EventSpec
from boxoffice.storage.seatsql import RELEASE, outbox_cte

_EVENT_COLUMNS = """
e.id, e.slug, e.name, e.venue, e.starts_at, e.created_at, e.no_orphans, e.orphan_row_ends,
e.status, e.sales_start, e.sales_end, e.cancelled_at, e.cancel_reason,
(SELECT count(*) FROM seats s WHERE s.event_id = e.id AND s.kind = 'SEAT') AS seat_count,
ARRAY(SELECT c.name FROM event_channels c WHERE c.event_id = e.id ORDER BY c.name) AS channels
"""

# The event's effective window as its seats carry it (`seatsql.on_sale`): open-ended as -infinity and
# infinity; a cancelled event's seats are sellable until -infinity. The one definition, used by every
# statement that writes `sellable_from`/`sellable_until`.
_SELLABLE_FROM = "coalesce(e.sales_start, '-infinity')"
_SELLABLE_UNTIL = (
    "CASE WHEN e.status = 'CANCELLED' THEN '-infinity'::timestamptz"
    " ELSE coalesce(e.sales_end, e.starts_at, 'infinity') END"
)

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
        status=EventStatus(row["status"]),
        sales_start=row["sales_start"],
        sales_end=row["sales_end"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
    )


async def create_event(conn: asyncpg.Connection, spec: EventSpec) -> Event:
    """Insert the event and every seat of its map; a duplicate slug raises EventExists.

    Must run inside a transaction (the caller's unit of work), so a failure leaves no half map.
    """
    created = await conn.fetchrow(
        "INSERT INTO events AS e (slug, name, venue, starts_at, no_orphans, orphan_row_ends, sales_start, sales_end)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (slug) DO NOTHING"
        f" RETURNING id, {_SELLABLE_FROM} AS sellable_from, {_SELLABLE_UNTIL} AS sellable_until",
        spec.slug,
        spec.name,
        spec.venue,
        spec.startsAt,
        spec.noOrphans,
        spec.orphanRowEnds,
        spec.salesStart,
        spec.salesEnd,
    )
    if created is None:
        raise EventExists(spec.slug)
    event_id: int = created["id"]
    window = (created["sellable_from"], created["sellable_until"])
    await conn.copy_records_to_table(
        "seats",
        records=[(*r, *window) for r in spec.seat_rows(event_id)],
        columns=[*_SEAT_COLUMNS, "sellable_from", "sellable_until"],
    )
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


# An edit: the named fields change (`$n::boolean` says whether a field is set), the seats follow the
# window when it changed. The event's row is locked first, so edits and cancels of one event queue.
_LOCK_EVENT = f"SELECT {_EVENT_COLUMNS} FROM events e WHERE e.id = $1 FOR UPDATE"

# Every seat of the event, locked in id order (as every multi-seat change locks them), takes the
# event's window; only rows whose window changes are written. A claim in flight on one of them
# either committed before (and counts) or waits and is re-checked against the new window.
_SYNC_SEATS = f"""
WITH t AS (
    SELECT id FROM seats WHERE event_id = $1 ORDER BY id FOR UPDATE
), w AS (
    SELECT {_SELLABLE_FROM} AS sellable_from, {_SELLABLE_UNTIL} AS sellable_until FROM events AS e WHERE e.id = $1
)
UPDATE seats AS s SET sellable_from = w.sellable_from, sellable_until = w.sellable_until
  FROM t, w
 WHERE s.id = t.id AND (s.sellable_from, s.sellable_until) IS DISTINCT FROM (w.sellable_from, w.sellable_until)
"""


async def lock_event(conn: asyncpg.Connection, event_id: int) -> Event:
    """The event, its row locked until the transaction ends; EventNotFound when there is none."""
    row = await conn.fetchrow(_LOCK_EVENT, event_id)
    if row is None:
        raise EventNotFound(event_id)
    return _event(row)


async def update_event(conn: asyncpg.Connection, event: Event, changes: EventChanges) -> None:
    """Write `changes` (name, date, sales window; the orphan rule is `inventory.set_options`) to the locked
    `event` and, when its window moved, to its seats, in the caller's transaction. The caller validated
    the result."""
    fields: dict[str, Any] = {
        "name": changes.name,
        "starts_at": changes.starts_at,
        "sales_start": changes.sales_start,
        "sales_end": changes.sales_end,
    }
    set_ = {k: v for k, v in fields.items() if v is not UNSET}
    if not set_:
        return
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(set_, start=2))
    await conn.execute(f"UPDATE events SET {assignments} WHERE id = $1", event.id, *set_.values())
    if {"starts_at", "sales_start", "sales_end"} & set_.keys():
        await conn.execute(_SYNC_SEATS, event.id)


# Cancelling: lock what a buyer's own change locks before the seats (its holds, then its bookings),
# so a concurrent confirm, release or cancel queues instead of deadlocking; then close the sale on
# every seat (locking them all in id order: no claim commits after this), void what is booked,
# release what is held, and free the seats with their outbox rows.
_LOCK_HOLDS = """
SELECT token FROM holds
 WHERE state = 'ACTIVE' AND token IN (SELECT hold_token FROM seats WHERE event_id = $1 AND status = 'HELD')
 ORDER BY token FOR UPDATE
"""
_LOCK_BOOKINGS = """
SELECT b.id FROM bookings AS b JOIN seats AS s ON s.id = b.seat_id
 WHERE s.event_id = $1 AND b.status = 'CONFIRMED' ORDER BY b.id FOR UPDATE OF b
"""
_VOID_BOOKINGS = """
UPDATE bookings AS b SET status = 'CANCELLED', cancelled_at = clock_timestamp(), cancelled_by = $2,
                         cancel_reason = 'EVENT_CANCELLED'
  FROM seats AS s
 WHERE s.id = b.seat_id AND s.event_id = $1 AND b.status = 'CONFIRMED'
RETURNING b.id
"""
_HELD_TOKENS = "SELECT DISTINCT hold_token FROM seats WHERE event_id = $1 AND status = 'HELD'"
_RELEASE_HOLDS = """
UPDATE holds SET state = 'RELEASED', ended_at = clock_timestamp()
 WHERE token = ANY($1::uuid[]) AND state = 'ACTIVE'
RETURNING token
"""
# The event's booked and held seats, and every other seat of a released hold (a hold is released
# whole), go back to AVAILABLE with their outbox rows, in id order.
_FREE_SEATS = f"""
WITH target AS (
    SELECT id FROM seats
     WHERE (event_id = $1 AND status IN ('BOOKED', 'HELD')) OR (hold_token = ANY($2::uuid[]) AND status = 'HELD')
     ORDER BY id FOR UPDATE
), freed AS (
    UPDATE seats AS s SET {RELEASE} FROM target AS t WHERE s.id = t.id
 RETURNING s.id, s.version
), {outbox_cte("freed", "seq")}
SELECT count(*) AS freed, coalesce(max(seq), 0) AS sequence FROM event
"""


async def cancel_event(conn: asyncpg.Connection, event_id: int, reason: str, by: str) -> EventCancellation:
    """Cancel the event in the caller's transaction. Raises EventNotFound, or EventCancelled when it
    already is."""
    event = await lock_event(conn, event_id)
    if event.status is EventStatus.CANCELLED:
        assert event.cancelled_at is not None
        raise EventCancelled(event_id, event.cancelled_at, event.cancel_reason)
    await conn.fetch(_LOCK_HOLDS, event_id)
    await conn.fetch(_LOCK_BOOKINGS, event_id)
    await conn.execute(
        "UPDATE events SET status = 'CANCELLED', cancelled_at = clock_timestamp(), cancel_reason = $2 WHERE id = $1",
        event_id,
        reason,
    )
    await conn.execute(_SYNC_SEATS, event_id)
    voided = await conn.fetch(_VOID_BOOKINGS, event_id, by)
    tokens = [r["hold_token"] for r in await conn.fetch(_HELD_TOKENS, event_id)]
    released = await conn.fetch(_RELEASE_HOLDS, tokens)
    freed = await conn.fetchrow(_FREE_SEATS, event_id, tokens)
    assert freed is not None
    cancelled = await get_event(conn, event_id)
    assert cancelled is not None
    return EventCancellation(cancelled, len(voided), len(released), freed["freed"], freed["sequence"])


_SALE_STATE = """
SELECT s.id AS seat_id, e.id, e.status, e.cancelled_at, e.cancel_reason,
       coalesce(e.sales_start, e.created_at) AS opens, coalesce(e.sales_end, e.starts_at) AS closes,
       clock_timestamp() AS now
  FROM seats AS s JOIN events AS e ON e.id = s.event_id
 WHERE s.id = ANY($1::int[])
"""


async def sale_refusals(conn: asyncpg.Connection, seat_ids: Sequence[int]) -> dict[int, NotOnSale]:
    """Why the events of `seat_ids` do not sell now, by seat (after a claim refused them for it); a seat
    whose event sells again (its window just moved) is left out. The claim decided; this only words
    the answer."""
    found = ((row["seat_id"], _refusal(row)) for row in await conn.fetch(_SALE_STATE, list(seat_ids)))
    return {seat_id: refusal for seat_id, refusal in found if refusal is not None}


def _refusal(row: asyncpg.Record) -> NotOnSale | None:
    now: datetime = row["now"]
    if row["status"] == EventStatus.CANCELLED:
        return EventCancelled(row["id"], row["cancelled_at"], row["cancel_reason"])
    if now < row["opens"]:
        return SalesNotOpen(row["id"], row["opens"], row["closes"])
    if row["closes"] is not None and now >= row["closes"]:
        return SalesClosed(row["id"], row["opens"], row["closes"])
    return None
