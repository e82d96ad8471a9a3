"""The SQL of inventory rules: row locks for the orphan rule and best available, GA tickets taken by
quantity with SKIP LOCKED, channel keys, allocations (block, channel) and event options.

Row locks are transaction-scoped advisory locks on (event, section and row): every claim that must
see a whole row as it is (the orphan rule, best available) takes its row's lock first, so two such
claims in one row queue while claims in other rows run in parallel. Best available only *tries*
the lock (`pg_try_advisory_xact_lock`): a row another request is working on is skipped, so a crowd
spreads over the rows instead of fighting over one block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from boxoffice.domain import Booking, EventNotFound, Hold, HoldState, Seat, SeatStatus, Strategy
from boxoffice.storage.seats import seat_from_row
from boxoffice.storage.seatsql import (
    AVAILABLE,
    AVAILABLE_NOW,
    RELEASE,
    SEAT_COLUMNS,
    Take,
    available,
    claim_cte,
    lapsed,
    outbox,
    outbox_cte,
)
from boxoffice.storage.venues import channel_key_hash


@dataclass(frozen=True, slots=True)
class RowKey:
    event_id: int
    section: str
    section_order: int
    row: int

    @property
    def lock(self) -> int:
        """Second key of the advisory lock (the first is the event): rows <= 500, sections <= 50."""
        return self.section_order * 1000 + self.row


@dataclass(frozen=True, slots=True)
class RowSeat:
    """A seat of a row as best available and the orphan rule see it."""

    id: int
    number: str
    col: int
    free: bool
    blocked: bool
    channel: str | None
    accessibility: str | None
    category: str | None
    rank: float


@dataclass(frozen=True, slots=True)
class SeatInfo:
    id: int
    key: RowKey
    kind: str
    no_orphans: bool
    orphan_row_ends: bool


@dataclass(frozen=True, slots=True)
class EventPolicy:
    event_id: int
    no_orphans: bool
    orphan_row_ends: bool
    ga_sections: frozenset[str]


async def seat_info(conn: asyncpg.Connection, seat_ids: Sequence[int]) -> list[SeatInfo]:
    """Where the seats are and their events' orphan rule (no locks: positions never change)."""
    rows = await conn.fetch(
        """
        SELECT s.id, s.event_id, s.section, s.section_order, s.row_idx, s.kind, e.no_orphans, e.orphan_row_ends
          FROM seats s JOIN events e ON e.id = s.event_id
         WHERE s.id = ANY($1::int[]) ORDER BY s.id
        """,
        list(seat_ids),
    )
    return [
        SeatInfo(
            r["id"],
            RowKey(r["event_id"], r["section"], r["section_order"], r["row_idx"]),
            r["kind"],
            r["no_orphans"],
            r["orphan_row_ends"],
        )
        for r in rows
    ]


async def lock_row(conn: asyncpg.Connection, key: RowKey, *, wait: bool) -> bool:
    """The row's lock until the transaction ends; without `wait`, False when another holds it."""
    if wait:
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", key.event_id, key.lock)
        return True
    got: bool = await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2)", key.event_id, key.lock)
    return got


# The first row (in the given order) whose lock is free, locked; the Limit stops the scan at the first
# success, so rows after it are not locked. One round trip however many rows are busy.
_LOCK_FIRST = """
SELECT u.n FROM unnest($2::int[]) WITH ORDINALITY AS u(k, n)
 WHERE pg_try_advisory_xact_lock($1, u.k)
 LIMIT 1
"""


async def lock_first(conn: asyncpg.Connection, event_id: int, keys: Sequence[RowKey]) -> int | None:
    """Index in `keys` (all rows of `event_id`) of the row now locked, or None when every one is busy."""
    found: int | None = await conn.fetchval(_LOCK_FIRST, event_id, [k.lock for k in keys])
    return None if found is None else found - 1


async def lock_seats(conn: asyncpg.Connection, seat_ids: Sequence[int]) -> list[Seat]:
    """The seats, locked in id order (the same order every multi-seat change locks them in)."""
    rows = await conn.fetch(
        f"SELECT {SEAT_COLUMNS} FROM seats WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE", list(seat_ids)
    )
    return [seat_from_row(r) for r in rows]


