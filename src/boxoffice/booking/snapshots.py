"""Seat snapshots shared for a short while: one database read per event serves many clients.

A seat map of 20,000 seats is about 5 MB of JSON; 1,000 clients loading it at once would cost
1,000 repeatable-read queries and 1,000 serialisations. `SnapshotCache` keeps one rendered
body per (route, event) for `BOXOFFICE_SNAPSHOT_CACHE_MS`, serialised once and compressed once
per content coding (gzip, br) on first use, and lets concurrent misses share one read.

The snapshot-then-deltas protocol stays exact (docs/realtime.md#snapshot-cache). A client
subscribes, then loads a snapshot, and drops deltas with `sequence <= snapshot.sequence`. That
is only safe if the snapshot reflects the database at a moment after the client subscribed:
a change delivered before the subscription is never delivered again. A body read before the
request arrived does not, by itself, say that; so a cached body is served only when

- its read started after the request arrived (the request shared a read), or
- a check that started after the request arrived found no outbox row of the event above the
  body's watermark (`storage.seats.changed_since`, one index range scan over the few newest
  rows): every change of the event committed after the read has a sequence above the
  watermark, so none was committed since and the body is still the database's state.

Checks of one body are shared the same way (one in flight; a request waits for one that
started after it arrived), so the database sees at most one tiny query per body at a time and
one snapshot read per event and TTL while nothing changes. A body also expires at its first hold's
expiry (a lapsed hold reads AVAILABLE without an outbox row). Only public data enters the
cache: the bodies are rendered from the inventory alone, never from who asks.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import zlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import brotli
import orjson

from boxoffice.booking.service import BookingService
from boxoffice.domain import Inventory
from boxoffice.observability.metrics import SNAPSHOT_CACHE
from boxoffice.storage import seats
from boxoffice.storage.db import Database

T = TypeVar("T")

Coding = Literal["br", "gzip", "identity"]
CODINGS: tuple[Coding, ...] = ("br", "gzip")
"""Content codings the server produces, in order of preference."""
GZIP_LEVEL = 6
BROTLI_QUALITY = 5
"""Measured on a 20,000-seat body (4.7 MB): br 5 gives 61 KB in 140 ms, gzip 6 136 KB in 70 ms;
brotli 11 would take seconds. Compression runs in a worker thread (both libraries release the GIL)."""
MAX_ENTRIES = 64
"""Bodies kept at once per worker; each lives at most one TTL, so this only bounds a burst of events."""

_HIT, _MISS, _JOINED, _OFF = (SNAPSHOT_CACHE.labels(r) for r in ("hit", "miss", "joined", "off"))


def encode(body: bytes, coding: Coding) -> bytes:
    """`body` in a content coding (gzip with a header and trailer, as HTTP wants it)."""
    if coding == "br":
        compressed: bytes = brotli.compress(body, quality=BROTLI_QUALITY)
        return compressed
    if coding == "gzip":
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return compressor.compress(body) + compressor.flush()
    return body


class Fresh(Generic[T]):
    """One call in flight at a time; each caller gets the result of a call that started after it arrived.

    `arrival` is a ticket from `Tickets.now()`, taken when the request arrived. A caller that finds
    a call in flight which started after its ticket shares it; otherwise it waits for that call
    to end and the first of the waiters starts the next one, which the others then share.
    """

    def __init__(self, tickets: Tickets) -> None:
        self._tickets = tickets
        self._task: asyncio.Future[T] | None = None
        self._started = 0

    async def run(self, arrival: int, call: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The result, and whether this caller started the call."""
        while True:
            task = self._task
            if task is None:
                self._started = self._tickets.next()
                task = self._task = asyncio.ensure_future(call())
                task.add_done_callback(self._done)
                return await asyncio.shield(task), True
            if self._started > arrival:
                return await asyncio.shield(task), False
            await asyncio.wait([task])

    @property
    def idle(self) -> bool:
        return self._task is None

    def busy_before(self, arrival: int) -> bool:
        """A call is in flight that started before `arrival`."""
        return self._task is not None and self._started <= arrival

    async def settled(self) -> None:
        """Until the call in flight (if any) has ended, however it ended."""
        if self._task is not None:
            await asyncio.wait([self._task])

    def _done(self, task: asyncio.Future[T]) -> None:
        if self._task is task:
            self._task = None
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone (clients hung up)


