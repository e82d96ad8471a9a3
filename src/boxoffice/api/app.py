"""Application factory: wires settings, storage, strategies and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from boxoffice import __version__
from boxoffice.api import errors
from boxoffice.api.limits import BodyLimitMiddleware
from boxoffice.api.routes import router
from boxoffice.booking.domain import Strategy
from boxoffice.booking.locks import SeatLeases
from boxoffice.booking.service import BookingService
from boxoffice.booking.strategies import AtomicStrategy, BookingStrategy, RedisLockStrategy, RowLockStrategy
from boxoffice.realtime import start_realtime
from boxoffice.realtime.endpoint import StompRoute
from boxoffice.settings import Settings, get_settings
from boxoffice.storage.db import create_pool


def redis_client(settings: Settings) -> aioredis.Redis:
    """Short timeouts, no retries, a bounded pool that queues briefly: a dead or swamped Redis is a prompt 503."""
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_pool_max,
        timeout=settings.redis_timeout_s,  # wait this long for a free connection, then 503
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
    return aioredis.Redis(connection_pool=pool)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start with `boxoffice serve` for an embedded database")
        pool = await create_pool(settings, settings.database_url)
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
        realtime = await start_realtime(app, settings, settings.database_url, redis)
        try:
            yield
        finally:
            await realtime.stop()
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
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(StompRoute)  # STOMP over WebSocket at /ws
    return app
