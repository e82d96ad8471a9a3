"""Composition root: builds storage, services and the real-time endpoint of one worker, and hands them to
the HTTP application (`api/app.py`, which assembles every ASGI layer).

`create_app` is what the HTTP server imports (`boxoffice.server:create_app`, httpserver/run.py); the
lifespan opens the pool and Redis, wires the services, starts this worker's background tasks and the
management port's listener.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from boxoffice.api.app import BoxOffice, build_app
from boxoffice.api.auth import Authenticator, SessionRevocations
from boxoffice.api.deps import Api
from boxoffice.api.ratelimit import RateLimiter
from boxoffice.booking import strategies
from boxoffice.booking.batcher import ClaimBatcher, SingleFlight
from boxoffice.booking.events import EventService
from boxoffice.booking.holds import HoldService
from boxoffice.booking.idempotency import IdempotencyService
from boxoffice.booking.locks import SeatLeases
from boxoffice.booking.ownership import Ownership
from boxoffice.booking.service import BookingService, CheckoutPolicy, SeatChanges
from boxoffice.booking.snapshots import SnapshotCache
from boxoffice.booking.sweeper import Sweeper
from boxoffice.booking.waitroom.challenge import ProofOfWork
from boxoffice.booking.waitroom.pacing import Aimd
from boxoffice.booking.waitroom.runtime import WaitingRoom
from boxoffice.booking.waitroom.tokens import AdmissionTokens
from boxoffice.health import HealthChecker
from boxoffice.httpserver import drain, management
from boxoffice.httpserver import workers as worker_marks
from boxoffice.observability import gcpause, looplag, metrics, multiprocess
from boxoffice.observability.logs import configure_logging
from boxoffice.observability.tasks import Supervisor
from boxoffice.realtime import start_realtime
from boxoffice.realtime.endpoint import StompEndpoint
from boxoffice.settings import Settings, get_settings
from boxoffice.storage.bootstrap import Bootstrap, open_pool
from boxoffice.storage.db import Database, create_pool
from boxoffice.storage.redis import connect as redis_connect
from boxoffice.tokens import Tokens

POOL_SAMPLE_INTERVAL_S = 1.0
GC_THRESHOLDS = (50_000, 20, 20)
"""Young-generation size and the older generations' multipliers (CPython's defaults: 700, 10, 10)."""


def _sample_pool(db: Database) -> None:
    """Pool gauges for this worker (livesum adds the workers up)."""
    stats = db.stats()
    metrics.DB_POOL_SIZE.set(stats["size"])
    metrics.DB_POOL_IN_USE.set(stats["inUse"])
    metrics.DB_POOL_MAX.set(stats["max"])


async def _sample_pool_forever(db: Database) -> None:
    while True:
        _sample_pool(db)
        await asyncio.sleep(POOL_SAMPLE_INTERVAL_S)


async def _side_pool(settings: Settings, url: str, size: int, application_name: str) -> Database:
    """A small pool apart from the main one (lazy: no connection until first use)."""
    pool = await create_pool(
        settings.model_copy(update={"db_pool_max": size}), url, lazy=True, application_name=application_name
    )
    return Database(pool, settings.db_acquire_timeout_s, size)


def _waiting_room(
    settings: Settings, db: Database, crowd: Database, background: Database, tokens: Tokens
) -> WaitingRoom:
    """The waiting room; `BOXOFFICE_WAITROOM_POW_BITS` turns on the built-in challenge (its hook:
    any `boxoffice.booking.waitroom.challenge.Challenge` can stand in for `ProofOfWork` here). Visitors'
    requests use `crowd`; the pace follows the saturation of `db`, the bookings' pool."""
    return WaitingRoom(
        crowd,
        lambda: AdmissionTokens(tokens.derive(b"admission")),
        tick_s=settings.waitroom_tick_s,
        aimd=Aimd(target_p99_ms=settings.waitroom_target_p99_ms),
        challenge=ProofOfWork(settings.waitroom_pow_bits) if settings.waitroom_pow_bits else None,
        pool_saturation=lambda: db.stats()["inUse"] / max(db.pool_max, 1),
        background=background,
        pickup_s=settings.waitroom_pickup_s,
    )