class Tickets:
    """A strictly increasing counter: 'started after arrived' without relying on clock resolution."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0

    def now(self) -> int:
        return self._last

    def next(self) -> int:
        self._last = next(self._counter)
        return self._last


@dataclass(slots=True, eq=False)
class Snapshot:
    """One rendered public body, its watermark, and its encodings made on first use."""

    event_id: int
    sequence: int
    epoch: int
    """The outbox's identity, read before the snapshot (storage.seats.outbox_epoch)."""
    body: bytes
    read_ticket: int
    """Taken just before the read started."""
    expires: float
    """time.monotonic() after which the body is not served (TTL, or the first hold expiry in it)."""
    checks: Fresh[bool]
    _encoded: dict[Coding, asyncio.Future[bytes]] = field(default_factory=dict)

    async def encoded(self, coding: Coding) -> bytes:
        """The body in `coding`, compressed once (in a thread) whoever asks first."""
        if coding == "identity":
            return self.body
        future = self._encoded.get(coding)
        if future is None:
            future = self._encoded[coding] = asyncio.ensure_future(asyncio.to_thread(encode, self.body, coding))
        try:
            return await asyncio.shield(future)
        except Exception:
            if self._encoded.get(coding) is future:
                del self._encoded[coding]
            raise


Payload = Callable[[Inventory], dict[str, Any] | list[dict[str, Any]]]
"""Renders the public JSON of an inventory; runs in a worker thread, so it must not touch the loop."""
Prepare = Callable[[], Awaitable[Payload]]
"""Runs first, in the loop (e.g. loads the event, raising EventNotFound), and returns the renderer."""


class SnapshotCache:
    def __init__(
        self,
        db: Database,
        bookings: BookingService,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._bookings = bookings
        self.ttl_s = ttl_s
        self._clock = clock
        self._tickets = Tickets()
        self._entries: dict[Hashable, Snapshot] = {}
        self._reads: dict[Hashable, Fresh[Snapshot]] = {}

    async def get(self, key: Hashable, event_id: int, prepare: Prepare) -> Snapshot:
        """A snapshot of `event_id` that reflects the database at a moment after this call began."""
        if self.ttl_s <= 0:
            _OFF.inc()
            return await self._read(event_id, prepare, self._tickets.next())
        arrival = self._tickets.now()
        while True:
            entry = self._entries.get(key)
            if entry is not None and self._clock() < entry.expires:
                if entry.read_ticket > arrival or await self._unchanged(entry, arrival):
                    _HIT.inc()
                    return entry
                if self._entries.get(key) is entry:
                    del self._entries[key]
            reads = self._reads.get(key)
            if reads is None:
                reads = self._reads[key] = Fresh(self._tickets)
            elif reads.busy_before(arrival):
                # A read that started before this request is running: once it ends, its body is
                # usually still current, and checking that is far cheaper than a read of our own.
                await reads.settled()
                continue
            try:
                snapshot, started = await reads.run(arrival, lambda: self._fill(key, event_id, prepare))
            finally:
                if reads.idle and self._reads.get(key) is reads:
                    del self._reads[key]  # keys come from URLs: keep only those with a read in flight
            (_MISS if started else _JOINED).inc()
            return snapshot

    async def _unchanged(self, entry: Snapshot, arrival: int) -> bool:
        async def check() -> bool:
            async with self._db.connection() as conn:
                return not await seats.changed_since(conn, entry.event_id, entry.sequence, entry.epoch)

        unchanged, _ = await entry.checks.run(arrival, check)
        return unchanged

    async def _fill(self, key: Hashable, event_id: int, prepare: Prepare) -> Snapshot:
        snapshot = await self._read(event_id, prepare, self._tickets.next())
        now = self._clock()
        for stale in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[stale]
        if len(self._entries) >= MAX_ENTRIES:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].expires)]
        self._entries[key] = snapshot
        return snapshot

    async def _read(self, event_id: int, prepare: Prepare, ticket: int) -> Snapshot:
        payload = await prepare()
        async with self._db.connection() as conn:
            epoch = await seats.outbox_epoch(conn)
        began = datetime.now(UTC)
        inventory = await self._bookings.inventory(event_id)
        # After the read: a hold placed since is a change the checks see; one lapsing since `began`
        # (seats and GA tickets alike) ends the body's life.
        async with self._db.connection() as conn:
            first_lapse = await seats.first_hold_expiry(conn, event_id, began)
        body = await asyncio.to_thread(_render, payload, inventory)
        # From the end of the read: the TTL only bounds how long a body may be checked and reused
        # (correctness comes from the checks), and a slow read must not leave a body born expired.
        done = self._clock()
        expires = done + self.ttl_s
        if first_lapse is not None:
            expires = min(expires, done + (first_lapse - datetime.now(UTC)).total_seconds())
        return Snapshot(event_id, inventory.sequence, epoch, body, ticket, expires, Fresh(self._tickets))


def _render(payload: Payload, inventory: Inventory) -> bytes:
    return orjson.dumps(payload(inventory))
