"""The SQL of booking: every claim ends in a write that is correct on its own.

`seats.status = 'AVAILABLE'` in the UPDATE's WHERE clause plus the unique partial index
`bookings_one_active_per_seat` make a double booking impossible whatever the caller did
before (a Redis lease that expired, a paused process, a retry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from boxoffice.domain import (
    DEFAULT_EVENT_ID,
    Area,
    Booking,
    BookingError,
    Inventory,
    NeedsCheckout,
    Seat,
    SeatNotFound,
    SeatOccupied,
    SeatStatus,
    SectionLayout,
    Strategy,
)

SEAT_COLUMNS = (
    "id, seat_number, section, row_label, row_idx, col_idx, status, booked_by, booked_at, version, held_until,"
    " event_id, category, price_cents, kind, accessibility, channel, blocked"
)

# The one definition of "free to claim": a lapsed hold is as good as AVAILABLE, so expiry never
# depends on a background job. Uses clock_timestamp(): now() would be stale after a lock wait.
# A blocked seat is never free, whatever path asks.
AVAILABLE_SQL = "(blocked IS NULL AND (status = 'AVAILABLE' OR (status = 'HELD' AND held_until < clock_timestamp())))"

# Claim, record the booking and append the outbox event in one statement. When nothing was
# claimed the outer SELECT still returns one row whose `found` tells 404 from 409.
_CLAIM = f"""
WITH claimed AS (
    UPDATE seats
       SET status = 'BOOKED', booked_by = $2, booked_at = clock_timestamp(), version = version + 1,
           held_by = NULL, hold_token = NULL, held_until = NULL
     WHERE id = $1 AND plain AND {AVAILABLE_SQL}
 RETURNING {SEAT_COLUMNS}
), booking AS (
    INSERT INTO bookings (seat_id, user_id, strategy, created_at)
    SELECT id, booked_by, $3, booked_at FROM claimed
 RETURNING id
), event AS (
    INSERT INTO seat_events (seat_id, version)
    SELECT id, version FROM claimed
 RETURNING seq
)
SELECT (SELECT status FROM seats WHERE id = $1) AS current_status,
       (SELECT plain FROM seats WHERE id = $1) AS plain,
       (SELECT id FROM booking) AS booking_id,
       (SELECT seq FROM event) AS seq,
       c.*
  FROM (SELECT 1) AS one LEFT JOIN claimed AS c ON TRUE
