"""Application factory: wires settings, storage, strategies and routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.routing import WebSocketRoute

from boxoffice import __version__
from boxoffice.api import checkout, errors, events
from boxoffice.api.auth import Authenticator
from boxoffice.api.frontend import mount_frontend
from boxoffice.api.limits import BodyLimitMiddleware
from boxoffice.api.ratelimit import RateLimiter
from boxoffice.api.routes import router
from boxoffice.booking.checkout import CheckoutPolicy, CheckoutService
from boxoffice.booking.locks import SeatLeases
from boxoffice.booking.service import BookingService
from boxoffice.booking.strategies import AtomicStrategy, BookingStrategy, RedisLockStrategy, RowLockStrategy
from boxoffice.domain import Strategy
from boxoffice.observability import wiring
from boxoffice.observability.lifecycle import open_pool
from boxoffice.realtime import start_realtime
from boxoffice.realtime.endpoint import StompEndpoint
from boxoffice.settings import Settings, get_settings
from boxoffice.storage.sweeper import run_sweeper


def redis_client(settings: Settings) -> aioredis.Redis:
    """Short timeouts, no retries, a bounded pool that queues briefly: a dead or swamped Redis is a prompt 503.

    redis-py's default pool raises MaxConnectionsError beyond 100 connections, which turned a flash
    crowd on one seat into 503s; waiting for a free connection gets the database acquire budget.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_pool_max,
        timeout=settings.db_acquire_timeout_s,
        socket_timeout=settings.redis_timeout_s,
        # Connecting includes a handshake that waits behind a crowd's backlog on the event loop;
        # a dead Redis still fails at once (connection refused).
        socket_connect_timeout=max(settings.redis_timeout_s, settings.db_acquire_timeout_s),
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
    return aioredis.Redis.from_pool(pool)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start with `boxoffice serve` for an embedded database")
        pool = await open_pool(settings, settings.database_url)
        redis = redis_client(settings)
        timeout = settings.db_acquire_timeout_s
        leases = SeatLeases(
            redis,
            prefix=settings.redis_key_prefix,
            lease_s=settings.redis_lock_lease_ms / 1000,
            wait_s=settings.redis_lock_wait_ms / 1000,
        )
        strategies: dict[Strategy, BookingStrategy] = {
            Strategy.ATOMIC: AtomicStrategy(pool, timeout),
            Strategy.DB: RowLockStrategy(pool, timeout),
            Strategy.REDIS: RedisLockStrategy(pool, timeout, leases),
        }
        app.state.settings = settings
        app.state.pool = pool
        app.state.redis = redis
        app.state.leases = leases
        app.state.booking = BookingService(pool, strategies, settings.default_strategy, timeout)
        policy = CheckoutPolicy(settings.hold_ttl_s, settings.hold_max_s, settings.seats_per_user)
        app.state.checkout = CheckoutService(pool, app.state.booking, policy, timeout)
        app.state.auth = Authenticator(settings)
        app.state.rate_limiter = RateLimiter(
            redis,
            prefix=settings.redis_key_prefix,
            window_s=settings.rate_limit_window_s,
            per_ip=settings.rate_limit_per_ip,
            per_user=settings.rate_limit_per_user,
        )
        runtime = await wiring.start(app, settings, settings.database_url, pool, redis)
        realtime = await start_realtime(app, settings, settings.database_url, redis)
        sweeper = asyncio.create_task(run_sweeper(pool, settings, app.state.booking.changed))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await realtime.stop()
            await runtime.stop()
            await redis.aclose()
            await pool.close()

    app = FastAPI(
        title="Box Office",
        version=__version__,
        description="High-concurrency seat booking: exactly one winner per seat.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(router)
    app.router.routes.append(WebSocketRoute("/ws", StompEndpoint()))  # STOMP over WebSocket, raw ASGI
    app.include_router(checkout.router)
    app.include_router(events.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    wiring.install(app, settings)
    # Keep last: the UI is mounted at "/" and must not shadow any route added above.
    mount_frontend(app)
    return app
