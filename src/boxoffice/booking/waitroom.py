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
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
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

RANKS_MAX_AGE_S = 1.0
"""How old the cached queue order may be when a position is computed."""
REVOCATIONS_PER_REFRESH = 10_000
HEALTH_WINDOW_TICKS = 3
"""The leader reads health samples this many ticks back (instances tick out of phase)."""


def _unavailable(exc: BaseException) -> WaitingRoomUnavailable:
    return WaitingRoomUnavailable(f"The waiting room cannot reach its store ({type(exc).__name__}); nobody is let in")


class _Room:
    """One room as this process last read it."""

    __slots__ = ("active", "admitted_total", "config", "rate", "revoked_before", "waiting")

    def __init__(self, row: asyncpg.Record) -> None:
        self.config: WaitingRoomConfig = store.config_of(row)
        self.rate: float = float(row["rate_per_minute"])
        self.waiting: int = int(row["waiting"])
        self.active: int = int(row["active"])
        self.admitted_total: int = int(row["admitted_total"])
        revoked: datetime | None = row["revoked_before"]
        self.revoked_before: float | None = revoked.timestamp() if revoked else None

    def stats(self) -> WaitingRoomStats:
        revoked = datetime.fromtimestamp(self.revoked_before, UTC) if self.revoked_before else None
        return WaitingRoomStats(self.config, self.waiting, self.active, self.admitted_total, self.rate, revoked)


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

    @property
    def tokens(self) -> AdmissionTokens:
        if self._tokens is None:
            self._tokens = self._tokens_factory()
        return self._tokens

    @property
    def gates_nothing(self) -> bool:
        """The rooms were read and none gates an event: a write needs no admission and its latency
        paces nothing, so the booking path skips both (one attribute check per request)."""
        return self._loaded and not self._gated

    # --- the cache ------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Re-read the rooms, the seats of gated events and new revocations (raises if the store fails)."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
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
        self._rooms, self._gated, self._seat_event, self._seat_sigs = rooms, gated, seat_event, sigs
        self._loaded = True
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
            async with self._db.transaction() as conn:
                row = await store.room(conn, event_id)
                if row is None or not row["enabled"]:
                    if not await store.event_exists(conn, event_id):
                        raise EventNotFound(event_id)
                    return VisitorStatus(event_id, VisitorState.NOT_GATED), False
                room = _Room(row)
                prestart = room.config.starts_at > datetime.now(UTC)
                visitor, created = await store.join(conn, event_id, user_id, prestart)
        except (EventNotFound, ChallengeFailed):
            raise
        except BookingError as exc:
            metrics.WAITROOM_JOINS.labels("unavailable").inc()
            raise _unavailable(exc) from exc
        metrics.WAITROOM_JOINS.labels("new" if created else "again").inc()
        return await self._status(room, visitor), created

    async def status(self, event_id: int, caller: Caller) -> VisitorStatus:
        """One poll: a single round trip (the visitor's row); the room comes from this process's cache."""
        user_id = caller.user
        room = self._rooms.get(event_id) if self._loaded else None
        try:
            async with self._db.connection() as conn:
                if room is None or not room.config.enabled:
                    row = await store.room(conn, event_id)
                    if row is None or not row["enabled"]:
                        if not await store.event_exists(conn, event_id):
                            raise EventNotFound(event_id)
                        return VisitorStatus(event_id, VisitorState.NOT_GATED)
                    room = _Room(row)
                visitor = await store.visitor(conn, event_id, user_id, min(room.config.hold_s / 4, 30.0))
        except EventNotFound:
            raise
        except BookingError as exc:
            raise _unavailable(exc) from exc
        if visitor is None:
            raise VisitorNotFound(event_id)
        return await self._status(room, visitor)

    async def leave(self, event_id: int, caller: Caller) -> VisitorStatus:
        try:
            async with self._db.transaction() as conn:
                row = await store.room(conn, event_id)
                if row is None or not row["enabled"]:
                    if not await store.event_exists(conn, event_id):
                        raise EventNotFound(event_id)
                    return VisitorStatus(event_id, VisitorState.NOT_GATED)
                room = _Room(row)
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

    async def _status(self, room: _Room, v: asyncpg.Record) -> VisitorStatus:
        c = room.config
        state = VisitorState(v["state"])
        now = datetime.now(UTC)
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
        if c.starts_at > now:
            wait = int((c.starts_at - now).total_seconds())
            return VisitorStatus(c.event_id, state, poll_after_s=max(1, min(15, wait)), **base)
        ahead = people_ahead(await self._queue(c.event_id), v["rank"])
        estimate = estimated_wait_s(ahead, room.rate)
        # Whoever the next free buyer slots will go to polls every second: an admission not fetched
        # within the pickup time goes back in line (see storage/waitroom.py, release_unclaimed).
        poll = 1 if ahead < max(c.max_active // 2, 1) else poll_after_s(estimate, self.poll_scale)
        return VisitorStatus(
            c.event_id,
            state,
            position=ahead + 1,
            people_ahead=ahead,
            estimated_wait_s=estimate,
            poll_after_s=poll,
            **base,
        )

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
            async with self._db.connection() as conn:
                ranks = await store.waiting_ranks(conn, event_id)
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
        async with self._bg.connection(writes=True) as conn:
            await store.publish_health(conn, self.instance, requests, unavailable, p99, saturation)
        now = datetime.now(UTC)
        for event_id in sorted(self._gated):
            room = self._rooms[event_id]
            if room.config.starts_at <= now:
                await self.step(event_id)

    async def step(self, event_id: int) -> int | None:
        """The admission step of one room, if due and no other process holds it: how many were admitted."""
        async with self._bg.transaction() as conn:
            row = await store.lock_due(conn, event_id, self.tick_s * 0.9)
            if row is None:
                return None
            config = store.config_of(row)
            elapsed = (row["now"] - row["ticked_at"]).total_seconds()
            missed = await store.release_unclaimed(conn, event_id, self.pickup_s)
            expired, dropped = await store.end_lapsed(conn, event_id, config.hold_s)
            waiting, active = await store.counts(conn, event_id)
            samples = await store.recent_health(conn, self.tick_s * HEALTH_WINDOW_TICKS)
            health = aggregate([Health(r["requests"], r["unavailable"], r["p99_ms"], r["saturation"]) for r in samples])
            rate = float(row["rate_per_minute"])
            count, carry = budget(rate, elapsed, float(row["carry"]), active, config.max_active, waiting)
            waits = await store.admit(conn, event_id, count, config.admission_ttl_s)
            if config.adaptive:
                # The rate limited this step if it, not the queue or the buyer cap, stopped admissions.
                limited = waiting > len(waits) and active + len(waits) < config.max_active
                rate = self.aimd.next_rate(rate, health, config.min_per_minute, config.per_minute, limited)
            else:
                rate = float(config.per_minute)
            await store.finish_step(conn, event_id, rate, carry, len(waits), waiting - len(waits), active + len(waits))
            if self._loaded and event_id in self._rooms:
                self._rooms[event_id].rate = rate
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