"""

_LOCK_ROW = f"SELECT status, plain, {AVAILABLE_SQL} AS free FROM seats WHERE id = $1 FOR UPDATE"


def seat_from_row(row: Mapping[str, Any] | asyncpg.Record) -> Seat:
    return Seat(
        id=row["id"],
        seat_number=row["seat_number"],
        section=row["section"],
        row_label=row["row_label"],
        row=row["row_idx"],
        column=row["col_idx"],
        status=SeatStatus(row["status"]),
        booked_by=row["booked_by"],
        booked_at=row["booked_at"],
        version=row["version"],
        held_until=row.get("held_until"),
        event_id=row.get("event_id") or DEFAULT_EVENT_ID,
        category=row.get("category"),
        price_cents=row.get("price_cents"),
        kind=row.get("kind") or "SEAT",
        accessibility=row.get("accessibility"),
        channel=row.get("channel"),
        blocked=row.get("blocked"),
    )


async def claim(conn: asyncpg.Connection, seat_id: int, user_id: str, strategy: Strategy) -> Booking:
    """Claim a seat in one round trip (autocommit or inside the caller's transaction)."""
    row = await conn.fetchrow(_CLAIM, seat_id, user_id, strategy.value)
    assert row is not None
    if row["booking_id"] is None:
        if row["current_status"] is None:
            raise SeatNotFound(seat_id)
        if not row["plain"]:
            raise NeedsCheckout(seat_id)
        if row["current_status"] == SeatStatus.HELD:
            raise SeatOccupied(seat_id, "is held by another buyer")
        raise SeatOccupied(seat_id)
    return Booking(booking_id=row["booking_id"], seat=seat_from_row(row), strategy=strategy, sequence=row["seq"])


async def claim_with_row_lock(conn: asyncpg.Connection, seat_id: int, user_id: str, strategy: Strategy) -> Booking:
    """The original design: lock the row, check it, then write; the caller's transaction spans both."""
    row = await conn.fetchrow(_LOCK_ROW, seat_id)
    if row is None:
        raise SeatNotFound(seat_id)
    if not row["plain"]:
        raise NeedsCheckout(seat_id)
    if not row["free"]:
        raise SeatOccupied(seat_id, "is held by another buyer" if row["status"] == "HELD" else "is already booked")
    return await claim(conn, seat_id, user_id, strategy)


# Group commit: many single-seat claims (distinct seats) in one statement and one commit.
# Rows are locked in id order and a row another transaction holds is skipped, never waited for,
# so a batch neither stalls behind one slow lock nor deadlocks with another process's batch; a
# skipped seat comes back as `free` but unclaimed and is claimed alone by the caller. `now`
# reads the statement's snapshot, taken before any change of this statement.
_CLAIM_BATCH = f"""
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[]) AS i(seat_id, user_id, strategy)
), locked AS (
    SELECT id FROM seats
     WHERE id = ANY($1::int[]) AND plain AND {AVAILABLE_SQL}
     ORDER BY id
       FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE seats AS s
       SET status = 'BOOKED', booked_by = i.user_id, booked_at = clock_timestamp(), version = s.version + 1,
           held_by = NULL, hold_token = NULL, held_until = NULL
      FROM input AS i
     WHERE s.id = i.seat_id AND s.id IN (SELECT id FROM locked) AND {AVAILABLE_SQL}
 RETURNING {", ".join(f"s.{c.strip()}" for c in SEAT_COLUMNS.split(","))}, i.strategy
), booking AS (
    INSERT INTO bookings (seat_id, user_id, strategy, created_at)
    SELECT id, booked_by, strategy, booked_at FROM claimed ORDER BY id
 RETURNING id, seat_id
), event AS (
    INSERT INTO seat_events (seat_id, version)
    SELECT id, version FROM claimed ORDER BY id
 RETURNING seq, seat_id
)
SELECT now.status AS current_status, now.free, now.plain, b.id AS booking_id, e.seq, c.*
  FROM input AS i
  LEFT JOIN (SELECT id, status, plain, {AVAILABLE_SQL} AS free FROM seats WHERE id = ANY($1::int[])) AS now
         ON now.id = i.seat_id
  LEFT JOIN claimed AS c ON c.id = i.seat_id
  LEFT JOIN booking AS b ON b.seat_id = i.seat_id
  LEFT JOIN event AS e ON e.seat_id = i.seat_id
 ORDER BY i.seat_id
"""

ClaimOutcome = Booking | BookingError | None
"""A claim's result in a batch: the booking, the refusal, or None when the seat was locked by
another transaction (claim it alone to learn the outcome)."""


class BatchRefused(Exception):
    """PostgreSQL refused the whole batch statement (a bad row, a timeout): nothing was committed,
    so every claim in it may safely be retried on its own."""


def _refusal(exc: Exception) -> bool:
    """An error answer to the statement itself, after which nothing of it can have been committed.

    Connection failures (class 08) and shutdown (57P0x) can arrive after the commit: not refusals.
    """
    if not isinstance(exc, asyncpg.PostgresError):
        return False
    state = exc.sqlstate or ""
    return not (state.startswith("08") or state.startswith("57P"))


# The DB strategy's explicit row locks for a batch, in id order; a row another transaction holds is
# skipped (its claim is then made alone, waiting there), so one slow lock never stalls a batch.
_LOCK_BATCH = "SELECT id FROM seats WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE SKIP LOCKED"


async def claim_batch(
    conn: asyncpg.Connection,
    seat_ids: Sequence[int],
    user_ids: Sequence[str],
    strategies: Sequence[Strategy],
    *,
    lock_first: bool = False,
) -> list[ClaimOutcome]:
    """Claim distinct seats, sorted by id, for their users in one autocommit statement; one outcome each.

    `lock_first` is the DB strategy's pessimistic pattern for the whole batch: a transaction that
    locks the rows in id order, then makes the same conditional write.
    Raises BatchRefused when PostgreSQL refused the batch; other failures (the connection lost
    after sending) propagate, since the batch may have committed.
    """
    args = (seat_ids, user_ids, [s.value for s in strategies])
    try:
        if lock_first:
            async with conn.transaction():
                await conn.execute(_LOCK_BATCH, seat_ids)
                rows = await conn.fetch(_CLAIM_BATCH, *args)
        else:
            rows = await conn.fetch(_CLAIM_BATCH, *args)
    except Exception as exc:
        if _refusal(exc):
            raise BatchRefused(str(exc)) from exc
        raise
    outcomes: list[ClaimOutcome] = []
    for seat_id, strategy, row in zip(seat_ids, strategies, rows, strict=True):
        if row["booking_id"] is not None:
            outcomes.append(
                Booking(booking_id=row["booking_id"], seat=seat_from_row(row), strategy=strategy, sequence=row["seq"])
            )
        elif row["current_status"] is None:
            outcomes.append(SeatNotFound(seat_id))
        elif not row["plain"]:
            outcomes.append(NeedsCheckout(seat_id))
        elif row["free"]:
            outcomes.append(None)
        elif row["current_status"] == SeatStatus.HELD:
            outcomes.append(SeatOccupied(seat_id, "is held by another buyer"))
        else:
            outcomes.append(SeatOccupied(seat_id))
    return outcomes


# The end of the gap-free run of visible sequence values after $1: values in flight (drawn but
# not committed) are not in the snapshot, so the watermark must stop before the first of them.
_CONTIGUOUS = """
SELECT COALESCE(max(seq), $1) FROM (
    SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM seat_events WHERE seq > $1
) AS after WHERE seq = $1 + n
"""


async def inventory(conn: asyncpg.Connection, event_id: int = DEFAULT_EVENT_ID, floor: int | None = None) -> Inventory:
    """A snapshot of one event's seats and a sequence it fully includes; run it in a repeatable-read
    transaction so both reads see one moment.

    `floor` is a position below which every sequence value is settled (the real-time relay's
    cursor). With it, the returned sequence is a safe resume point: every change up to it is in
    the snapshot and every later one will be delivered.
    """
    rows = await conn.fetch(
        f"SELECT {SEAT_COLUMNS} FROM seats WHERE event_id = $1 AND kind = 'SEAT'"
        " ORDER BY section_order, row_idx, col_idx",
        event_id,
    )
    if floor is None:
        sequence = await conn.fetchval("SELECT COALESCE(max(seq), 0) FROM seat_events")
    else:
        sequence = await conn.fetchval(_CONTIGUOUS, floor)
    seats = [seat_from_row(r) for r in rows]
    areas = [
        Area(r["name"], r["category"], r["price_cents"], r["capacity"], r["available"])
        for r in await conn.fetch(_AREAS, event_id)
    ]
    sections = _layout(seats)
    if areas:
        order = {r["name"]: r["section_order"] for r in await conn.fetch(_SECTION_ORDER, event_id)}
        sections += [SectionLayout(a.name, [], 0, "GA", a.capacity) for a in areas]
        sections.sort(key=lambda s: order.get(s.name, 0))
    return Inventory(seats=seats, sections=sections, sequence=sequence, areas=areas)


# A GA area's public availability: free tickets that are neither blocked nor kept for a channel.
GA_AVAILABLE_SQL = """
SELECT count(*) FROM seats t
 WHERE t.event_id = a.event_id AND t.section = a.name AND t.kind = 'GA' AND t.channel IS NULL
   AND t.blocked IS NULL AND (t.status = 'AVAILABLE' OR (t.status = 'HELD' AND t.held_until < clock_timestamp()))
"""
_AREAS = f"""
SELECT a.name, a.category, a.price_cents, a.capacity, ({GA_AVAILABLE_SQL}) AS available
  FROM event_sections a WHERE a.event_id = $1 AND a.kind = 'GA' ORDER BY a.section_order
"""
_SECTION_ORDER = "SELECT name, section_order FROM event_sections WHERE event_id = $1"


# Has the event changed since a snapshot? Every seat change appends its outbox row in the same
# statement, and every change committed after a snapshot's read has a sequence above its watermark.
# A TRUNCATE of the outbox (a reset by tests, benchmarks, seeding) gives it a new file node: the
# watermark then belongs to another history, and the snapshot counts as changed.
_CHANGED_SINCE = """
SELECT pg_relation_filenode('seat_events'::regclass) IS DISTINCT FROM $3 OR EXISTS (
    SELECT 1 FROM seat_events e JOIN seats s ON s.id = e.seat_id WHERE e.seq > $2 AND s.event_id = $1
)
"""


async def outbox_epoch(conn: asyncpg.Connection) -> int:
    """Identifies the outbox's history: changes when `seat_events` is truncated. Read it before a snapshot."""
    epoch: int = await conn.fetchval("SELECT pg_relation_filenode('seat_events'::regclass)")
    return epoch


async def changed_since(conn: asyncpg.Connection, event_id: int, sequence: int, epoch: int) -> bool:
    """Whether the event may have changed since a snapshot with watermark `sequence`, read after
    `outbox_epoch` gave `epoch`: a change above the watermark is visible, or the outbox was reset."""
    changed: bool = await conn.fetchval(_CHANGED_SINCE, event_id, sequence, epoch)
    return changed


def _layout(seats: list[Seat]) -> list[SectionLayout]:
    sections: dict[str, tuple[dict[int, str], int]] = {}
    for seat in seats:
        rows, columns = sections.get(seat.section, ({}, 0))
        rows[seat.row] = seat.row_label
        sections[seat.section] = (rows, max(columns, seat.column))
    return [
        SectionLayout(name=name, rows=[rows[i] for i in sorted(rows)], columns=columns)
        for name, (rows, columns) in sections.items()
    ]