async def row_seats(conn: asyncpg.Connection, key: RowKey) -> list[RowSeat]:
    """Every seat of the row, in column order, as of now (read after its row lock was taken)."""
    rows = await conn.fetch(
        f"""
        SELECT id, seat_number, col_idx, {AVAILABLE} AS free, blocked IS NOT NULL AS blocked,
               channel, accessibility, category, rank
          FROM seats
         WHERE event_id = $1 AND section = $2 AND row_idx = $3 AND kind = 'SEAT'
         ORDER BY col_idx
        """,
        key.event_id,
        key.section,
        key.row,
    )
    return [
        RowSeat(
            r["id"],
            r["seat_number"],
            r["col_idx"],
            r["free"],
            r["blocked"],
            r["channel"],
            r["accessibility"],
            r["category"],
            r["rank"],
        )
        for r in rows
    ]


async def channels_for_key(conn: asyncpg.Connection, event_ids: Sequence[int], key: str) -> dict[int, str]:
    """Event id -> the channel whose key this is."""
    rows = await conn.fetch(
        "SELECT event_id, name FROM event_channels WHERE event_id = ANY($1::int[]) AND key_hash = $2",
        list(event_ids),
        channel_key_hash(key),
    )
    return {r["event_id"]: r["name"] for r in rows}


async def event_policy(conn: asyncpg.Connection, event_id: int) -> EventPolicy:
    row = await conn.fetchrow(
        """
        SELECT e.no_orphans, e.orphan_row_ends,
               ARRAY(SELECT name FROM event_sections WHERE event_id = e.id AND kind = 'GA') AS ga
          FROM events e WHERE e.id = $1
        """,
        event_id,
    )
    if row is None:
        raise EventNotFound(event_id)
    return EventPolicy(event_id, row["no_orphans"], row["orphan_row_ends"], frozenset(row["ga"]))


# The free seats nearest their focal points (the partial index `seats_best`), grouped by row: the
# rows best available looks at, best first. AVAILABLE_NOW, the index's form: lapsed holds are left
# to the sweeper here (they are seen as free once a row is read).
_CANDIDATE_ROWS = f"""
SELECT section, section_order, row_idx, min(rank) AS best, count(*) AS free FROM (
    SELECT section, section_order, row_idx, rank FROM seats
     WHERE event_id = $1 AND kind = 'SEAT' AND {AVAILABLE_NOW}
       AND channel IS NOT DISTINCT FROM $2
       AND ($3::text IS NULL OR category = $3) AND ($4::text IS NULL OR section = $4)
       AND (CASE WHEN $5 THEN accessibility = 'WHEELCHAIR' ELSE accessibility IS NULL END)
     ORDER BY rank LIMIT $6
) AS c GROUP BY section, section_order, row_idx
 ORDER BY count(*) >= $8 DESC, best LIMIT $7
"""


async def candidate_rows(
    conn: asyncpg.Connection,
    event_id: int,
    channel: str | None,
    category: str | None,
    section: str | None,
    wheelchair: bool,
    seats: int,
    rows: int,
    quantity: int,
) -> list[RowKey]:
    """Rows with free seats near the focus, those with at least `quantity` of them first."""
    found = await conn.fetch(_CANDIDATE_ROWS, event_id, channel, category, section, wheelchair, seats, rows, quantity)
    return [RowKey(event_id, r["section"], r["section_order"], r["row_idx"]) for r in found]


# GA: `quantity` free tickets of the area from the pool (public or a channel), each locked by this
# transaction and skipped by every other: concurrent buyers never wait for each other here. The
# predicate in its two halves: AVAILABLE_NOW (the index `seats_ga_free`), then lapsed holds.
_PICK_GA_FREE = f"""
SELECT id FROM seats
 WHERE event_id = $1 AND section = $2 AND kind = 'GA' AND {AVAILABLE_NOW}
   AND channel IS NOT DISTINCT FROM $3
 ORDER BY id LIMIT $4
   FOR UPDATE SKIP LOCKED
"""
_PICK_GA_LAPSED = f"""
SELECT id FROM seats
 WHERE event_id = $1 AND section = $2 AND kind = 'GA' AND {lapsed()}
   AND channel IS NOT DISTINCT FROM $3
 ORDER BY id LIMIT $4
   FOR UPDATE SKIP LOCKED
"""


async def pick_ga(conn: asyncpg.Connection, event_id: int, area: str, channel: str | None, quantity: int) -> list[int]:
    """Up to `quantity` free tickets of the pool, locked by this transaction (others' skipped)."""
    ids: list[int] = [r["id"] for r in await conn.fetch(_PICK_GA_FREE, event_id, area, channel, quantity)]
    if len(ids) < quantity:
        more = await conn.fetch(_PICK_GA_LAPSED, event_id, area, channel, quantity - len(ids))
        ids += [r["id"] for r in more]
    return ids


