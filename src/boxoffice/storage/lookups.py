"""Reading bookings and holds: one by id or token, or a user's own (`/api/v1/me/*`).

Only services call these, after or together with the check of who may see the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from boxoffice.domain import BookingRecord, Hold, HoldState
from boxoffice.storage.seats import seat_from_row
from boxoffice.storage.seatsql import SEAT_COLUMNS

_RECORD = """
SELECT id, seat_id, user_id, strategy, status, created_at, hold_token, cancelled_at, cancelled_by, cancel_reason
  FROM bookings
"""


def _record(row: asyncpg.Record) -> BookingRecord:
    return BookingRecord(
        booking_id=row["id"],
        seat_id=row["seat_id"],
        user_id=row["user_id"],
        strategy=row["strategy"],
        status=row["status"],
        created_at=row["created_at"],
        hold_token=row["hold_token"],
        cancelled_at=row["cancelled_at"],
        cancelled_by=row["cancelled_by"],
        cancel_reason=row["cancel_reason"],
    )


async def booking_record(conn: asyncpg.Connection, booking_id: int) -> BookingRecord | None:
    row = await conn.fetchrow(_RECORD + " WHERE id = $1", booking_id)
    return None if row is None else _record(row)


async def bookings_of(
    conn: asyncpg.Connection, user_id: str, limit: int, before: int | None, status: str | None
) -> list[BookingRecord]:
    """A user's bookings, newest first; `before` is the last id of the previous page."""
    rows = await conn.fetch(
        _RECORD
        + """
         WHERE user_id = $1 AND id < coalesce($3, 9223372036854775807) AND ($4::text IS NULL OR status = $4)
         ORDER BY id DESC
         LIMIT $2
        """,
        user_id,
        limit,
        before,
        status,
    )
    return [_record(r) for r in rows]


_HOLD = """
SELECT token, user_id, seat_ids, expires_at,
       CASE WHEN state = 'ACTIVE' AND expires_at < clock_timestamp() THEN 'EXPIRED' ELSE state END AS state
  FROM holds
"""


async def _with_seats(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[Hold]:
    """Holds with their seats as they are now, in one query for all of them."""
    ids = sorted({i for r in rows for i in r["seat_ids"]})
    seats = {
        s["id"]: seat_from_row(s)
        for s in await conn.fetch(f"SELECT {SEAT_COLUMNS} FROM seats WHERE id = ANY($1::int[]) ORDER BY id", ids)
    }
    return [
        Hold(
            token=r["token"],
            user_id=r["user_id"],
            seats=[seats[i] for i in sorted(r["seat_ids"]) if i in seats],
            state=HoldState(r["state"]),
            expires_at=r["expires_at"],
            sequence=0,
        )
        for r in rows
    ]


async def get_hold(conn: asyncpg.Connection, token: UUID) -> Hold | None:
    row = await conn.fetchrow(_HOLD + " WHERE token = $1", token)
    return None if row is None else (await _with_seats(conn, [row]))[0]


async def active_holds_of(conn: asyncpg.Connection, user_id: str, limit: int) -> list[Hold]:
    """A user's holds that still keep seats, soonest to expire first."""
    rows = await conn.fetch(
        _HOLD
        + """
         WHERE user_id = $1 AND state = 'ACTIVE' AND expires_at >= clock_timestamp()
         ORDER BY expires_at, token
         LIMIT $2
        """,
        user_id,
        limit,
    )
    return await _with_seats(conn, rows)
