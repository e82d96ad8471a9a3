"""The SQL of the waiting room: per-event gating, the queue of visitors, revocations, health samples.

PostgreSQL holds the whole state (docs/waiting-room.md#why-postgresql): it survives restarts and
failover with the rest of the sale, and every instance and worker sees one queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from boxoffice.domain import WaitingRoomConfig

PRESTART_RANKS = 2**40
"""Ranks below this are the random draw of arrivals before the start; later arrivals rank above it."""

_CONFIG_COLUMNS = (
    "event_id, enabled, starts_at, max_active, per_minute, min_per_minute, adaptive, hold_s, admission_ttl_s"
)
_ROOM_COLUMNS = f"{_CONFIG_COLUMNS}, rate_per_minute, waiting, active, admitted_total, revoked_before, frontier"
VISITOR_COLUMNS = "id, event_id, user_id, state, rank, joined_at, last_seen, admitted_at, expires_at, claimed_at"


def config_of(row: asyncpg.Record) -> WaitingRoomConfig:
    return WaitingRoomConfig(
        event_id=row["event_id"],
        enabled=row["enabled"],
        starts_at=row["starts_at"],
        max_active=row["max_active"],
        per_minute=row["per_minute"],
        min_per_minute=row["min_per_minute"],
        adaptive=row["adaptive"],
        hold_s=row["hold_s"],
        admission_ttl_s=row["admission_ttl_s"],
    )


async def event_exists(conn: asyncpg.Connection, event_id: int) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)", event_id))


async def room(conn: asyncpg.Connection, event_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_ROOM_COLUMNS} FROM waitroom_events WHERE event_id = $1", event_id
    )
    return row


async def rooms(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every configured room (enabled or not): the cache each instance keeps."""
    rows: list[asyncpg.Record] = await conn.fetch(f"SELECT {_ROOM_COLUMNS} FROM waitroom_events")
    return rows


async def configure(conn: asyncpg.Connection, c: WaitingRoomConfig) -> asyncpg.Record:
    """Insert or replace an event's configuration; the adaptive rate restarts inside the new bounds."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        INSERT INTO waitroom_events
            (event_id, enabled, starts_at, max_active, per_minute, min_per_minute, adaptive, hold_s,
             admission_ttl_s, rate_per_minute)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (event_id) DO UPDATE SET
            enabled = EXCLUDED.enabled, starts_at = EXCLUDED.starts_at, max_active = EXCLUDED.max_active,
            per_minute = EXCLUDED.per_minute, min_per_minute = EXCLUDED.min_per_minute,
            adaptive = EXCLUDED.adaptive, hold_s = EXCLUDED.hold_s, admission_ttl_s = EXCLUDED.admission_ttl_s,
            rate_per_minute = least(greatest(waitroom_events.rate_per_minute, EXCLUDED.min_per_minute),
                                    EXCLUDED.per_minute),
            updated_at = clock_timestamp()
        RETURNING {_ROOM_COLUMNS}
        """,
        c.event_id,
        c.enabled,
        c.starts_at,
        c.max_active,
        c.per_minute,
        c.min_per_minute,
        c.adaptive,
        c.hold_s,
        c.admission_ttl_s,
        float(c.min_per_minute if c.adaptive else c.per_minute),
    )
    assert row is not None
    return row


