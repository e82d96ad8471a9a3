"""The SQL of checkout: multi-seat claims, holds, cancellation, the hold sweeper.

Every multi-seat statement locks its rows in id order (`ORDER BY id FOR UPDATE`) before
changing any, so overlapping requests queue instead of deadlocking, and changes all of them
or none (a guard row decides). Callers run these inside a transaction and re-check the
all-or-nothing count in Python, so a partial write can never commit. Booking and holding are one
statement with two final states (`_take_all`), built from `storage.seatsql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from boxoffice.domain import (
    Booking,
    BookingNotActive,
    Cancellation,
    Hold,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
    HoldState,
    SeatLimitExceeded,
    SeatsNotFound,
    SeatsTaken,
    SeatStatus,
    Strategy,
)
from boxoffice.storage.seats import HOLDING_SQL, not_on_sale, seat_from_row, user_lock_key
from boxoffice.storage.seatsql import (
    AVAILABLE,
    ON_SALE,
    RELEASE,
    SEAT_COLUMNS,
    Take,
    claim_cte,
    columns,
    lapsed,
    live_hold,
    outbox,
    outbox_cte,
)

# $1 sorted seat ids; $4 hold token: NULL claims free seats, a token claims only the seats that
# token holds and that have not lapsed.
_TARGET = f"""
target AS (
    SELECT id,
           CASE WHEN $4::uuid IS NULL THEN {AVAILABLE}
                ELSE {live_hold(token="$4::uuid")}
           END AS free,
           {ON_SALE} AS on_sale
      FROM seats
     WHERE id = ANY($1::int[])
     ORDER BY id
       FOR UPDATE
), verdict AS (
    SELECT count(*) = cardinality($1::int[]) AND coalesce(bool_and(free AND on_sale), FALSE) AS ok FROM target
)"""


def _take_all(take: Take) -> str:
    """All of $1 to `take`'s state or none (the guard `verdict`), one row per target seat."""
    booked = take.status is SeatStatus.BOOKED
    booking, join = ("b.id AS booking_id, ", " LEFT JOIN booking AS b ON b.seat_id = t.id") if booked else ("", "")
    return f"""
WITH {_TARGET}, {claim_cte(take, source="target AS t, verdict AS v", where="s.id = t.id AND v.ok", free="t.free")}
SELECT t.id AS target_id, t.free, t.on_sale, {booking}e.seq, c.*
  FROM target AS t
  LEFT JOIN {take.cte} AS c ON c.id = t.id{join}
  LEFT JOIN event AS e ON e.seat_id = t.id
 ORDER BY t.id
"""


# Booking and holding: one statement, two final states. $2 user; BOOKED: $3 strategy, $4 the hold
# being confirmed (NULL: none); HELD: $3 the new token, $4 NULL, $5 seconds.
_CLAIM_MANY = _take_all(Take(SeatStatus.BOOKED, user="$2", strategy="$3", confirming="$4::uuid"))
_HOLD = _take_all(Take(SeatStatus.HELD, user="$2", token="$3::uuid", ttl="$5"))

_LOCK_IN_ORDER = "SELECT id FROM seats WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE"


async def _outcome(
    conn: asyncpg.Connection, rows: Sequence[asyncpg.Record], seat_ids: Sequence[int], hold_token: UUID | None
) -> None:
    """Raise the precise failure when the guard refused (nothing was written then)."""
    found = {r["target_id"] for r in rows}
    missing = [i for i in seat_ids if i not in found]
    if missing:
        raise SeatsNotFound(missing)
    if closed := [r["target_id"] for r in rows if not r["on_sale"]]:
        raise await not_on_sale(conn, closed)
    taken = [r["target_id"] for r in rows if not r["free"]]
    if taken:
        raise HoldExpired(taken) if hold_token else SeatsTaken(taken)
    if any(r["id"] is None for r in rows):
        # The guard passed but a row was not written: never commit a partial claim.
        raise SeatsTaken([r["target_id"] for r in rows if r["id"] is None])


async def lock_in_order(conn: asyncpg.Connection, seat_ids: Sequence[int]) -> None:
    """The DB strategy's explicit row locks, taken in id order so overlapping sets cannot deadlock."""
    await conn.fetch(_LOCK_IN_ORDER, list(seat_ids))