def _plain_sql(blocked: str, channel: str) -> str:
    return (
        f"(s.kind = 'SEAT' AND s.accessibility IS NULL AND {channel} IS NULL AND {blocked} IS NULL"
        " AND NOT e.no_orphans)"
    )


# Allocation: the target seats (free ones only) change pool; each gets a new version and outbox row
# so live maps show it at once. A lapsed hold on a seat that gets blocked is dropped. Free in any
# pool (`unblocked=False`): allocation is what moves seats into and out of a block.
_ALLOCATE = f"""
WITH target AS (
    SELECT id FROM seats WHERE id = ANY($2::int[]) AND event_id = $1 ORDER BY id FOR UPDATE
), changed AS (
    UPDATE seats AS s
       SET {RELEASE}, blocked = $3, channel = $4, plain = {_plain_sql("$3::text", "$4::text")}
      FROM target AS t, events AS e
     WHERE s.id = t.id AND e.id = s.event_id AND {available("s", unblocked=False)}
 RETURNING s.id, s.version
), {outbox_cte("changed", "seat_id")}
SELECT t.id, t.id IN (SELECT seat_id FROM event) AS changed FROM target AS t ORDER BY t.id
"""


async def allocate_seats(
    conn: asyncpg.Connection, event_id: int, seat_ids: Sequence[int], blocked: str | None, channel: str | None
) -> tuple[list[int], list[int], list[int]]:
    """(changed, not free, not in the event); the caller commits only when all changed."""
    rows = await conn.fetch(_ALLOCATE, event_id, sorted(seat_ids), blocked, channel)
    found = {r["id"] for r in rows}
    missing = [i for i in seat_ids if i not in found]
    changed = [r["id"] for r in rows if r["changed"]]
    busy = [r["id"] for r in rows if not r["changed"]]
    return changed, busy, missing


_ALLOCATE_GA = f"""
WITH target AS (
    SELECT id FROM seats
     WHERE event_id = $1 AND section = $2 AND kind = 'GA'
       AND blocked IS NOT DISTINCT FROM $5 AND channel IS NOT DISTINCT FROM $6
       AND {available(unblocked=False)}
     ORDER BY id DESC LIMIT $7
       FOR UPDATE SKIP LOCKED
), changed AS (
    UPDATE seats AS s
       SET {RELEASE}, blocked = $3, channel = $4, plain = FALSE
      FROM target AS t
     WHERE s.id = t.id
 RETURNING s.id, s.version
)
{outbox("changed", "seat_id")}
"""


async def allocate_ga(
    conn: asyncpg.Connection,
    event_id: int,
    area: str,
    count: int,
    blocked: str | None,
    channel: str | None,
    from_blocked: str | None,
    from_channel: str | None,
) -> list[int]:
    """Move up to `count` free tickets of the area from one pool to another; returns the moved ids."""
    rows = await conn.fetch(_ALLOCATE_GA, event_id, area, blocked, channel, from_blocked, from_channel, count)
    return sorted(r["seat_id"] for r in rows)


async def set_options(conn: asyncpg.Connection, event_id: int, no_orphans: bool, orphan_row_ends: bool) -> None:
    """The orphan rule for an event; its seats leave (or rejoin) the single-seat fast path with it."""
    await conn.execute(
        "UPDATE events SET no_orphans = $2, orphan_row_ends = $3 WHERE id = $1", event_id, no_orphans, orphan_row_ends
    )
    await conn.execute(
        f"""
        UPDATE seats AS s SET plain = {_plain_sql("s.blocked", "s.channel")}
          FROM events AS e WHERE e.id = s.event_id AND s.event_id = $1
           AND s.plain IS DISTINCT FROM {_plain_sql("s.blocked", "s.channel")}
        """,
        event_id,
    )


