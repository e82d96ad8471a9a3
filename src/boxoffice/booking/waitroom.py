"""The waiting room: per-event gating of holds and bookings, the queue, and adaptive admission.

State lives in PostgreSQL (storage/waitroom.py), so every instance and worker shares one queue and
a restart loses nothing. Each process keeps a cache of the configured rooms, of the seat ids of
gated events and of early-ended admissions, refreshed every tick: the check on the booking path
is then a dictionary lookup and a signature check, no database round trip.

Each tick every process also publishes its measured health (hold and booking p99, 503s, pool
saturation) and tries to run the admission step of each open room; `FOR UPDATE SKIP LOCKED` on the
room's row plus its `ticked_at` make exactly one process decide per step, whichever gets there.

If the store fails, the room fails closed: joining and polling answer 503
WAITING_ROOM_UNAVAILABLE, no admissions are made, and gated events stay gated (the cache keeps
the last configuration it read; a process that never read one refuses gated writes with 503).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from boxoffice.booking.admission import (
    Admission,
    AdmissionTokens,
    Aimd,
    Challenge,
    Health,
    HealthWindow,
    aggregate,
    budget,
    estimated_wait_s,
    next_poll_scale,
    people_ahead,
    poll_after_s,
)
from boxoffice.domain import (
    AdmissionRefused,
    AdmissionRequired,
    BookingError,
    Caller,
    ChallengeFailed,
    EventNotFound,
    VisitorNotFound,
    VisitorState,
    VisitorStatus,
    WaitingRoomConfig,
    WaitingRoomStats,
    WaitingRoomUnavailable,
)
from boxoffice.observability import metrics
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)

PRESTART_POLL_S = 15
"""Early arrivals poll this often until the start is this near."""
PRUNE_EVERY_S = 10.0
"""How often a process forgets the remembered visitors who stopped polling."""
RANKS_MAX_AGE_S = 1.0
"""How old the cached queue order may be when a position is computed."""
REVOCATIONS_PER_REFRESH = 10_000
HEALTH_WINDOW_TICKS = 3
"""The leader reads health samples this many ticks back (instances tick out of phase)."""


def _unavailable(exc: BaseException) -> WaitingRoomUnavailable:
    return WaitingRoomUnavailable(f"The waiting room cannot reach its store ({type(exc).__name__}); nobody is let in")


class _Room:
    """One room as this process last read it."""

    __slots__ = ("active", "admitted_total", "config", "frontier", "rate", "revoked_before", "waiting")

    def __init__(self, row: asyncpg.Record) -> None:
        self.config: WaitingRoomConfig = store.config_of(row)
        self.rate: float = float(row["rate_per_minute"])
        self.waiting: int = int(row["waiting"])
        self.active: int = int(row["active"])
        self.admitted_total: int = int(row["admitted_total"])
        self.frontier: int = int(row["frontier"])
        """The highest rank admitted so far: a visitor ranked above it has not been admitted yet."""
        revoked: datetime | None = row["revoked_before"]
        self.revoked_before: float | None = revoked.timestamp() if revoked else None

    def stats(self) -> WaitingRoomStats:
        revoked = datetime.fromtimestamp(self.revoked_before, UTC) if self.revoked_before else None
        return WaitingRoomStats(self.config, self.waiting, self.active, self.admitted_total, self.rate, revoked)


@dataclass(slots=True)
class _Waiting:
    """A waiting visitor as this process last saw it: enough to answer its polls from memory."""

    visitor_id: int
    rank: int
    joined_at: datetime
    present_at: float
    """When its presence is next due in the store (monotonic): between half and all of the touch
    interval after the last write, drawn at random so that a crowd that joined in one second does
    not fall due in one tick."""


def _next_presence(interval_s: float) -> float:
    return time.monotonic() + interval_s * random.uniform(0.5, 1.0)


async def _gated_room(conn: asyncpg.Connection, event_id: int) -> _Room | None:
    """The room as stored now when its event is gated, None when not; EventNotFound for no such event."""
    row = await store.room(conn, event_id)
    if row is None or not row["enabled"]:
        if not await store.event_exists(conn, event_id):
            raise EventNotFound(event_id)
        return None
    return _Room(row)


class _Joins:
    """Concurrent joins of one process, written together: one statement and one commit per batch,
    the next batch collecting while one is in flight. No timer: a lone join goes out at once.

    Two joins of one visitor in a batch (two tabs) share one row: the first is told whether it
    made a new place, the other that it found the place again. Joining is idempotent, so a batch
    that failed may be retried by its visitors whatever it committed (503 WAITING_ROOM_UNAVAILABLE).
    """

    MAX_BATCH = 500

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[tuple[int, str], tuple[bool, asyncio.Future[asyncpg.Record]]] = {}
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def join(self, event_id: int, user_id: str, prestart: bool) -> tuple[asyncpg.Record, bool]:
        key = (event_id, user_id)
        pending = self._pending.get(key)
        first = pending is None
        if pending is None:
            pending = (prestart, asyncio.get_running_loop().create_future())
            self._pending[key] = pending
            if not self._running:
                self._running = True
                # A context of its own: the batch belongs to no request (nor to its unit of work).
                task = asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        # Shielded: one visitor hanging up neither cancels the batch nor its twin's answer.
        row = await asyncio.shield(pending[1])
        return row, first and bool(row["created"])

    async def _drain(self) -> None:
        try:
            while self._pending:
                keys = list(itertools.islice(self._pending, self.MAX_BATCH))
                batch = [(key, self._pending.pop(key)) for key in keys]
                try:
                    async with self._db.connection(writes=True) as conn:
                        rows = await store.join(conn, [(e, u, prestart) for (e, u), (prestart, _) in batch])
                except Exception as exc:
                    for _, (_, future) in batch:
                        if not future.done():
                            future.set_exception(_unavailable(exc))
                    continue
                found = {(r["event_id"], r["user_id"]): r for r in rows}
                for key, (_, future) in batch:
                    if not future.done():
                        row = found.get(key)
                        if row is None:
                            future.set_exception(WaitingRoomUnavailable("The join was not recorded; join again"))
                        else:
                            future.set_result(row)
        finally:
            self._running = False


class WaitingRoom:
    def __init__(
        self,
        db: Database,
        tokens: Callable[[], AdmissionTokens],
        *,
        tick_s: float,
        aimd: Aimd,
        challenge: Challenge | None = None,
        pool_saturation: Callable[[], float] = lambda: 0.0,
        background: Database | None = None,
        pickup_s: float = 10.0,
    ) -> None:
        self._db = db
        self._bg = background or db
        self.pickup_s = pickup_s
        """The cache refresh and the admission step use a small pool of their own: a crowd that
        exhausts the request pool must not starve the step that lets it in."""
        self._tokens_factory = tokens
        self._tokens: AdmissionTokens | None = None
        self.tick_s = tick_s
        self.aimd = aimd
        self.challenge = challenge
        self._saturation = pool_saturation
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.window = HealthWindow()
        self.poll_scale = 1.0
        """Stretches visitors' Retry-After while this process measures a degraded engine."""
        self._rooms: dict[int, _Room] = {}
        self._gated: frozenset[int] = frozenset()
        self._seat_event: dict[int, int] = {}
        self._seat_sigs: dict[int, tuple[int, int]] = {}
        self._revoked: dict[int, float] = {}
        """Visitor id -> when its admission ended early (revoked or left): tokens admitted before are refused."""
        self._revision = 0
        self._loaded = False
        self._refreshing: asyncio.Lock | None = None
        self._ranks: dict[int, tuple[float, list[int]]] = {}
        self._ranks_lock: dict[int, asyncio.Lock] = {}
        self._waiting: dict[tuple[int, str], _Waiting] = {}
        """(event, user) -> a waiting visitor whose polls this process answers from memory while its
        rank is above the room's frontier (it cannot have been admitted since the last refresh)."""
        self._by_id: dict[int, tuple[int, str]] = {}
        self._present: set[int] = set()
        """Visitor ids polled from memory since the last tick: marked present in the store then."""
        self._store_ok = False
        """The last refresh reached the store; answers from memory only while it does (fail closed)."""
        self._joins = _Joins(db)
        self._pruned_at = time.monotonic()

    @property
    def tokens(self) -> AdmissionTokens:
        if self._tokens is None:
            self._tokens = self._tokens_factory()
        return self._tokens

    @property
    def gates_nothing(self) -> bool:
        """The rooms were read and none gates an event: a write needs no admission and its latency
        paces nothing, so holds and bookings skip both (`Api.admit`, `Api.measured`: one attribute check)."""
        return self._loaded and not self._gated

    # --- the cache ------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Re-read the rooms, the seats of gated events and new revocations (raises if the store fails)."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        try:
            await self._refresh()
        except BaseException:
            self._store_ok = False
            raise

    async def _refresh(self) -> None:
        assert self._refreshing is not None
        async with self._refreshing, self._bg.connection() as conn:
            rooms = {r["event_id"]: _Room(r) for r in await store.rooms(conn)}
            gated = frozenset(e for e, room in rooms.items() if room.config.enabled)
            sigs = await store.seat_signatures(conn, sorted(gated)) if gated else {}
            seat_event = self._seat_event
            if any(self._seat_sigs.get(e) != sigs.get(e) for e in gated) or gated != self._gated:
                seat_event = {}
                for event_id in gated:
                    for seat_id in await store.seat_ids(conn, event_id):
                        seat_event[seat_id] = event_id
            revoked = await store.revocations_since(conn, self._revision, REVOCATIONS_PER_REFRESH)
        for row in revoked:
            self._revoked[row["id"]] = row["admitted_at"].timestamp()
            self._revision = max(self._revision, row["revision"])
        if len(self._revoked) > 4 * REVOCATIONS_PER_REFRESH:
            # Keep the newest: an admission ended this long ago has expired anyway (admission TTL <= 1 day).
            newest = sorted(self._revoked.items(), key=lambda kv: kv[1])[-2 * REVOCATIONS_PER_REFRESH :]
            self._revoked = dict(newest)
        for row in revoked:
            self._forget(row["id"])
        for event_id, room in rooms.items():
            known = self._rooms.get(event_id)
            if known is not None:
                # The frontier only grows: a step of this process may have moved it after this read began.
                room.frontier = max(room.frontier, known.frontier)
            if known is None or known.frontier != room.frontier:
                # Someone was admitted: positions counted against the old order would be too high.
                self._ranks.pop(event_id, None)
        self._rooms, self._gated, self._seat_event, self._seat_sigs = rooms, gated, seat_event, sigs
        self._loaded = self._store_ok = True
        # Totals over the gated events (event ids are not a bounded label set).
        metrics.WAITROOM_WAITING.set(sum(rooms[e].waiting for e in gated))
        metrics.WAITROOM_ACTIVE.set(sum(rooms[e].active for e in gated))
        metrics.WAITROOM_RATE.set(sum(rooms[e].rate for e in gated))

    # --- the gate on holds and bookings ---------------------------------------------------------

    async def check(
        self, caller: Caller, seat_ids: Sequence[int], token: str | None, event_id: int | None = None
    ) -> Admission | None:
        """Raise unless the caller may write these seats (or take seats or GA tickets of `event_id` by
        quantity): an admission token for each gated event among them."""
        if not self._loaded:
            # Which events are gated is unknown until the first read: fail closed with the store's own
            # answer (503 DATABASE_UNAVAILABLE or DATABASE_BUSY: nothing was changed).
            await self.refresh()
        if not self._gated:
            return None
        events = {self._seat_event[s] for s in seat_ids if s in self._seat_event}
        if event_id is not None and event_id in self._gated:
            events.add(event_id)
        if not events:
            return None
        admission: Admission | None = None
        for gated in sorted(events):
            admission = self._admit(caller, gated, token)
        return admission

    def _admit(self, caller: Caller, event_id: int, token: str | None) -> Admission:
        if token is None:
            metrics.WAITROOM_TOKENS_REJECTED.labels("missing").inc()
            raise AdmissionRequired(event_id)
        try:
            admission = self.tokens.verify(token, caller.user_id if caller.authenticated else None, event_id)
            room = self._rooms.get(event_id)
            if room is not None and room.revoked_before is not None and admission.admitted_at <= room.revoked_before:
                raise AdmissionRefused("revoked", "The admission was revoked by an operator")
            ended = self._revoked.get(admission.visitor_id)
            if ended is not None and admission.admitted_at <= ended + 1e-6:
                raise AdmissionRefused("revoked", "The admission was revoked, or its visitor left the room")
        except AdmissionRefused as exc:
            metrics.WAITROOM_TOKENS_REJECTED.labels(exc.reason).inc()
            raise
        return admission

    def observe(self, latency_s: float, unavailable: bool) -> None:
        """A hold or booking answered (any event): the health the adaptive rate follows."""
        self.window.observe(latency_s, unavailable)

    # --- visitors -------------------------------------------------------------------------------

    async def join(
        self, event_id: int, caller: Caller, client: str | None, answer: str | None
    ) -> tuple[VisitorStatus, bool]:
        """Join (True: a new place), or find one's place again; NOT_GATED when the event is not gated."""
        user_id = caller.user
        if self.challenge is not None:
            try:
                ok = await self.challenge.verify(event_id, user_id, client, answer)
            except Exception as exc:  # a hook's failure refuses, never admits
                log.warning("waitroom_challenge_failed error=%s", type(exc).__name__)
                ok = False
            if not ok:
                metrics.WAITROOM_JOINS.labels("challenge_failed").inc()
                raise ChallengeFailed(
                    f"Solve the challenge ({self.challenge.describe(event_id)}) and send it as challenge"
                )
        try:
            room = self._open_room(event_id)
            if room is not None:
                # The room as read at the last tick: joined together with this process's other joins.
                visitor, created = await self._joins.join(event_id, user_id, self._prestart(room))
            else:
                async with self._db.transaction() as conn:
                    room = await _gated_room(conn, event_id)
                    if room is None:
                        return VisitorStatus(event_id, VisitorState.NOT_GATED), False
                    (visitor,) = await store.join(conn, [(event_id, user_id, self._prestart(room))])
                    created = bool(visitor["created"])
        except (EventNotFound, ChallengeFailed):
            raise
        except WaitingRoomUnavailable:
            metrics.WAITROOM_JOINS.labels("unavailable").inc()
            raise
        except BookingError as exc:
            metrics.WAITROOM_JOINS.labels("unavailable").inc()
            raise _unavailable(exc) from exc
        metrics.WAITROOM_JOINS.labels("new" if created else "again").inc()
        return await self._status(room, visitor), created

    def _open_room(self, event_id: int) -> _Room | None:
        """The room as this process last read it, if gated and the store answered that read."""
        room = self._rooms.get(event_id) if self._store_ok else None
        return room if room is not None and room.config.enabled else None

    @staticmethod
    def _prestart(room: _Room) -> bool:
        return room.config.starts_at > datetime.now(UTC)

    async def status(self, event_id: int, caller: Caller) -> VisitorStatus:
        """One poll. A visitor this process knows as waiting, ranked above the room's frontier, is
        answered from memory (it cannot have been admitted since the last tick's read; it is marked
        present in the store at the next tick); anyone else costs one round trip (its row)."""
        user_id = caller.user
        room = self._open_room(event_id)
        if room is not None:
            waiting = self._waiting.get((event_id, user_id))
            if waiting is not None and waiting.rank > room.frontier:
                if time.monotonic() >= waiting.present_at:
                    self._present.add(waiting.visitor_id)
                metrics.WAITROOM_POLLS_MEMORY.inc()
                return await self._waiting_status(room, waiting.rank, waiting.joined_at)
        metrics.WAITROOM_POLLS_STORE.inc()
        room = self._rooms.get(event_id) if self._loaded else None
        try:
            async with self._db.connection() as conn:
                if room is None or not room.config.enabled:
                    room = await _gated_room(conn, event_id)
                    if room is None:
                        return VisitorStatus(event_id, VisitorState.NOT_GATED)
                visitor = await store.visitor(conn, event_id, user_id, self._touch_after(room))
        except EventNotFound:
            raise
        except BookingError as exc:
            raise _unavailable(exc) from exc
        if visitor is None:
            raise VisitorNotFound(event_id)
        return await self._status(room, visitor)

    async def leave(self, event_id: int, caller: Caller) -> VisitorStatus:
        waiting = self._waiting.get((event_id, caller.user))
        if waiting is not None:
            self._forget(waiting.visitor_id)
        self._ranks.pop(event_id, None)
        try:
            async with self._db.transaction() as conn:
                room = await _gated_room(conn, event_id)
                if room is None:
                    return VisitorStatus(event_id, VisitorState.NOT_GATED)
                visitor = await store.leave(conn, event_id, caller.user)
                if visitor is None:
                    visitor = await store.visitor(conn, event_id, caller.user, 3600.0)
        except EventNotFound:
            raise
        except BookingError as exc:
            raise _unavailable(exc) from exc
        if visitor is None:
            raise VisitorNotFound(event_id)
        return await self._status(room, visitor)

    @staticmethod
    def _touch_after(room: _Room) -> float:
        """A waiting visitor's presence is written to the store at most this often."""
        return min(room.config.hold_s / 4, 30.0)

    def _remember(self, room: _Room, v: asyncpg.Record) -> None:
        """Keep a waiting visitor's place in memory, so that its next polls cost no round trip."""
        key = (room.config.event_id, str(v["user_id"]))
        if v["state"] != VisitorState.WAITING.value:
            self._forget(int(v["id"]))
            return
        present_at = _next_presence(self._touch_after(room))
        self._waiting[key] = _Waiting(int(v["id"]), int(v["rank"]), v["joined_at"], present_at)
        self._by_id[int(v["id"])] = key

    def _forget(self, visitor_id: int) -> None:
        key = self._by_id.pop(visitor_id, None)
        if key is not None:
            self._waiting.pop(key, None)
        self._present.discard(visitor_id)

    async def _status(self, room: _Room, v: asyncpg.Record) -> VisitorStatus:
        c = room.config
        state = VisitorState(v["state"])
        now = datetime.now(UTC)
        self._remember(room, v)
        base: dict[str, Any] = {"starts_at": c.starts_at, "joined_at": v["joined_at"]}
        if state is VisitorState.ADMITTED and v["claimed_at"] is None:
            # Admitted, but the claim did not go through (the leader sent it back meanwhile): next in line.
            return VisitorStatus(c.event_id, VisitorState.WAITING, 1, 0, 0, poll_after_s=1, **base)
        if state is VisitorState.ADMITTED:
            expires: datetime = v["expires_at"]
            if expires <= now:
                return VisitorStatus(c.event_id, VisitorState.EXPIRED, poll_after_s=5, **base)
            admitted: datetime = v["admitted_at"]
            token = self.tokens.issue(v["user_id"], c.event_id, v["id"], admitted.timestamp(), expires.timestamp())
            return VisitorStatus(
                c.event_id,
                state,
                admission_token=token,
                admitted_until=expires,
                poll_after_s=max(1, min(60, int((expires - now).total_seconds() // 2))),
                **base,
            )
        if state is not VisitorState.WAITING:
            return VisitorStatus(c.event_id, state, poll_after_s=5, **base)
        return await self._waiting_status(room, v["rank"], v["joined_at"])

    async def _waiting_status(self, room: _Room, rank: int, joined_at: datetime) -> VisitorStatus:
        c = room.config
        now = datetime.now(UTC)
        state = VisitorState.WAITING
        base: dict[str, Any] = {"starts_at": c.starts_at, "joined_at": joined_at}
        to_start = math.ceil((c.starts_at - now).total_seconds()) if c.starts_at > now else 0
        if to_start > PRESTART_POLL_S:
            return VisitorStatus(c.event_id, state, poll_after_s=PRESTART_POLL_S, **base)
        ahead = people_ahead(await self._queue(c.event_id), rank)
        estimate = estimated_wait_s(ahead, room.rate)
        poll = self._poll_after(room, ahead, estimate)
        if to_start:
            # The draw is made (a rank is final once drawn): come back when the turn may be near,
            # rather than all of the early crowd at the start. The place itself is shown after it.
            return VisitorStatus(c.event_id, state, poll_after_s=to_start + (0 if poll == 1 else poll), **base)
        return VisitorStatus(
            c.event_id,
            state,
            position=ahead + 1,
            people_ahead=ahead,
            estimated_wait_s=estimate,
            poll_after_s=poll,
            **base,
        )

    def _poll_after(self, room: _Room, ahead: int, estimate: int) -> int:
        """Whoever the next free buyer slots will go to polls every second (an admission not fetched
        within the pickup time goes back in line: storage/waitroom.py, release_unclaimed); the
        others at a share of their estimated wait."""
        return 1 if ahead < max(room.config.max_active // 2, 1) else poll_after_s(estimate, self.poll_scale)

    async def _queue(self, event_id: int) -> list[int]:
        """The queue order, at most RANKS_MAX_AGE_S old, read once per process however many poll."""
        cached = self._ranks.get(event_id)
        if cached is not None and time.monotonic() - cached[0] < RANKS_MAX_AGE_S:
            return cached[1]
        lock = self._ranks_lock.setdefault(event_id, asyncio.Lock())
        async with lock:
            cached = self._ranks.get(event_id)
            if cached is not None and time.monotonic() - cached[0] < RANKS_MAX_AGE_S:
                return cached[1]
            try:
                async with self._db.connection() as conn:
                    ranks = await store.waiting_ranks(conn, event_id)
            except BookingError as exc:
                # A poll needing the order while the store is down: the room's own answer (fail closed).
                raise _unavailable(exc) from exc
            self._ranks[event_id] = (time.monotonic(), ranks)
            return ranks

    # --- the operator ---------------------------------------------------------------------------

    async def configure(self, config: WaitingRoomConfig) -> WaitingRoomStats:
        async with self._db.transaction() as conn:
            if not await store.event_exists(conn, config.event_id):
                raise EventNotFound(config.event_id)
            row = await store.configure(conn, config)
        await self.refresh()
        return _Room(row).stats()

    async def stats(self, event_id: int) -> WaitingRoomStats | None:
        """The room as stored now (None: never configured); EventNotFound for an unknown event."""
        async with self._db.connection() as conn:
            row = await store.room(conn, event_id)
            if row is None and not await store.event_exists(conn, event_id):
                raise EventNotFound(event_id)
        return _Room(row).stats() if row is not None else None

    async def cached_stats(self, event_id: int) -> WaitingRoomStats | None:
        """The room as this process last read it (at most a tick old); None when never configured."""
        if not self._loaded:
            await self.refresh()
        room = self._rooms.get(event_id)
        return room.stats() if room is not None else None

    async def revoke(self, event_id: int, user_id: str | None) -> int:
        async with self._db.transaction() as conn:
            if await store.room(conn, event_id) is None:
                if not await store.event_exists(conn, event_id):
                    raise EventNotFound(event_id)
                return 0
            count = (
                await store.revoke_user(conn, event_id, user_id)
                if user_id is not None
                else await store.revoke_all(conn, event_id)
            )
        await self.refresh()
        return count

    # --- the background step --------------------------------------------------------------------

    async def run(self) -> None:
        """Every tick: refresh the cache, publish this process's health, run due admission steps."""
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except BookingError as exc:
                # The store is down: nothing is admitted (fail closed); try again next tick.
                log.warning("waitroom_tick_failed error=%s", type(exc).__name__)
            await asyncio.sleep(max(0.0, self.tick_s - (time.monotonic() - started)))

    async def tick(self) -> None:
        await self.refresh()
        requests, unavailable, p99 = self.window.drain()
        if not self._gated:
            return  # nothing to pace: no health sample is written while no on-sale is gated
        saturation = self._saturation()
        local = Health(requests, unavailable, p99, saturation)
        self.poll_scale = next_poll_scale(self.poll_scale, self.aimd.degraded(local) is not None)
        await self._mark_present()
        self._prune()
        async with self._bg.connection(writes=True) as conn:
            await store.publish_health(conn, self.instance, requests, unavailable, p99, saturation)
        now = datetime.now(UTC)
        for event_id in sorted(self._gated):
            room = self._rooms[event_id]
            if room.config.starts_at <= now:
                await self.step(event_id)

    def _prune(self) -> None:
        """Forget visitors who stopped polling (at most every PRUNE_EVERY_S): the store drops them after
        `holdS`, and a visitor that comes back reads the store. Keeps memory to the live crowd."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        for key, waiting in list(self._waiting.items()):
            room = self._rooms.get(key[0])
            if room is None or now - waiting.present_at > room.config.hold_s:
                self._forget(waiting.visitor_id)

    async def _mark_present(self) -> None:
        """Write the presence of the visitors polled from memory (one statement); forget those no
        longer waiting (admitted, dropped or gone elsewhere): their next poll reads the store."""
        present, self._present = self._present, set()
        if not present:
            return
        try:
            async with self._bg.connection(writes=True) as conn:
                still = set(await store.touch(conn, sorted(present)))
        except BaseException:
            self._present |= present
            raise
        for visitor_id in present:
            key = self._by_id.get(visitor_id)
            if visitor_id not in still:
                self._forget(visitor_id)
            elif key is not None and key in self._waiting:
                room = self._rooms.get(key[0])
                self._waiting[key].present_at = _next_presence(self._touch_after(room) if room else 0.0)

    async def step(self, event_id: int) -> int | None:
        """The admission step of one room, if due and no other process holds it: how many were admitted."""
        async with self._bg.transaction() as conn:
            row = await store.lock_due(conn, event_id, self.tick_s * 0.9)
            if row is None:
                return None
            config = store.config_of(row)
            # The rate accrues from the start of the sale: a last step before it (or the configuration)
            # must not let the first step release a burst the rate never earned.
            elapsed = (row["now"] - max(row["ticked_at"], config.starts_at)).total_seconds()
            missed = await store.release_unclaimed(conn, event_id, self.pickup_s)
            expired, dropped = await store.end_lapsed(conn, event_id, config.hold_s)
            waiting, active = await store.counts(conn, event_id)
            samples = await store.recent_health(conn, self.tick_s * HEALTH_WINDOW_TICKS)
            health = aggregate([Health(r["requests"], r["unavailable"], r["p99_ms"], r["saturation"]) for r in samples])
            rate = float(row["rate_per_minute"])
            count, carry = budget(rate, elapsed, float(row["carry"]), active, config.max_active, waiting)
            admitted = await store.admit(conn, event_id, count, config.admission_ttl_s)
            waits = [waited for waited, _ in admitted]
            if config.adaptive:
                # The rate limited this step if it, not the queue or the buyer cap, stopped admissions.
                limited = waiting > len(waits) and active + len(waits) < config.max_active
                rate = self.aimd.next_rate(rate, health, config.min_per_minute, config.per_minute, limited)
            else:
                rate = float(config.per_minute)
            frontier = await store.finish_step(
                conn,
                event_id,
                rate,
                carry,
                len(waits),
                waiting - len(waits),
                active + len(waits),
                max((r for _, r in admitted), default=-1),
            )
            if self._loaded and event_id in self._rooms:
                self._rooms[event_id].rate = rate
                self._rooms[event_id].frontier = frontier
            if waits:
                self._ranks.pop(event_id, None)  # those admitted no longer count as ahead of anyone
        metrics.WAITROOM_ADMITTED.inc(len(waits))
        metrics.WAITROOM_ENDED.labels("dropped").inc(dropped)
        metrics.WAITROOM_ENDED.labels("expired").inc(expired)
        metrics.WAITROOM_ENDED.labels("missed").inc(missed)
        for waited in waits:
            metrics.WAITROOM_WAIT.observe(waited)
        reason = self.aimd.degraded(health)
        if reason is not None:
            metrics.WAITROOM_BACKOFFS.labels(reason).inc()
        log.debug(
            "waitroom_step event=%s admitted=%s waiting=%s active=%s elapsed_s=%.2f rate=%.0f p99_ms=%s"
            " saturation=%.2f requests=%s unavailable=%s",
            event_id,
            len(waits),
            waiting,
            active,
            elapsed,
            rate,
            health.p99_ms,
            health.saturation,
            health.requests,
            health.unavailable,
        )
        return len(waits)

    async def forget_old_health(self) -> None:
        async with self._bg.connection(writes=True) as conn:
            await store.forget_health(conn, 3600.0)


def starts_in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