async def claim_many(
    conn: asyncpg.Connection,
    seat_ids: Sequence[int],
    user_id: str,
    strategy: Strategy,
    hold_token: UUID | None = None,
) -> list[Booking]:
    """Book all of `seat_ids` (sorted, distinct) or none; must run inside a transaction."""
    rows = await conn.fetch(_CLAIM_MANY, list(seat_ids), user_id, strategy.value, hold_token)
    await _outcome(conn, rows, seat_ids, hold_token)
    return [
        Booking(booking_id=r["booking_id"], seat=seat_from_row(r), strategy=strategy, sequence=r["seq"]) for r in rows
    ]


def _active_hold(rows: list[asyncpg.Record], token: UUID, user_id: str) -> Hold:
    """The hold as its freshly written seat rows show it: it lasts as long as its longest seat."""
    seats = [seat_from_row(r) for r in rows]
    return Hold(
        token=token,
        user_id=user_id,
        seats=seats,
        state=HoldState.ACTIVE,
        expires_at=max(s.held_until for s in seats if s.held_until is not None),
        sequence=max(r["seq"] for r in rows),
    )


async def place_hold(
    conn: asyncpg.Connection, seat_ids: Sequence[int], user_id: str, token: UUID, ttl_s: float
) -> Hold:
    """Hold all of `seat_ids` or none; must run inside a transaction."""
    rows = await conn.fetch(_HOLD, list(seat_ids), user_id, token, None, ttl_s)
    await _outcome(conn, rows, seat_ids, None)
    return _active_hold(rows, token, user_id)


_SEAT_COUNTS = f"""
WITH adding AS (
    SELECT event_id, count(*) AS n FROM seats WHERE id = ANY($2::int[]) GROUP BY event_id
)
SELECT a.event_id, a.n AS adding,
       (SELECT count(*) FROM seats s
         WHERE s.event_id = a.event_id AND {HOLDING_SQL.format(s="s", user="$1", token="$3::uuid")}) AS current
  FROM adding AS a
"""

_LOCK_USER = f"SELECT pg_advisory_xact_lock({user_lock_key('$1')})"


async def enforce_seat_limit(
    conn: asyncpg.Connection, user_id: str, seat_ids: Sequence[int], limit: int, except_token: UUID | None = None
) -> None:
    """Per-user, per-event cap on booked plus held seats (the hold being confirmed not counted twice).

    Serialised per user by a transaction-scoped advisory lock taken before any seat lock, so two
    parallel requests by one user cannot both pass the check.
    """
    await conn.execute(_LOCK_USER, user_id)
    for row in await conn.fetch(_SEAT_COUNTS, user_id, list(seat_ids), except_token):
        if row["current"] + row["adding"] > limit:
            raise SeatLimitExceeded(limit, row["current"])


async def lock_hold(conn: asyncpg.Connection, token: UUID) -> asyncpg.Record:
    """Lock the hold row (serialising confirm/extend/release of one hold); the caller checks who may
    touch it before anything else (its state included) is revealed."""
    row = await conn.fetchrow("SELECT user_id, seat_ids, state FROM holds WHERE token = $1 FOR UPDATE", token)
    if row is None:
        raise HoldNotFound()
    return row


def ensure_active(hold: asyncpg.Record) -> None:
    state = HoldState(hold["state"])
    if state is not HoldState.ACTIVE:
        raise HoldNotActive(state)


async def end_hold(conn: asyncpg.Connection, token: UUID, state: HoldState) -> None:
    await conn.execute("UPDATE holds SET state = $2, ended_at = clock_timestamp() WHERE token = $1", token, state.value)


_RELEASE = f"""
WITH released AS (
    UPDATE seats AS s SET {RELEASE}
     WHERE s.hold_token = $1 AND s.status = 'HELD'
 RETURNING {columns("s")}
), {outbox_cte("released")}
SELECT e.seq, r.* FROM released AS r JOIN event AS e ON e.seat_id = r.id ORDER BY r.id
"""


async def release_hold(conn: asyncpg.Connection, token: UUID, hold: asyncpg.Record) -> Hold:
    """Free the seats the locked, active `hold` still has (lapsed ones too, so they read AVAILABLE at once)."""
    user_id: str = hold["user_id"]
    await lock_in_order(conn, sorted(hold["seat_ids"]))
    rows = await conn.fetch(_RELEASE, token)
    await end_hold(conn, token, HoldState.RELEASED)
    return Hold(
        token=token,
        user_id=user_id,
        seats=[seat_from_row(r) for r in rows],
        state=HoldState.RELEASED,
        expires_at=await conn.fetchval("SELECT clock_timestamp()"),
        sequence=max((r["seq"] for r in rows), default=0),
    )