async def has_section(conn: asyncpg.Connection, event_id: int, section: str) -> bool:
    """Whether the event has a section (seated or GA) of this name (the position index answers)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM seats WHERE event_id = $1 AND section = $2)", event_id, section
    )
    return found


async def has_category(conn: asyncpg.Connection, event_id: int, category: str) -> bool:
    """Whether any seat of the event is of this category: a section's (the small table first), or a row's."""
    if await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM event_sections WHERE event_id = $1 AND category = $2)", event_id, category
    ):
        return True
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM seats WHERE event_id = $1 AND category = $2)", event_id, category
    )
    return found


async def area_names(conn: asyncpg.Connection, event_id: int) -> set[str]:
    rows = await conn.fetch("SELECT name FROM event_sections WHERE event_id = $1 AND kind = 'GA'", event_id)
    return {r["name"] for r in rows}


async def all_seats(conn: asyncpg.Connection, event_id: int) -> list[Seat]:
    """Every reserved seat of the event (admin view)."""
    rows = await conn.fetch(
        f"SELECT {SEAT_COLUMNS} FROM seats WHERE event_id = $1 AND kind = 'SEAT'"
        " ORDER BY section_order, row_idx, col_idx",
        event_id,
    )
    return [seat_from_row(r) for r in rows]


# GA in one statement (autocommit): take `quantity` free tickets with SKIP LOCKED and book or hold
# them all, with their booking (or hold) and outbox rows, or nothing when the pool has fewer free
# tickets that nobody else is claiming right now (the caller then takes the checked path). Lapsed
# holds are left to that path (AVAILABLE_NOW, the index's form).
def _take_ga(take: Take) -> str:
    """$1 event, $2 area, $3 channel, $4 quantity, then `take`'s parameters from $5."""
    booking, join = (
        ("b.id AS booking_id, ", " JOIN booking AS b ON b.seat_id = c.id")
        if take.status is SeatStatus.BOOKED
        else ("", "")
    )
    claimed = claim_cte(
        take, source="picked AS p, enough AS e", where="s.id = p.id AND e.ok", free=available("s", lapsed_holds=False)
    )
    return f"""
WITH picked AS (
    SELECT id FROM seats
     WHERE event_id = $1 AND section = $2 AND kind = 'GA' AND {AVAILABLE_NOW}
       AND channel IS NOT DISTINCT FROM $3
     ORDER BY id LIMIT $4
       FOR UPDATE SKIP LOCKED
), enough AS (
    SELECT count(*) = $4 AS ok FROM picked
), {claimed}
SELECT {booking}e.seq, c.* FROM {take.cte} AS c{join} JOIN event AS e ON e.seat_id = c.id
 ORDER BY c.id
"""


_BOOK_GA = _take_ga(Take(SeatStatus.BOOKED, user="$5", strategy="$6"))
_HOLD_GA = _take_ga(Take(SeatStatus.HELD, user="$5", token="$6::uuid", ttl="$7"))


async def book_ga(
    conn: asyncpg.Connection,
    event_id: int,
    area: str,
    channel: str | None,
    quantity: int,
    user_id: str,
    strategy: Strategy,
) -> list[Booking]:
    """The booked tickets, or [] when it took nothing (one statement: run it in autocommit or a
    caller's transaction)."""
    rows = await conn.fetch(_BOOK_GA, event_id, area, channel, quantity, user_id, strategy.value)
    return [Booking(r["booking_id"], seat_from_row(r), strategy, r["seq"]) for r in rows]


async def hold_ga(
    conn: asyncpg.Connection,
    event_id: int,
    area: str,
    channel: str | None,
    quantity: int,
    user_id: str,
    token: UUID,
    ttl_s: float,
) -> Hold | None:
    """The new hold, or None when it took nothing."""
    rows = await conn.fetch(_HOLD_GA, event_id, area, channel, quantity, user_id, token, ttl_s)
    if not rows:
        return None
    seats = [seat_from_row(r) for r in rows]
    return Hold(
        token=token,
        user_id=user_id,
        seats=seats,
        state=HoldState.ACTIVE,
        expires_at=max(s.held_until for s in seats if s.held_until is not None),
        sequence=max(r["seq"] for r in rows),
    )


# The predicate in its two halves, as `pick_ga` reads them.
_GA_LEFT = f"""
SELECT (SELECT count(*) FROM (
            SELECT 1 FROM seats
             WHERE event_id = $1 AND section = $2 AND kind = 'GA' AND {AVAILABLE_NOW}
               AND channel IS NOT DISTINCT FROM $3 LIMIT $4) AS a)
     + (SELECT count(*) FROM (
            SELECT 1 FROM seats
             WHERE {lapsed()} AND event_id = $1 AND section = $2
               AND kind = 'GA' AND channel IS NOT DISTINCT FROM $3 LIMIT $4) AS h)
"""


async def ga_left(conn: asyncpg.Connection, event_id: int, area: str, channel: str | None, quantity: int) -> int:
    """Free tickets of the pool (lapsed holds included, others' claims in flight too), counted up to `quantity`."""
    left: int = await conn.fetchval(_GA_LEFT, event_id, area, channel, quantity)
    return left