async def seat_signatures(conn: asyncpg.Connection, event_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(count, max id) of each event's seats: a change tells an instance to reload that event's seat ids."""
    rows = await conn.fetch(
        "SELECT event_id, count(*) AS n, max(id) AS top FROM seats WHERE event_id = ANY($1::int[]) GROUP BY event_id",
        list(event_ids),
    )
    return {r["event_id"]: (r["n"], r["top"]) for r in rows}


async def seat_ids(conn: asyncpg.Connection, event_id: int) -> list[int]:
    return [r["id"] for r in await conn.fetch("SELECT id FROM seats WHERE event_id = $1", event_id)]


async def revocations_since(conn: asyncpg.Connection, revision: int, limit: int) -> list[asyncpg.Record]:
    """Admissions ended early (revoked, or the visitor left), in revision order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, revision, coalesce(admitted_at, joined_at) AS admitted_at, expires_at
        FROM waitroom_visitors WHERE revision > $1 AND state IN ('REVOKED', 'LEFT')
        ORDER BY revision LIMIT $2
        """,
        revision,
        limit,
    )
    return rows


# --- visitors -----------------------------------------------------------------------------------

_REQUEUE = "(w.state IN ('EXPIRED', 'LEFT', 'DROPPED') OR (w.state = 'ADMITTED' AND w.expires_at <= clock_timestamp()))"


async def join(conn: asyncpg.Connection, joins: Sequence[tuple[int, str, bool]]) -> list[asyncpg.Record]:
    """Each (event, user, before the start?) visitor's row, new (`created`) or the existing one with
    its place (a second tab, a re-join); one statement for a whole batch of joins.

    Later arrivals rank in the order given (first come, first served: the arrival sequence is drawn
    after sorting). A visitor whose admission lapsed, who left or was dropped queues again at the
    back; a revoked one stays revoked. Each (event, user) at most once per call.
    """
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        INSERT INTO waitroom_visitors AS w (event_id, user_id, rank)
        SELECT j.event_id, j.user_id,
               CASE WHEN j.prestart THEN floor(random() * {PRESTART_RANKS})::bigint
                    ELSE {PRESTART_RANKS}::bigint + nextval('waitroom_arrival_seq') END
        FROM unnest($1::int[], $2::text[], $3::bool[]) WITH ORDINALITY AS j(event_id, user_id, prestart, n)
        ORDER BY j.n
        ON CONFLICT (event_id, user_id) DO UPDATE SET
            rank = CASE WHEN {_REQUEUE} THEN EXCLUDED.rank ELSE w.rank END,
            joined_at = CASE WHEN {_REQUEUE} THEN clock_timestamp() ELSE w.joined_at END,
            admitted_at = CASE WHEN {_REQUEUE} THEN NULL ELSE w.admitted_at END,
            expires_at = CASE WHEN {_REQUEUE} THEN NULL ELSE w.expires_at END,
            claimed_at = CASE WHEN {_REQUEUE} THEN NULL ELSE w.claimed_at END,
            missed_at = CASE WHEN {_REQUEUE} THEN NULL ELSE w.missed_at END,
            state = CASE WHEN {_REQUEUE} THEN 'WAITING' ELSE w.state END,
            last_seen = clock_timestamp()
        RETURNING {VISITOR_COLUMNS}, (xmax = 0) AS created
        """,
        [e for e, _, _ in joins],
        [u for _, u, _ in joins],
        [p for _, _, p in joins],
    )
    return rows


async def visitor(conn: asyncpg.Connection, event_id: int, user_id: str, touch_after_s: float) -> asyncpg.Record | None:
    """The visitor's row, as one poll sees it; one statement.

    An admission not yet fetched is claimed here (`claimed_at`): only a claimed admission is handed
    out, since the leader may meanwhile send an unclaimed one back to the queue. A waiting visitor's
    `last_seen` moves at most every `touch_after_s`, or at once after a missed turn (it is present
    again and may be admitted).
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        WITH claim AS (
            UPDATE waitroom_visitors SET claimed_at = clock_timestamp(), last_seen = clock_timestamp()
            WHERE event_id = $1 AND user_id = $2 AND state = 'ADMITTED' AND claimed_at IS NULL
              AND expires_at > clock_timestamp()
            RETURNING {VISITOR_COLUMNS}
        ),
        v AS (SELECT {VISITOR_COLUMNS}, missed_at FROM waitroom_visitors WHERE event_id = $1 AND user_id = $2),
        touched AS (
            UPDATE waitroom_visitors w SET last_seen = clock_timestamp() FROM v
            WHERE w.id = v.id AND v.state = 'WAITING'
              AND (v.last_seen < clock_timestamp() - make_interval(secs => $3)
                   OR (v.missed_at IS NOT NULL AND v.last_seen <= v.missed_at))
        )
        SELECT * FROM claim
        UNION ALL
        SELECT {VISITOR_COLUMNS} FROM v WHERE NOT EXISTS (SELECT 1 FROM claim)
        """,
        event_id,
        user_id,
        touch_after_s,
    )
    return row


async def touch(conn: asyncpg.Connection, visitor_ids: Sequence[int]) -> list[int]:
    """Mark waiting visitors present (their polls were answered from memory): the ids still waiting.

    Rows another transaction holds (an admission step admitting them) are skipped, never waited for:
    the statement cannot deadlock with a step, and a skipped visitor is treated as no longer waiting
    (its next poll reads the store).
    """
    rows = await conn.fetch(
        """
        UPDATE waitroom_visitors SET last_seen = clock_timestamp()
        WHERE id IN (SELECT id FROM waitroom_visitors WHERE id = ANY($1::bigint[]) AND state = 'WAITING'
                     FOR UPDATE SKIP LOCKED)
        RETURNING id
        """,
        list(visitor_ids),
    )
    return [r["id"] for r in rows]


