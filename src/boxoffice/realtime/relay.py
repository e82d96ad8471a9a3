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

Topics: each event's changes go to its own topic, so a subscriber sees only some sequence values.
Every message carries `prevSequence`, the sequence of the previous change of the same event (this
relay delivers in sequence order, so it knows). A client that has seen everything up to L has
missed nothing iff `prevSequence <= L`; a snapshot's `sequence` is such an L.
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
from boxoffice.realtime.hub import Event, Hub
from boxoffice.storage import outbox
from boxoffice.storage.outbox import SeatChange

log = logging.getLogger("boxoffice.realtime")

# Events replayed (to nobody) at start-up so that a row committed late by a transaction that was
# in flight when this process started is not skipped.
STARTUP_WINDOW = 1000


@dataclass(slots=True)
class _Hole:
    first: int
    since: float
    top: int
    writers: frozenset[str] | None = None


def event_from_change(change: SeatChange, prev: int) -> Event:
    body = orjson.dumps(wire.seat_change_json(change.seat, change.seq, prev))
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
        self._wake = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._hole: _Hole | None = None
        self.cursor = 0
        """Every seq <= cursor has been delivered or is known never to commit."""
        self.skipped = 0
        self._positioned = False
        self._floor = 0
        """Where this relay started reading: an event with no change seen since changed at or below it."""
        self._last: dict[int, int] = {}
        """Event id -> sequence of its latest change delivered."""

    async def start(self) -> None:
        """Position the cursor now if the database answers; otherwise the relay keeps trying in
        the background and the API serves bookings meanwhile."""
        with contextlib.suppress(Exception):
            await self._position()
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def ready(self) -> bool:
        return self._positioned

    async def _position(self) -> None:
        conn = self._conn if self._conn is not None and not self._conn.is_closed() else await self._connect()
        self.cursor = self._floor = max(0, await outbox.top(conn) - STARTUP_WINDOW)
        self._last.clear()
        self._positioned = True

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)

    async def _connect(self) -> asyncpg.Connection:
        self._conn = await outbox.connect(self._url)
        return self._conn

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    await self._connect()
                if not self._positioned:
                    await self._position()
                if (early := self._last_read + self._coalesce_s - time.monotonic()) > 0:
                    await asyncio.sleep(early)
                self._last_read = time.monotonic()
                delay = await self._drain()
                backoff = 0.1
            except Exception as exc:
                # The cursor survives reconnects: nothing committed meanwhile is skipped.
                expected = isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError | TimeoutError)
                log.warning("relay: %s; retrying in %.1fs", exc.__class__.__name__, backoff, exc_info=not expected)
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay if delay is not None else self._poll_s):
                    await self._wake.wait()

    async def _drain(self) -> float | None:
        """Deliver everything ready; returns a short delay when a hole must be looked at again."""
        conn = self._conn
        assert conn is not None
        while True:
            rows = await outbox.read_after(conn, self.cursor, self._batch)
            if not rows:
                await self._check_reset(conn)
                return None
            ready = 0
            for row in rows:
                if row.seq != self.cursor + ready + 1:
                    break
                ready += 1
            self._deliver(rows[:ready])
            if ready == len(rows):
                self._hole = None
                if len(rows) < self._batch:
                    return None
                continue
            first, top, now = self.cursor + 1, rows[-1].seq, time.monotonic()
            hole = self._hole
            if hole is None or hole.first != first:
                self._hole = _Hole(first, now, top)
                return self._hole_recheck_s
            if hole.writers is None:
                if now - hole.since < self._hole_grace_s:
                    return self._hole_recheck_s
                hole.writers = await outbox.writers(conn)
                hole.top = top
                if hole.writers:
                    return self._hole_recheck_s
            else:
                current = await outbox.writers(conn)
                if hole.writers & current:
                    return self._hole_recheck_s
            # Every transaction that could still commit a seq <= hole.top has ended.
            settled = await outbox.read_range(conn, self.cursor, hole.top)
            missing = hole.top - self.cursor - len(settled)
            if missing:
                self.skipped += missing
                log.info("relay: %d outbox sequence value(s) below %d never committed; skipped", missing, hole.top)
            self._deliver(settled)
            self.cursor = hole.top
            self._hole = None

    async def _check_reset(self, conn: asyncpg.Connection) -> None:
        """`seed --reset` restarts the sequence: follow it, and make every client resynchronise."""
        top = await outbox.top(conn)
        if top < self.cursor:
            log.warning("relay: outbox sequence went back from %d to %d (reset); clients must resync", self.cursor, top)
            self.cursor = self._floor = top
            self._last.clear()
            self._hole = None
            self._hub.reset()

    def _deliver(self, changes: Sequence[SeatChange]) -> None:
        if not changes:
            return
        events = []
        for change in changes:
            event = event_from_change(change, self._last.get(change.seat.event_id, self._floor))
            self._last[event.event_id] = event.seq
            events.append(event)
        self._hub.publish(events)
        self.cursor = changes[-1].seq


class RedisDoorbell:
    """Cross-process wake-up after commit. At-most-once by nature, so only ever a hint."""

    def __init__(
        self,
        url: str,
        channel: str,
        publisher: aioredis.Redis,
        on_ring: Callable[[], None],
        coalesce_s: float = 0.0,
    ) -> None:
        self._url = url
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
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        for task in [self._listener, *self._tasks]:
            if task is not None:
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

    async def _listen(self) -> None:
        backoff = 0.2
        while True:
            client = aioredis.Redis.from_url(self._url, socket_connect_timeout=1.0, health_check_interval=15)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self._channel)
                backoff = 0.2
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("data") != self._token:
                        self._on_ring()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("doorbell listener: %s; retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