def _start_background(
    supervisor: Supervisor, bootstrap: Bootstrap, db: Database, changes: SeatChanges, settings: Settings
) -> None:
    """This worker's own tasks (the relay and doorbell start with the real-time endpoint), all supervised;
    whatever queries the schema waits until bootstrap has migrated it."""
    supervisor.start("pool_sampler", lambda: _sample_pool_forever(db))
    if settings.hold_sweep_interval_s:
        sweeper = Sweeper(db, changes, settings.hold_sweep_interval_s)
        supervisor.start("sweeper", sweeper.run, gate=bootstrap.ready)


def _settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the request path.

    Everything built at start-up (modules, the app, schemas, pools) moves out of its reach: a full
    collection walks every tracked object, and with those included each cost tens of milliseconds.
    A larger young generation makes collections rare: requests leave almost no cycles (see
    api/lean.py), so frequent young collections only re-walked live objects. Measured with gc
    callbacks under the spread benchmark: about a fifth of a worker's CPU before, no collection after.
    Done once the worker has migrated and seeded: it never delays start-up, and what start-up
    loaded (Alembic, SQLAlchemy) is frozen with the rest.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gcpause.watch()


def _mark_ready() -> None:
    """Tell the sibling workers (instance-wide readiness) once this one has migrated and seeded."""
    if not drain.DRAIN.active:
        worker_marks.mark_ready(True)


async def _once_ready(ready: asyncio.Event, *actions: Callable[[], None]) -> None:
    """Run `actions` in order once start-up (migrations, seeding) is done and no longer holds the loop."""
    await ready.wait()
    for action in actions:
        action()


def _on_drain() -> None:
    worker_marks.mark_ready(False)


