"""Hooks the observability layer into the application factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI

from boxoffice.observability import lifecycle, metrics, multiprocess
from boxoffice.observability.actuator import router
from boxoffice.observability.health import HealthChecker
from boxoffice.observability.logs import configure_logging
from boxoffice.observability.middleware import ObservabilityMiddleware
from boxoffice.settings import Settings
from boxoffice.storage.db import Pool


def install(app: FastAPI, settings: Settings) -> None:
    """Logging, `/actuator` routes and the outermost middleware; call last in the factory."""
    configure_logging(settings.log_level, settings.log_format)
    metrics.init_series()
    # Known before the pool exists: a worker counts as live once its metric files exist (at import),
    # so export its share of the capacity as early as possible rather than at the first pool sample.
    metrics.DB_POOL_MAX.set(settings.db_pool_max)
    # First in the route table, so a catch-all mounted earlier (the UI at `/`) cannot shadow them.
    routes = app.router.routes
    existing = len(routes)
    app.include_router(router)
    routes[:] = routes[existing:] + routes[:existing]

    def ready() -> bool:
        bootstrap: lifecycle.Bootstrap | None = getattr(app.state, "bootstrap", None)
        return bootstrap is not None and bootstrap.ready.is_set()

    app.add_middleware(
        ObservabilityMiddleware, routes=lambda: app.router.routes, ready=ready, access_log=settings.access_log
    )


@dataclass
class Runtime:
    tasks: list[asyncio.Task[None]]
    health: HealthChecker

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.health.close()
        multiprocess.mark_self_dead()


async def start(app: FastAPI, settings: Settings, url: str, pool: Pool, redis: aioredis.Redis) -> Runtime:
    """Background migrate-and-seed, pool sampling and health checks for this worker."""
    bootstrap = lifecycle.Bootstrap(settings, url)
    app.state.bootstrap = bootstrap
    app.state.health = HealthChecker(settings, url, pool, redis, bootstrap)
    tasks = [
        asyncio.create_task(bootstrap.run(), name="boxoffice-bootstrap"),
        asyncio.create_task(lifecycle.sample_pool_forever(pool, settings), name="boxoffice-pool-sampler"),
    ]
    return Runtime(tasks, app.state.health)
