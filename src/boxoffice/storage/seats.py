"""The SQL of booking: every claim ends in a write that is correct on its own.

The availability predicate in the claim's WHERE clause (`storage.seatsql`) plus the unique partial index
`bookings_one_active_per_seat` make a double booking impossible whatever the caller did
before (a Redis lease that expired, a paused process, a retry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
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
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatsTaken,
    SeatStatus,
    SectionLayout,
    Strategy,
)
from boxoffice.storage import venues
from boxoffice.storage.seatsql import AVAILABLE, ON_SALE, SEAT_COLUMNS, Take, available, claim_cte

# Claim, record the booking and append the outbox event in one statement. When nothing was
# claimed the outer SELECT still returns one row whose `found` tells 404 from 409.
# `now` (the seat as the statement's snapshot has it) is one index lookup for the three verdicts.
_CLAIM = f"""
WITH {claim_cte(Take(SeatStatus.BOOKED, user="$2", strategy="$3"), where="s.id = $1 AND s.plain", free=available("s"))}
SELECT now.status AS current_status, now.plain, now.on_sale,
       (SELECT id FROM booking) AS booking_id,
       (SELECT seq FROM event) AS seq,
       c.*
  FROM (SELECT 1) AS one
  LEFT JOIN (SELECT status, plain, {ON_SALE} AS on_sale FROM seats WHERE id = $1) AS now ON TRUE
  LEFT JOIN claimed AS c ON TRUE
"""

_LOCK_ROW = f"SELECT status, plain, {AVAILABLE} AS free, {ON_SALE} AS on_sale FROM seats WHERE id = $1 FOR UPDATE"


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


async def not_on_sale(conn: asyncpg.Connection, seat_ids: Sequence[int]) -> BookingError:
    """The answer to a claim refused by the sales window (`seatsql.on_sale`): why the event does not
    sell. Should the window have moved since (an edit just now), the seats are simply taken."""
    refusals = await venues.sale_refusals(conn, seat_ids)
    for seat_id in seat_ids:
        if seat_id in refusals:
            return refusals[seat_id]
    return SeatOccupied(seat_ids[0], "is no longer available") if len(seat_ids) == 1 else SeatsTaken(list(seat_ids))


async def claim(conn: asyncpg.Connection, seat_id: int, user_id: str, strategy: Strategy) -> Booking:
    """Claim a seat in one round trip (autocommit or inside the caller's transaction)."""
    row = await conn.fetchrow(_CLAIM, seat_id, user_id, strategy.value)
    assert row is not None
    if row["booking_id"] is None:
        if row["current_status"] is None:
            raise SeatNotFound(seat_id)
        if not row["plain"]:
            raise NeedsCheckout(seat_id)
        if not row["on_sale"]:
            raise await not_on_sale(conn, [seat_id])
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
    if not row["on_sale"]:
        raise await not_on_sale(conn, [seat_id])
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
     WHERE id = ANY($1::int[]) AND plain AND {AVAILABLE}
     ORDER BY id
       FOR UPDATE SKIP LOCKED
), {
    claim_cte(
        Take(SeatStatus.BOOKED, user="i.user_id", strategy="strategy"),
        source="input AS i",
        where="s.id = i.seat_id AND s.id IN (SELECT id FROM locked)",
        free=available("s"),
        returning=", i.strategy",
    )
}
SELECT now.status AS current_status, now.free, now.plain, now.on_sale, b.id AS booking_id, e.seq, c.*
  FROM input AS i
  LEFT JOIN (SELECT id, status, plain, {AVAILABLE} AS free, {
    ON_SALE
} AS on_sale FROM seats WHERE id = ANY($1::int[])) AS now
         ON now.id = i.seat_id
  LEFT JOIN claimed AS c ON c.id = i.seat_id
  LEFT JOIN booking AS b ON b.seat_id = i.seat_id
  LEFT JOIN event AS e ON e.seat_id = i.seat_id
 ORDER BY i.seat_id