def create_app(settings: Settings | None = None) -> BoxOffice:
    settings = settings or get_settings()
    url = settings.database_url or ""  # checked when serving starts: the OpenAPI document needs none
    configure_logging(settings.log_level, settings.log_format)
    metrics.init_series()
    # A worker counts as live once its metric files exist (at import), so export its share of the
    # pool capacity now rather than at the first pool sample.
    metrics.DB_POOL_MAX.set(settings.db_pool_max)
    bootstrap = Bootstrap(settings, url)
    # Signing keys: configured, or the database's (loaded by the bootstrap before the API opens).
    tokens = Tokens(settings, lambda: bootstrap.session_secret)
    ws_auth = tokens.verify if settings.auth_mode == "jwt" else None
    stomp = StompEndpoint(settings.ws_origins, settings.ws_max_frame_bytes, ws_auth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not url:
            raise RuntimeError("DATABASE_URL is not set; start with `boxoffice serve` for an embedded database")
        supervisor = Supervisor()
        supervisor.start("bootstrap", bootstrap.run)
        db = Database(await open_pool(settings, url), settings.db_acquire_timeout_s, settings.db_pool_max)
        redis = redis_connect(settings, acquire_timeout_s=settings.db_acquire_timeout_s)
        leases = SeatLeases(
            redis,
            prefix=settings.redis_key_prefix,
            lease_s=settings.redis_lock_lease_ms / 1000,
            wait_s=settings.redis_lock_wait_ms / 1000,
        )
        batchers: list[ClaimBatcher] = []
        if settings.claim_batch_max > 1:
            size, in_flight = settings.claim_batch_max, settings.claim_batch_in_flight
            batchers = [
                ClaimBatcher(db, strategies.claim_alone(db), max_batch=size, max_in_flight=in_flight),
                ClaimBatcher(
                    db, strategies.lock_and_claim(db), max_batch=size, max_in_flight=in_flight, lock_first=True
                ),
            ]
        chosen = strategies.standard(db, leases, settings.default_strategy, *batchers)
        policy = CheckoutPolicy(settings.hold_ttl_s, settings.hold_max_s, settings.seats_per_user)
        changes = SeatChanges()
        health = HealthChecker(
            settings, url, db, redis, bootstrap, supervisor.statuses, default_strategy=settings.default_strategy
        )
        owners = Ownership(tokens)
        bookings = BookingService(
            db, chosen, policy, changes, owners, SingleFlight() if settings.single_flight else None
        )
        # The waiting room's step and cache refresh get two connections of their own; the crowd's joins
        # and polls get theirs too: an on-sale's burst of them must not make admitted buyers' bookings
        # wait for a connection.
        room_db = await _side_pool(settings, url, 2, "boxoffice-waitroom")
        crowd_db = await _side_pool(settings, url, settings.waitroom_pool_max, "boxoffice-waitroom-crowd")
        waitroom = _waiting_room(settings, db, crowd_db, room_db, tokens)
        app.state.api = Api(
            settings=settings,
            bookings=bookings,
            holds=HoldService(db, chosen, policy, changes, owners),
            events=EventService(db, changes.written),
            idempotency=IdempotencyService(db, settings.idempotency_ttl_s, settings.idempotency_keys_per_user),
            auth=Authenticator(tokens, SessionRevocations(redis, settings.redis_key_prefix)),
            limiter=RateLimiter(
                redis,
                prefix=settings.redis_key_prefix,
                window_s=settings.rate_limit_window_s,
                per_ip=settings.rate_limit_per_ip,
                per_user=settings.rate_limit_per_user,
            ),
            health=health,
            sample_metrics=lambda: _sample_pool(db),
            snapshots=SnapshotCache(db, bookings, settings.snapshot_cache_ms / 1000),
            waitroom=waitroom,
            join_limiter=RateLimiter(
                redis,
                prefix=f"{settings.redis_key_prefix}wr:",
                window_s=60,
                per_ip=settings.waitroom_joins_per_ip,
                per_user=0,
            ),
        )
        supervisor.start("waitroom", waitroom.run, gate=bootstrap.ready)
        realtime = start_realtime(settings, settings, url, redis, supervisor, bootstrap.ready)
        # Every committed seat change (bookings, holds, releases, cancellations, sweeps) rings.
        changes.subscribe(realtime.doorbell.ring)
        # Until the relay has positioned its cursor the snapshot falls back to max(seq).
        changes.sequence_floor(realtime.floor)
        stomp.hub = realtime.hub
        _start_background(supervisor, bootstrap, db, changes, settings)
        # Then the loop's lateness is measured: start-up no longer holds it.
        loop_watch = looplag.LoopWatch(stall_s=settings.loop_stall_ms / 1000)
        started = asyncio.create_task(
            _once_ready(bootstrap.ready, _settle_garbage_collector, loop_watch.start, _mark_ready)
        )
        # A replacement of a crashed worker takes connections only once ready (its siblings serve).
        await worker_marks.take_turn(bootstrap.ready)
        drain.install(settings.drain_s, asyncio.get_running_loop(), _on_drain)
        listener = None
        if settings.management_port is not None:
            listener = await management.listen(app, settings.management_host, settings.management_port)
        try:
            yield
        finally:
            worker_marks.mark_ready(False)
            if listener is not None:
                listener.close()
            started.cancel()
            await loop_watch.stop()
            await supervisor.stop()
            stomp.hub = None
            await realtime.stop()
            health.close()
            multiprocess.mark_self_dead()
            for batcher in batchers:
                await batcher.close()
            await redis.aclose()
            await room_db.pool.close()
            await crowd_db.pool.close()
            await db.pool.close()

    return build_app(settings, lifespan=lifespan, ready=bootstrap.ready.is_set, websocket=stomp)