async def leave(conn: asyncpg.Connection, event_id: int, user_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        UPDATE waitroom_visitors SET state = 'LEFT', revision = nextval('waitroom_revision_seq')
        WHERE event_id = $1 AND user_id = $2 AND state IN ('WAITING', 'ADMITTED')
        RETURNING {VISITOR_COLUMNS}
        """,
        event_id,
        user_id,
    )
    return row


async def end_purchased(conn: asyncpg.Connection, buyers: Sequence[tuple[int, str]]) -> list[asyncpg.Record]:
    """End the admissions of these (event, user) buyers as a leave would (`LEFT`, a new revision that
    every process follows to refuse their tokens): (id, admitted_at) of each admission ended. One
    statement for a batch; rows are locked in id order, so concurrent batches queue, never deadlock."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH ended AS (
            SELECT w.id FROM waitroom_visitors w
            JOIN unnest($1::int[], $2::text[]) AS b(event_id, user_id)
              ON w.event_id = b.event_id AND w.user_id = b.user_id
            WHERE w.state = 'ADMITTED'
            ORDER BY w.id FOR NO KEY UPDATE OF w
        )
        UPDATE waitroom_visitors w SET state = 'LEFT', revision = nextval('waitroom_revision_seq')
        FROM ended WHERE w.id = ended.id AND w.state = 'ADMITTED'
        RETURNING w.id, w.admitted_at
        """,
        [e for e, _ in buyers],
        [u for _, u in buyers],
    )
    return rows


async def revoke_user(conn: asyncpg.Connection, event_id: int, user_id: str) -> int:
    done: str = await conn.execute(
        """
        UPDATE waitroom_visitors SET state = 'REVOKED', revision = nextval('waitroom_revision_seq')
        WHERE event_id = $1 AND user_id = $2 AND state IN ('WAITING', 'ADMITTED')
        """,
        event_id,
        user_id,
    )
    return int(done.split()[-1])


async def revoke_all(conn: asyncpg.Connection, event_id: int) -> int:
    """Every admission so far ends: tokens issued before now are refused; the queue keeps waiting."""
    await conn.execute("UPDATE waitroom_events SET revoked_before = clock_timestamp() WHERE event_id = $1", event_id)
    done: str = await conn.execute(
        """
        UPDATE waitroom_visitors SET state = 'REVOKED', revision = nextval('waitroom_revision_seq')
        WHERE event_id = $1 AND state = 'ADMITTED'
        """,
        event_id,
    )
    return int(done.split()[-1])


async def waiting_ranks(conn: asyncpg.Connection, event_id: int) -> list[int]:
    """The ranks of everyone waiting, in queue order: positions are counted against this."""
    rows = await conn.fetch(
        "SELECT rank FROM waitroom_visitors WHERE event_id = $1 AND state = 'WAITING' ORDER BY rank", event_id
    )
    return [r["rank"] for r in rows]


# --- the admission step (one leader per event at a time) ---------------------------------------


async def lock_due(conn: asyncpg.Connection, event_id: int, interval_s: float) -> asyncpg.Record | None:
    """The room's row, locked, when it is on, open and due a step; None when another instance has it.

    `FOR NO KEY UPDATE`, not `FOR UPDATE`: it excludes other leaders all the same, but not the
    key-share lock each join's foreign-key check takes on this row, so joins never wait for a step."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""
        SELECT {_ROOM_COLUMNS}, carry, ticked_at, clock_timestamp() AS now FROM waitroom_events
        WHERE event_id = $1 AND enabled AND starts_at <= clock_timestamp()
          AND ticked_at <= clock_timestamp() - make_interval(secs => $2)
        FOR NO KEY UPDATE SKIP LOCKED
        """,
        event_id,
        interval_s,
    )
    return row


async def release_unclaimed(conn: asyncpg.Connection, event_id: int, pickup_s: float) -> int:
    """Admissions nobody fetched within `pickup_s` go back to the queue at their rank (no token was
    ever handed out for them), so a visitor asleep through its turn does not hold a buyer's slot."""
    done: str = await conn.execute(
        """
        UPDATE waitroom_visitors
        SET state = 'WAITING', admitted_at = NULL, expires_at = NULL, missed_at = clock_timestamp()
        WHERE event_id = $1 AND state = 'ADMITTED' AND claimed_at IS NULL
          AND admitted_at < clock_timestamp() - make_interval(secs => $2)
        """,
        event_id,
        pickup_s,
    )
    return int(done.split()[-1])


