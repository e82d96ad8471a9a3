"""Reading the seat-change outbox (`seat_events`) by sequence, for the real-time relays.

Every seat change appends a row in the statement that makes it; relays read them in order on a
dedicated connection (not the pool: a relay waiting on a hole must not hold a booking's slot).
A relay also appends one kind of row itself: the copy of a change that committed after the relay
had delivered past its sequence value (`republish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from boxoffice.domain import Seat
from boxoffice.storage.seats import GA_AVAILABLE_SQL, seat_from_row
from boxoffice.storage.seatsql import columns, outbox_rows

_COLUMNS = columns("s")


def _with_area_counts(batch: str) -> str:
    """GA ticket changes carry their area's public availability, counted once per area and read."""
    return f"""
WITH batch AS ({batch}),
areas AS (
    SELECT a.event_id, a.name, ({GA_AVAILABLE_SQL}) AS available
      FROM (SELECT DISTINCT event_id, section AS name FROM batch WHERE kind = 'GA') AS a
)
SELECT b.*, ar.available AS area_available
  FROM batch AS b LEFT JOIN areas AS ar ON b.kind = 'GA' AND ar.event_id = b.event_id AND ar.name = b.section
 ORDER BY b.seq
"""


_READ = _with_area_counts(f"""
SELECT e.seq, {_COLUMNS} FROM seat_events e JOIN seats s ON s.id = e.seat_id
 WHERE e.seq > $1 ORDER BY e.seq LIMIT $2
""")
_MARKS = """
SELECT e.seq, s.event_id FROM seat_events e JOIN seats s ON s.id = e.seat_id
 WHERE e.seq > $1 ORDER BY e.seq LIMIT $2
"""
_READ_RANGE = _with_area_counts(f"""
SELECT e.seq, {_COLUMNS} FROM seat_events e JOIN seats s ON s.id = e.seat_id
 WHERE e.seq > $1 AND e.seq <= $2
""")
# Transactions that may still commit a row: each holds RowExclusiveLock on seat_events from before
# it drew its sequence value until it ends.
_WRITERS = """
SELECT virtualtransaction FROM pg_locks
 WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' AND granted
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND relation = 'seat_events'::regclass
"""


# Who they are, for the operator: a transaction that drew a sequence value and stays open holds
# back delivery to every subscriber until it ends.
_WRITER_DETAILS = """
SELECT l.pid, a.application_name, extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_age_s
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.relation = 'seat_events'::regclass AND l.virtualtransaction = ANY($1::text[])
 ORDER BY a.xact_start
"""


# Which of the values a relay delivered past (inclusive runs lo..hi) have committed since.
_COMMITTED_IN = """
SELECT e.seq FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)
  JOIN seat_events e ON e.seq BETWEEN r.lo AND r.hi
 ORDER BY e.seq
"""
# A change that committed behind the relays' back gets a new row, hence a sequence value above every
# snapshot watermark and delivery made without it. Relays republish one at a time (the lock), and a
# row is copied only if no later row of its seat carries this version or a newer one: another
# relay's copy, or a later change of the seat (which delivers the seat's state as it is then).
_REPUBLISH_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('boxoffice-outbox-republish', 0))"
_REPUBLISH = outbox_rows(
    """
SELECT e.seat_id, e.version FROM seat_events e
 WHERE e.seq = ANY($1::bigint[])
   AND NOT EXISTS (
       SELECT 1 FROM seat_events l WHERE l.seq > e.seq AND l.seat_id = e.seat_id AND l.version >= e.version
   )
 ORDER BY e.seq
"""
)


@dataclass(frozen=True, slots=True)
class Writer:
    """A session whose open transaction may still commit an outbox row (pid 0 for a prepared one)."""

    pid: int
    application_name: str | None
    xact_age_s: float | None


@dataclass(frozen=True, slots=True)
class SeatChange:
    """One outbox row: the seat as it is now, and the change's place in the global order."""

    seq: int
    seat: Seat
    area_available: int | None = None
    """For a GA ticket: its area's public availability when this change was read."""


@dataclass(frozen=True, slots=True)
class Mark:
    """Where an outbox row is in the order and which event it changed, without the seat: enough for a
    relay with nobody to deliver it to."""

    seq: int
    event_id: int


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        url,
        timeout=5,
        command_timeout=10,
        server_settings={"application_name": "boxoffice-relay", "statement_timeout": "5000"},
    )


def _changes(rows: list[asyncpg.Record]) -> list[SeatChange]:
    return [SeatChange(r["seq"], seat_from_row(r), r["area_available"]) for r in rows]


async def read_after(conn: asyncpg.Connection, cursor: int, limit: int) -> list[SeatChange]:
    """Visible changes after `cursor`, in sequence order (possibly with holes still in flight)."""
    return _changes(await conn.fetch(_READ, cursor, limit))


async def marks_after(conn: asyncpg.Connection, cursor: int, limit: int) -> list[Mark]:
    """`read_after` without the seats: no seat decoded, no area counted."""
    return [Mark(seq, event_id) for seq, event_id in await conn.fetch(_MARKS, cursor, limit)]


async def read_range(conn: asyncpg.Connection, after: int, upto: int) -> list[SeatChange]:
    return _changes(await conn.fetch(_READ_RANGE, after, upto))


async def writers(conn: asyncpg.Connection) -> frozenset[str]:
    """The transactions that could still commit an outbox row now."""
    return frozenset(r[0] for r in await conn.fetch(_WRITERS))


async def writer_details(conn: asyncpg.Connection, transactions: frozenset[str]) -> list[Writer]:
    rows = await conn.fetch(_WRITER_DETAILS, list(transactions))
    return [Writer(r["pid"] or 0, r["application_name"], r["xact_age_s"]) for r in rows]


async def committed_in(conn: asyncpg.Connection, runs: Sequence[tuple[int, int]]) -> list[int]:
    """The sequence values within `runs` (inclusive) that are visible now, ascending."""
    if not runs:
        return []
    rows = await conn.fetch(_COMMITTED_IN, [lo for lo, _ in runs], [hi for _, hi in runs])
    return [r[0] for r in rows]


async def republish(conn: asyncpg.Connection, seqs: Sequence[int]) -> int:
    """Append a copy of each row `seqs` names that no later row of its seat supersedes; returns how
    many were appended. Commits on its own (the relay's connection is outside any unit of work)."""
    async with conn.transaction():
        await conn.execute(_REPUBLISH_LOCK)
        rows = await conn.fetch(_REPUBLISH, list(seqs))
    return len(rows)


async def top(conn: asyncpg.Connection) -> int:
    """The highest sequence value visible (0 for an empty outbox)."""
    value: int = await conn.fetchval("SELECT COALESCE(max(seq), 0) FROM seat_events")
    return value
