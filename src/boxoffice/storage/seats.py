"""The SQL of booking: every claim ends in a write that is correct on its own.

`seats.status = 'AVAILABLE'` in the UPDATE's WHERE clause plus the unique partial index
`bookings_one_active_per_seat` make a double booking impossible whatever the caller did
before (a Redis lease that expired, a paused process, a retry).
"""

from __future__ import annotations

import asyncpg

from boxoffice.booking.domain import (
    Booking,
    Inventory,
    Seat,
    SeatNotFound,
    SeatOccupied,
    SeatStatus,
    SectionLayout,
    Strategy,
)
from boxoffice.storage.db import Conn

SEAT_COLUMNS = "id, seat_number, section, row_label, row_idx, col_idx, status, booked_by, booked_at, version"

# Claim, record the booking and append the outbox event in one statement. When nothing was
# claimed the outer SELECT still returns one row whose `found` tells 404 from 409.
_CLAIM = f"""
WITH claimed AS (
    UPDATE seats
       SET status = 'BOOKED', booked_by = $2, booked_at = clock_timestamp(), version = version + 1
     WHERE id = $1 AND status = 'AVAILABLE'
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
SELECT EXISTS (SELECT 1 FROM seats WHERE id = $1) AS found,
       (SELECT id FROM booking) AS booking_id,
       (SELECT seq FROM event) AS seq,
       c.*
  FROM (SELECT 1) AS one LEFT JOIN claimed AS c ON TRUE
"""

_LOCK_ROW = "SELECT status FROM seats WHERE id = $1 FOR UPDATE"


def seat_from_row(row: asyncpg.Record) -> Seat:
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
    )


async def claim(conn: Conn, seat_id: int, user_id: str, strategy: Strategy) -> Booking:
    """Claim a seat in one round trip (autocommit or inside the caller's transaction)."""
    row = await conn.fetchrow(_CLAIM, seat_id, user_id, strategy.value)
    assert row is not None
    if row["booking_id"] is None:
        if not row["found"]:
            raise SeatNotFound(seat_id)
        raise SeatOccupied(seat_id)
    return Booking(booking_id=row["booking_id"], seat=seat_from_row(row), strategy=strategy, sequence=row["seq"])


async def claim_with_row_lock(conn: Conn, seat_id: int, user_id: str, strategy: Strategy) -> Booking:
    """The original design: lock the row, check it, then write; all in one transaction."""
    async with conn.transaction():
        status = await conn.fetchval(_LOCK_ROW, seat_id)
        if status is None:
            raise SeatNotFound(seat_id)
        if status != SeatStatus.AVAILABLE:
            raise SeatOccupied(seat_id)
        return await claim(conn, seat_id, user_id, strategy)


async def inventory(conn: Conn) -> Inventory:
    """A consistent snapshot of every seat and the highest change sequence it includes."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(f"SELECT {SEAT_COLUMNS} FROM seats ORDER BY section_order, row_idx, col_idx")
        sequence = await conn.fetchval("SELECT COALESCE(max(seq), 0) FROM seat_events")
    seats = [seat_from_row(r) for r in rows]
    return Inventory(seats=seats, sections=_layout(seats), sequence=sequence)


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