"""

# What counts against the per-user cap in an event: seats booked, and seats held and not lapsed
# (`except_token`: a hold being confirmed, not counted twice). `{s}` is the seats alias, `{user}`
# the user expression. One definition for the multi-seat check (storage.checkout) and the batch.
HOLDING_SQL = (
    "(({s}.status = 'BOOKED' AND {s}.booked_by = {user})"
    " OR ({s}.status = 'HELD' AND {s}.held_by = {user} AND {s}.held_until >= clock_timestamp()"
    " AND {s}.hold_token IS DISTINCT FROM {token}))"
)


def user_lock_key(user: str) -> str:
    """The per-user advisory lock key (SQL) that serialises every change counted by the seat cap."""
    return f"hashtextextended('boxoffice-user:' || {user}, 0)"


# The cap's locks and counts for a batch, in one call a claim statement can make: a session-scoped
# (pg_temp) PL/pgSQL function, installed on every pooled connection (`install_session_routines`).
# It takes the capped users' advisory locks in key order, waiting (the multi-seat path takes its one
# user lock before any seat lock too, so no cycle can form; only short transactions hold them, and
# `lock_timeout` bounds the wait), then counts each user's seats per event in a second query, whose
# fresh snapshot (a VOLATILE function's) starts after the locks were granted: what one plain
# statement cannot do, since its snapshot predates its own lock waits.
CAP_COUNTS = "pg_temp.boxoffice_cap_counts"
_CREATE_CAP_COUNTS = f"""
CREATE OR REPLACE FUNCTION {CAP_COUNTS}(p_users text[], p_seats int[])
RETURNS TABLE (user_id text, event_id int, current bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    PERFORM pg_advisory_xact_lock(o.k)
       FROM (SELECT DISTINCT {user_lock_key("u.u")} AS k FROM unnest(p_users) AS u(u) ORDER BY 1) AS o;
    RETURN QUERY
    SELECT p.u, p.e, (
        SELECT count(*) FROM seats AS s
         WHERE s.event_id = p.e AND {HOLDING_SQL.format(s="s", user="p.u", token="NULL::uuid")}
    )
      FROM (SELECT DISTINCT i.u, t.event_id AS e
              FROM unnest(p_users, p_seats) AS i(u, seat_id) JOIN seats AS t ON t.id = i.seat_id) AS p;
END
$fn$
"""


async def install_session_routines(conn: asyncpg.Connection) -> None:
    """Run on every new pooled connection (the pool's `init`): the session's own copy of the cap
    function, so it always matches the code that calls it."""
    await conn.execute(_CREATE_CAP_COUNTS)


# Takes the capped users' locks ahead of the DB strategy's seat locks (its batch locks rows first).
_LOCK_USERS = f"SELECT count(*) FROM {CAP_COUNTS}($1::text[], $2::int[])"

# Group commit with the per-user cap ($4, 0 = none) enforced in the same statement: $5 and $6 are
# the capped claims' users and seats. The cap's CTE runs before any seat is locked (`locked` waits
# for it). A claim is within the cap when the user's seats in the seat's event (`current`, before
# this batch) plus the claimable seats of the same user and event earlier in the batch stay below
# the cap: exactly what making the claims one by one in seat order would decide. An over-cap claim
# is refused whether or not its seat is free (the multi-seat path checks the cap first too).
# `now` (the seats as the statement's snapshot has them) is read once and serves both the
# verdict's event ids and the answer (reading seats twice cost about 15 us per claim).
_CLAIM_BATCH_CAPPED = f"""
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) AS i(seat_id, user_id, strategy, cap)
), counts AS (
    SELECT * FROM {CAP_COUNTS}($5::text[], $6::int[])
), now AS (
    SELECT id, event_id, status, plain, {AVAILABLE} AS free, {ON_SALE} AS on_sale FROM seats WHERE id = ANY($1::int[])
), locked AS (
    SELECT id FROM seats
     WHERE id = ANY($1::int[]) AND plain AND {AVAILABLE} AND (SELECT count(*) FROM counts) >= 0
     ORDER BY id
       FOR UPDATE SKIP LOCKED
), member AS (
    SELECT i.seat_id, i.user_id, i.strategy, i.cap, now.event_id, l.id IS NOT NULL AS claimable
      FROM input AS i
      JOIN now ON now.id = i.seat_id
      LEFT JOIN locked AS l ON l.id = i.seat_id
), verdict AS (
    SELECT m.seat_id, m.user_id, m.strategy, m.cap, m.claimable, coalesce(c.current, 0) AS current,
           m.cap = 0 OR coalesce(c.current, 0) + count(*) FILTER (WHERE m.claimable) OVER (
               PARTITION BY m.user_id, m.event_id ORDER BY m.seat_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) < m.cap AS within
      FROM member AS m
      LEFT JOIN counts AS c ON m.cap > 0 AND c.user_id = m.user_id AND c.event_id = m.event_id
), {
    claim_cte(
        Take(SeatStatus.BOOKED, user="v.user_id", strategy="strategy"),
        source="verdict AS v",
        where="s.id = v.seat_id AND v.claimable AND v.within AND s.plain",
        free=available("s"),
        returning=", v.strategy",
    )
}
SELECT now.status AS current_status, now.free, now.plain, now.on_sale, v.within,
       greatest(v.current, v.cap) AS holding, b.id AS booking_id, e.seq, c.*
  FROM input AS i
  LEFT JOIN now ON now.id = i.seat_id
  LEFT JOIN verdict AS v ON v.seat_id = i.seat_id
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
    seat_caps: Sequence[int] | None = None,
) -> list[ClaimOutcome]:
    """Claim distinct seats, sorted by id, for their users in one statement; one outcome each.

    Without `lock_first`: one autocommit statement, one round trip. `lock_first` is the DB
    strategy's pessimistic pattern for the whole batch: lock the rows in id order, then make the same
    conditional write; it needs the caller's transaction. `seat_caps` (per claim, 0 = none) enforces
    the per-user cap in the same statement (the users' locks, then the counts, then the claims).
    Raises BatchRefused when PostgreSQL refused the batch; other failures (the connection lost
    after sending) propagate, since the batch may have committed.
    """
    capped = seat_caps is not None and any(seat_caps)
    assert not lock_first or conn.is_in_transaction(), "row locks need the caller's transaction"
    strategy_names = [s.value for s in strategies]
    try:
        if capped:
            assert seat_caps is not None
            cap_users = [u for u, cap in zip(user_ids, seat_caps, strict=True) if cap]
            cap_seats = [i for i, cap in zip(seat_ids, seat_caps, strict=True) if cap]
            if lock_first:
                await conn.fetchval(_LOCK_USERS, cap_users, cap_seats)
                await conn.execute(_LOCK_BATCH, seat_ids)
            rows = await conn.fetch(
                _CLAIM_BATCH_CAPPED, seat_ids, user_ids, strategy_names, seat_caps, cap_users, cap_seats
            )
        else:
            if lock_first:
                await conn.execute(_LOCK_BATCH, seat_ids)
            rows = await conn.fetch(_CLAIM_BATCH, seat_ids, user_ids, strategy_names)
    except Exception as exc:
        if _refusal(exc):
            raise BatchRefused(str(exc)) from exc
        raise
    outcomes: list[ClaimOutcome] = []
    closed: dict[int, int] = {}
    caps = seat_caps if seat_caps is not None else [0] * len(seat_ids)
    for seat_id, strategy, cap, row in zip(seat_ids, strategies, caps, rows, strict=True):
        if row["booking_id"] is not None:
            outcomes.append(
                Booking(booking_id=row["booking_id"], seat=seat_from_row(row), strategy=strategy, sequence=row["seq"])
            )
        elif row["current_status"] is None:
            outcomes.append(SeatNotFound(seat_id))
        elif not row["plain"]:
            outcomes.append(NeedsCheckout(seat_id))
        elif not row["on_sale"]:
            closed[seat_id] = len(outcomes)
            outcomes.append(None)  # worded below, or claimed alone
        elif capped and not row["within"]:
            # What the user holds once the batch's earlier claims of theirs are counted.
            outcomes.append(SeatLimitExceeded(cap, int(row["holding"])))
        elif row["free"]:
            outcomes.append(None)
        elif row["current_status"] == SeatStatus.HELD:
            outcomes.append(SeatOccupied(seat_id, "is held by another buyer"))
        else:
            outcomes.append(SeatOccupied(seat_id))
    if closed:
        # Refused by the sales window: say why. The batch is decided (and, autocommit, committed): should
        # this read fail, those claims are made alone instead, never the batch failed.
        try:
            refusals = await venues.sale_refusals(conn, list(closed))
        except Exception:
            refusals = {}
        for seat_id, index in closed.items():
            outcomes[index] = refusals.get(seat_id)
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
GA_AVAILABLE_SQL = f"""
SELECT count(*) FROM seats t
 WHERE t.event_id = a.event_id AND t.section = a.name AND t.kind = 'GA' AND t.channel IS NULL AND {available("t")}
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


async def first_hold_expiry(conn: asyncpg.Connection, event_id: int, since: datetime) -> datetime | None:
    """The earliest expiry after `since` of a hold on the event's seats or GA tickets: a lapsed hold
    reads as free without any outbox row, so a snapshot is only current until then."""
    expiry: datetime | None = await conn.fetchval(
        "SELECT min(held_until) FROM seats WHERE status = 'HELD' AND held_until > $2 AND event_id = $1",
        event_id,
        since,
    )
    return expiry


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