_EXTEND = f"""
WITH extended AS (
    UPDATE seats
       SET held_until = least(clock_timestamp() + make_interval(secs => $2), $3::timestamptz),
           version = version + 1
     WHERE {live_hold(token="$1")}
 RETURNING {SEAT_COLUMNS}
), {outbox_cte("extended")}
SELECT e.seq, r.* FROM extended AS r JOIN event AS e ON e.seat_id = r.id ORDER BY r.id
"""


async def extend_hold(conn: asyncpg.Connection, token: UUID, hold: asyncpg.Record, ttl_s: float, max_s: float) -> Hold:
    """Push the expiry of the locked, active `hold` out by `ttl_s`, never beyond `max_s` after it began;
    all seats or none."""
    user_id: str = hold["user_id"]
    seat_ids: list[int] = sorted(hold["seat_ids"])
    await lock_in_order(conn, seat_ids)
    cap = await conn.fetchval("SELECT created_at + make_interval(secs => $2) FROM holds WHERE token = $1", token, max_s)
    rows = await conn.fetch(_EXTEND, token, ttl_s, cap)
    kept = {r["id"] for r in rows}
    lost = [i for i in seat_ids if i not in kept]
    if lost:
        raise HoldExpired(lost)
    extended = _active_hold(rows, token, user_id)
    await conn.execute("UPDATE holds SET expires_at = $2 WHERE token = $1", token, extended.expires_at)
    return extended


_CANCEL_SEAT = f"""
WITH freed AS (
    UPDATE seats AS s SET {RELEASE}
     WHERE s.id = $1 AND s.status = 'BOOKED'
 RETURNING {columns("s")}
), {outbox_cte("freed", "seq")}
SELECT (SELECT seq FROM event) AS seq, f.* FROM freed AS f
"""


async def lock_booking(conn: asyncpg.Connection, booking_id: int) -> asyncpg.Record | None:
    """Lock a booking row for a change; the caller checks who may touch it before anything is revealed."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT seat_id, user_id, status, created_at FROM bookings WHERE id = $1 FOR UPDATE", booking_id
    )
    return row


async def cancel_booking(
    conn: asyncpg.Connection, booking_id: int, booking: asyncpg.Record, reason: str | None
) -> Cancellation:
    """CONFIRMED -> CANCELLED (the row stays as the audit trail) and free the seat; `booking` is the row
    `lock_booking` locked in this transaction."""
    if booking["status"] != "CONFIRMED":
        raise BookingNotActive(booking_id)
    user_id: str = booking["user_id"]
    cancelled_at = await conn.fetchval(
        """
        UPDATE bookings SET status = 'CANCELLED', cancelled_at = clock_timestamp(), cancelled_by = $2,
                            cancel_reason = $3
         WHERE id = $1 RETURNING cancelled_at
        """,
        booking_id,
        user_id,
        reason,
    )
    row = await conn.fetchrow(_CANCEL_SEAT, booking["seat_id"])
    # The unique active-booking index and the seat row move together; anything else is corruption.
    assert row is not None, f"booking {booking_id} was CONFIRMED but seat {booking['seat_id']} not BOOKED"
    return Cancellation(
        booking_id=booking_id,
        seat=seat_from_row(row),
        user_id=user_id,
        cancelled_at=cancelled_at,
        reason=reason,
        sequence=row["seq"],
    )


_SWEEP = f"""
WITH lapsed AS (
    SELECT id FROM seats
     WHERE {lapsed()}
     ORDER BY id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
), freed AS (
    UPDATE seats AS s SET {RELEASE}
      FROM lapsed AS l
     WHERE s.id = l.id AND {lapsed("s")}
 RETURNING s.id, s.version
)
{outbox("freed", "seq")}
"""


async def sweep_lapsed_holds(conn: asyncpg.Connection, batch: int) -> int:
    """Broadcast-only housekeeping: lapsed holds already count as free; this makes clients see it."""
    rows = await conn.fetch(_SWEEP, batch)
    return len(rows)
