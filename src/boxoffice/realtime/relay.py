"""Outbox relay: each process reads `seat_events` by sequence and fans out to its own subscribers.

The outbox row is written in the same statement as the seat change, so a committed change is
never lost: whichever process made it, every relay reads it from PostgreSQL. The Redis doorbell
only shortens the wait; a missed ring (Redis down, publisher killed after commit) costs at most
one poll interval.

Sequence holes: identity values are handed out before commit, so seq N+1 can become visible
before N. The relay delivers only the contiguous run after its cursor. A hole that persists is
settled, not guessed: every transaction that could still insert a row into `seat_events` holds
its RowExclusiveLock (taken before the identity value is drawn). Once all holders seen after the
hole appeared have ended, a re-read shows each missing seq either committed or gone for good.

A holder may stay open for as long as it likes, and every subscriber would wait with it. So the
wait is bounded (`hole_max_wait_s`): then the relay delivers what has committed past the hole and
keeps the missing values as *passed* holes, with the transactions that may still fill them. If one
commits later, its row is appended to the outbox again (`outbox.republish`), so the change gets a
sequence value above every delivery and snapshot watermark made without it and reaches clients
like any other change; once those transactions have all ended, the values left are dropped.

Topics: each event's changes go to its own topic, so a subscriber sees only some sequence values.
Every message carries `prevSequence`, the sequence of the previous change of the same event (this
relay delivers in sequence order, so it knows). A client that has seen everything up to L has
missed nothing iff `prevSequence <= L`; a snapshot's `sequence` is such an L.

A transaction that drew a sequence value and stays open holds back every subscriber's delivery for
at most `hole_max_wait_s`: `relay_hole_wait_seconds` says for how long, `relay_open_holes` and
`relay_hole_age_seconds` what was passed and how old it is, and log lines name the blocking
sessions (pid, application_name, transaction age) when the relay passes them and every few seconds.

The relay loop and the doorbell listener run under the supervisor (`observability.tasks`): they
raise on any failure, and the supervisor logs, counts, backs off and runs them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis

from boxoffice import wire
from boxoffice.observability.metrics import RELAY_HOLE_AGE, RELAY_HOLE_WAIT, RELAY_OPEN_HOLES, RELAY_REPUBLISHED
from boxoffice.realtime.hub import Event, Hub
from boxoffice.storage import outbox
from boxoffice.storage.outbox import Mark, SeatChange

log = logging.getLogger("boxoffice.realtime")

# Events replayed (to nobody) at start-up so that a row committed late by a transaction that was
# in flight when this process started is not skipped.
STARTUP_WINDOW = 1000
HOLE_LOG_AFTER_S = 1.0
HOLE_LOG_INTERVAL_S = 5.0
"""A hole that open transactions keep open is reported once it lasts HOLE_LOG_AFTER_S, then this often."""


@dataclass(slots=True)
class _Hole:
    first: int
    since: float
    top: int
    writers: frozenset[str] | None = None
    recheck_s: float = 0.0
    """Grows while writers keep the hole open, so a long transaction is not polled 200 times a second."""
    logged_at: float = 0.0


@dataclass(slots=True)
class _Passed:
    """Sequence values delivered past while transactions that may still commit them were open."""

    runs: list[tuple[int, int]]
    """The values still missing, as inclusive runs."""
    writers: frozenset[str]
    """The transactions that may still commit one of them."""
    since: float
    logged_at: float

    @property
    def count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.runs)


def missing_runs(after: int, upto: int, present: Sequence[int]) -> list[tuple[int, int]]:
    """The values in (after, upto] that `present` (ascending, within that range) lacks, as inclusive runs."""
    runs = []
    expected = after + 1
    for seq in present:
        if seq > expected:
            runs.append((expected, seq - 1))
        expected = seq + 1
    if expected <= upto:
        runs.append((expected, upto))
    return runs


def event_from_change(change: SeatChange, prev: int) -> Event:
    body = orjson.dumps(wire.seat_change_json(change.seat, change.seq, prev, change.area_available))
    return Event.from_json(change.seq, change.seat.event_id, body)


class OutboxRelay:
    def __init__(
        self,
        database_url: str,
        hub: Hub,
        *,
        poll_s: float,
        batch: int,
        hole_grace_s: float,
        hole_max_wait_s: float = 1.0,
        hole_recheck_s: float = 0.005,
        coalesce_s: float = 0.0,
    ) -> None:
        self._url = database_url
        self._coalesce_s = coalesce_s
        """Least time between two reads: under load one read takes many commits, not one each."""
        self._last_read = 0.0
        self._hub = hub
        self._poll_s = poll_s
        self._batch = batch
        self._hole_grace_s = hole_grace_s
        self._hole_recheck_s = hole_recheck_s
        self._hole_max_wait_s = hole_max_wait_s
        self._passed: list[_Passed] = []
        self._next_check = 0.0
        self._wake = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._hole: _Hole | None = None
        self.cursor = 0
        """Every seq <= cursor has been delivered, is known never to commit, or is a passed hole (whose
        change, if it commits, is republished above every watermark given meanwhile)."""
        self.skipped = 0
        self._positioned = False
        self._floor = 0
        """Where this relay started reading: an event with no change seen since changed at or below it."""
        self._last: dict[int, int] = {}
        """Event id -> sequence of its latest change delivered."""

    @property
    def ready(self) -> bool:
        return self._positioned

    async def _position(self) -> None:
        conn = self._conn if self._conn is not None and not self._conn.is_closed() else await self._connect()
        self.cursor = self._floor = max(0, await outbox.top(conn) - STARTUP_WINDOW)
        self._last.clear()
        self._positioned = True

    def wake(self) -> None:
        """A commit rang: read now if someone here is to be told. Otherwise the poll alone keeps the
        cursor (the snapshots' floor) within `poll_s`: under load rings come hundreds of times a second."""
        if self._hub.watching:
            self._wake.set()

    async def stop(self) -> None:
        """Close the connection (the supervisor has already cancelled `run`)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)

    async def _connect(self) -> asyncpg.Connection:
        self._conn = await outbox.connect(self._url)
        return self._conn

    async def run(self) -> None:
        """Connect, position, then deliver until cancelled; raises on any failure.

        The cursor survives a failure (the supervisor runs this again), so nothing committed
        meanwhile is skipped; the connection does not (its state is unknown).
        """
        try:
            if self._conn is None or self._conn.is_closed():
                await self._connect()
            if not self._positioned:
                await self._position()
            while True:
                if (early := self._last_read + self._coalesce_s - time.monotonic()) > 0:
                    await asyncio.sleep(early)
                self._last_read = time.monotonic()
                # Cleared before reading, so a ring that arrives during the read is not lost.
                self._wake.clear()
                delay = await self._drain()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay if delay is not None else self._poll_s):
                        await self._wake.wait()
        except BaseException:
            if self._conn is not None:
                self._conn.terminate()
                self._conn = None
            raise

    async def _drain(self) -> float | None:
        """Deliver everything ready; returns a short delay when a hole must be looked at again."""
        conn = self._conn
        assert conn is not None
        if self._passed and time.monotonic() >= self._next_check:
            await self._check_passed(conn)
        while True:
            # Nobody subscribed here: read only each row's place and event (the seats are needed
            # only to encode messages, and every worker reads every row).
            read = outbox.read_after if self._hub.watching else outbox.marks_after
            rows: Sequence[SeatChange | Mark] = await read(conn, self.cursor, self._batch)
            if not rows:
                await self._check_reset(conn)
                return None
            ready = 0
            for row in rows:
                if row.seq != self.cursor + ready + 1:
                    break
                ready += 1
            await self._deliver(conn, rows[:ready])
            if ready == len(rows):
                self._clear_hole()
                if len(rows) < self._batch:
                    return None
                continue
            first, top, now = self.cursor + 1, rows[-1].seq, time.monotonic()
            hole = self._hole
            if hole is None or hole.first != first:
                self._hole = _Hole(first, now, top, recheck_s=self._hole_recheck_s)
                RELAY_HOLE_WAIT.set(0)
                return self._hole_recheck_s
            RELAY_HOLE_WAIT.set(now - hole.since)
            if hole.writers is None:
                if now - hole.since < self._hole_grace_s:
                    return self._hole_recheck_s
                hole.writers = blocking = await outbox.writers(conn)
                hole.top = top
            else:
                blocking = hole.writers & await outbox.writers(conn)
            if blocking and now - hole.since < self._hole_max_wait_s:
                return await self._wait_on(conn, hole, blocking, now)
            # Every transaction that could still commit a seq <= hole.top has ended, or the ones left
            # have held delivery back long enough: what has committed up to hole.top goes out now.
            settled = await outbox.read_range(conn, self.cursor, hole.top)
            after = self.cursor
            await self._deliver(conn, settled)
            self.cursor = hole.top
            self._clear_hole()
            if blocking:
                await self._pass(conn, hole, missing_runs(after, hole.top, [c.seq for c in settled]), blocking)
            elif missing := hole.top - after - len(settled):
                self.skipped += missing
                log.info("relay: %d outbox sequence value(s) below %d never committed; skipped", missing, hole.top)

    def _clear_hole(self) -> None:
        if self._hole is not None:
            self._hole = None
            RELAY_HOLE_WAIT.set(0)

    async def _wait_on(self, conn: asyncpg.Connection, hole: _Hole, blocking: frozenset[str], now: float) -> float:
        """Keep waiting (up to the bound) for the open transactions that may still commit below
        `hole.top`; say who they are."""
        waited = now - hole.since
        if waited >= HOLE_LOG_AFTER_S and (not hole.logged_at or now - hole.logged_at >= HOLE_LOG_INTERVAL_S):
            hole.logged_at = now
            log.warning(
                "relay_hole_wait first_missing_seq=%d waited_s=%.1f blocking=%s",
                hole.first,
                waited,
                await self._describe(conn, blocking),
            )
        delay = min(hole.recheck_s, hole.since + self._hole_max_wait_s - now)
        hole.recheck_s = min(hole.recheck_s * 2, self._poll_s)
        return max(delay, 0.001)

    async def _describe(self, conn: asyncpg.Connection, transactions: frozenset[str]) -> str:
        writers = await outbox.writer_details(conn, transactions)
        return (
            ", ".join(
                f"pid={w.pid} application_name={w.application_name!r} xact_age_s="
                + ("?" if w.xact_age_s is None else f"{w.xact_age_s:.1f}")
                for w in writers
            )
            or "none"
        )

    async def _pass(
        self, conn: asyncpg.Connection, hole: _Hole, runs: list[tuple[int, int]], blocking: frozenset[str]
    ) -> None:
        """Stop holding delivery back for `runs`: from now on they are watched, not waited for."""
        now = time.monotonic()
        if not runs:  # the holders committed everything in the meantime
            return
        if not self._passed:
            self._next_check = now + self._poll_s
        passed = _Passed(runs, blocking, hole.since, now)
        self._passed.append(passed)
        log.warning(
            "relay_hole_passed first_missing_seq=%d missing=%d waited_s=%.1f blocking=%s",
            runs[0][0],
            passed.count,
            now - hole.since,
            await self._describe(conn, blocking),
        )
        self._export(now)

    async def _check_passed(self, conn: asyncpg.Connection) -> None:
        """Republish what committed among the passed values; drop them once nobody can commit them."""
        self._next_check = time.monotonic() + self._poll_s
        # Holders first, then the values: a holder gone at the first read has committed or rolled
        # back before the second, so what it committed is seen.
        current = await outbox.writers(conn)
        for passed in self._passed:
            passed.writers &= current
        late = await outbox.committed_in(conn, [run for passed in self._passed for run in passed.runs])
        if late:
            copies = await outbox.republish(conn, late)
            RELAY_REPUBLISHED.inc(copies)
            log.info("relay: %d change(s) committed after the relay passed them; %d republished", len(late), copies)
            found = set(late)
            for passed in self._passed:
                passed.runs = [
                    run
                    for lo, hi in passed.runs
                    for run in missing_runs(lo - 1, hi, sorted(s for s in found if lo <= s <= hi))
                ]
        now = time.monotonic()
        kept = []
        for passed in self._passed:
            if passed.writers and passed.runs:
                kept.append(passed)
                if now - passed.logged_at >= HOLE_LOG_INTERVAL_S:
                    passed.logged_at = now
                    log.warning(
                        "relay_hole_open first_missing_seq=%d missing=%d open_s=%.1f blocking=%s",
                        passed.runs[0][0],
                        passed.count,
                        now - passed.since,
                        await self._describe(conn, passed.writers),
                    )
            elif passed.runs:
                self.skipped += passed.count
                log.info("relay: %d passed outbox sequence value(s) never committed; dropped", passed.count)
        self._passed = kept
        self._export(now)

    def _export(self, now: float) -> None:
        RELAY_OPEN_HOLES.set(sum(passed.count for passed in self._passed))
        RELAY_HOLE_AGE.set(now - min(passed.since for passed in self._passed) if self._passed else 0)

    @property
    def open_holes(self) -> int:
        """Sequence values delivered past that may still commit."""
        return sum(passed.count for passed in self._passed)

    async def _check_reset(self, conn: asyncpg.Connection) -> None:
        """`seed --reset` restarts the sequence: follow it, and make every client resynchronise."""
        top = await outbox.top(conn)
        if top < self.cursor:
            log.warning("relay: outbox sequence went back from %d to %d (reset); clients must resync", self.cursor, top)
            self.cursor = self._floor = top
            self._last.clear()
            self._clear_hole()
            self._passed.clear()
            self._export(time.monotonic())
            self._hub.reset()

    async def _deliver(self, conn: asyncpg.Connection, rows: Sequence[SeatChange | Mark]) -> None:
        """Publish the contiguous `rows` to their events' subscribers and move the cursor past them.

        Every row still moves its event's last sequence, so the first message a later subscriber
        gets carries the right `prevSequence`. Rows read as marks are read again in full if someone
        subscribed while they were read: the subscription may be newer than its snapshot's sequence.
        """
        if not rows:
            return
        if isinstance(rows[0], Mark) and self._hub.watching:
            rows = await outbox.read_range(conn, rows[0].seq - 1, rows[-1].seq)
        events = []
        watches = self._hub.watches
        for row in rows:
            if isinstance(row, Mark):
                event_id = row.event_id
            else:
                event_id = row.seat.event_id
                if watches(event_id):
                    events.append(event_from_change(row, self._last.get(event_id, self._floor)))
            self._last[event_id] = row.seq
        if events:
            self._hub.publish(events)
        self.cursor = rows[-1].seq


class RedisDoorbell:
    """Cross-process wake-up after commit. At-most-once by nature, so only ever a hint."""

    def __init__(
        self,
        subscriber: Callable[[], aioredis.Redis],
        channel: str,
        publisher: aioredis.Redis,
        on_ring: Callable[[], None],
        coalesce_s: float = 0.0,
    ) -> None:
        self._subscriber = subscriber
        """Makes the listener's own client (its connection is held by the subscription for ever)."""
        self._coalesce_s = coalesce_s
        """After a PUBLISH, rings gather this long before the next: a trickle rings at once, a flood
        costs one PUBLISH per interval instead of one per Redis round trip."""
        self._channel = channel
        self._publisher = publisher
        self._on_ring = on_ring
        self._token = f"{id(self):x}-{time.monotonic_ns():x}".encode()
        self._publishing = False
        self._again = False
        self._tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        """Cancel publishes in flight (the listener belongs to the supervisor)."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def ring(self, *_: object) -> None:
        """Never blocks the caller: rings are coalesced into at most one PUBLISH in flight."""
        self._on_ring()
        if self._publishing:
            self._again = True
            return
        self._publishing = True
        task = asyncio.get_running_loop().create_task(self._publish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    await self._publisher.publish(self._channel, self._token)
                except Exception as exc:  # Redis down: the relays' poll covers for it
                    log.debug("doorbell publish failed: %s", exc)
                if not self._again:
                    return
                await asyncio.sleep(self._coalesce_s)
        finally:
            self._publishing = False

    async def listen(self) -> None:
        """Subscribe and wake the relay on every other process's ring, until cancelled; raises on any
        failure (Redis down), and the supervisor retries with backoff."""
        client = self._subscriber()
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(self._channel)
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("data") != self._token:
                        self._on_ring()
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()