async def end_lapsed(conn: asyncpg.Connection, event_id: int, hold_s: int) -> tuple[int, int]:
    """Expire lapsed admissions and drop visitors who stopped polling longer than `hold_s`: (expired, dropped)."""
    expired: str = await conn.execute(
        """
        UPDATE waitroom_visitors SET state = 'EXPIRED'
        WHERE event_id = $1 AND state = 'ADMITTED' AND expires_at <= clock_timestamp()
        """,
        event_id,
    )
    dropped: str = await conn.execute(
        """
        UPDATE waitroom_visitors SET state = 'DROPPED'
        WHERE event_id = $1 AND state = 'WAITING' AND last_seen < clock_timestamp() - make_interval(secs => $2)
        """,
        event_id,
        hold_s,
    )
    return int(expired.split()[-1]), int(dropped.split()[-1])


async def counts(conn: asyncpg.Connection, event_id: int) -> tuple[int, int]:
    """(waiting, active) now."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE state = 'WAITING') AS waiting,
               count(*) FILTER (WHERE state = 'ADMITTED' AND expires_at > clock_timestamp()) AS active
        FROM waitroom_visitors WHERE event_id = $1 AND state IN ('WAITING', 'ADMITTED')
        """,
        event_id,
    )
    assert row is not None
    return int(row["waiting"]), int(row["active"])


async def admit(conn: asyncpg.Connection, event_id: int, count: int, ttl_s: int) -> list[tuple[float, int]]:
    """Admit the first `count` waiting visitors in rank order: (wait in seconds, rank) of each."""
    if count <= 0:
        return []
    rows = await conn.fetch(
        """
        UPDATE waitroom_visitors w
        SET state = 'ADMITTED', admitted_at = clock_timestamp(),
            expires_at = date_trunc('second', clock_timestamp() + make_interval(secs => $3))
        FROM waitroom_events e,
             (SELECT id FROM waitroom_visitors WHERE event_id = $1 AND state = 'WAITING'
                AND (missed_at IS NULL OR last_seen > missed_at)
              ORDER BY rank LIMIT $2 FOR UPDATE) next
        WHERE w.id = next.id AND e.event_id = $1
        RETURNING extract(epoch FROM clock_timestamp() - greatest(w.joined_at, e.starts_at))::float8 AS waited,
                  w.rank
        """,
        event_id,
        count,
        ttl_s,
    )
    return [(float(r["waited"]), int(r["rank"])) for r in rows]


async def finish_step(
    conn: asyncpg.Connection,
    event_id: int,
    rate: float,
    carry: float,
    admitted: int,
    waiting: int,
    active: int,
    frontier: int,
) -> int:
    """Store the step's outcome; the room's frontier (highest rank ever admitted) after it."""
    moved: int = await conn.fetchval(
        """
        UPDATE waitroom_events SET rate_per_minute = $2, carry = $3, admitted_total = admitted_total + $4,
            waiting = $5, active = $6, ticked_at = clock_timestamp(), frontier = greatest(frontier, $7)
        WHERE event_id = $1
        RETURNING frontier
        """,
        event_id,
        rate,
        carry,
        admitted,
        waiting,
        active,
        frontier,
    )
    return moved


# --- health samples ------------------------------------------------------------------------------


async def publish_health(
    conn: asyncpg.Connection, instance: str, requests: int, unavailable: int, p99_ms: float | None, saturation: float
) -> None:
    await conn.execute(
        """
        INSERT INTO waitroom_health (instance, sampled_at, requests, unavailable, p99_ms, saturation)
        VALUES ($1, clock_timestamp(), $2, $3, $4, $5)
        ON CONFLICT (instance) DO UPDATE SET sampled_at = EXCLUDED.sampled_at, requests = EXCLUDED.requests,
            unavailable = EXCLUDED.unavailable, p99_ms = EXCLUDED.p99_ms, saturation = EXCLUDED.saturation
        """,
        instance,
        requests,
        unavailable,
        p99_ms,
        saturation,
    )


async def recent_health(conn: asyncpg.Connection, window_s: float) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT requests, unavailable, p99_ms, saturation FROM waitroom_health
        WHERE sampled_at > clock_timestamp() - make_interval(secs => $1)
        """,
        window_s,
    )
    return rows
