"""Liveness and readiness, each dependency probed under a short timeout.

Readiness is DOWN while this worker has not finished migrating and seeding (including while it
waits for another instance's migration) or while the database does not answer. Redis being
down marks its component DOWN but keeps the instance ready, unless REDIS is the default
strategy (then most bookings would fail).

The `tasks` component shows each background task (bootstrap, relay, doorbell, sweeper, pool
sampler): its state, how often it failed and the class of its last error. A failing task marks the
component DOWN without taking the instance out of rotation: sales never depend on one.

The database is probed on a dedicated connection, so a saturated pool under load does not read
as an outage; results are cached briefly so a probe storm costs at most one round trip per
second per worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from boxoffice.domain import Strategy
from boxoffice.observability.tasks import TaskState, TaskStatus
from boxoffice.settings import Settings
from boxoffice.storage.bootstrap import Bootstrap
from boxoffice.storage.db import Database, Probe

UP = "UP"
DOWN = "DOWN"
CACHE_S = 1.0


@dataclass(frozen=True)
class Component:
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "details": self.details} if self.details else {"status": self.status}


@dataclass(frozen=True)
class Report:
    status: str
    components: dict[str, Component]

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "components": {k: c.json() for k, c in self.components.items()}}


def _error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:200]


class HealthChecker:
    def __init__(
        self,
        settings: Settings,
        url: str,
        db: Database,
        redis: aioredis.Redis,
        bootstrap: Bootstrap,
        tasks: Callable[[], list[TaskStatus]] = list,
    ) -> None:
        self._settings = settings
        self._tasks = tasks
        self._db = db
        self._redis = redis
        self._bootstrap = bootstrap
        self._timeout = settings.health_timeout_s
        self._probe = Probe(url, settings.health_timeout_s)
        self._lock = asyncio.Lock()
        self._cached: Report | None = None
        self._cached_at = 0.0

    async def readiness(self) -> Report:
        """Single-flight and cached: concurrent probes share one check."""
        if self._fresh():
            assert self._cached is not None
            return self._cached
        async with self._lock:
            if not self._fresh():
                self._cached = await self._check()
                self._cached_at = time.monotonic()
            assert self._cached is not None
            return self._cached

    def _fresh(self) -> bool:
        return self._cached is not None and time.monotonic() - self._cached_at < CACHE_S

    async def _check(self) -> Report:
        db, redis = await asyncio.gather(self._database_component(), self._redis_component())
        migrations = Component(UP if self._bootstrap.ready.is_set() else DOWN, self._bootstrap.details())
        redis_required = self._settings.default_strategy is Strategy.REDIS
        ready = db.status == UP and migrations.status == UP and (redis.status == UP or not redis_required)
        components = {"db": db, "migrations": migrations, "redis": redis, "tasks": self._tasks_component()}
        return Report(UP if ready else DOWN, components)

    def _tasks_component(self) -> Component:
        statuses = self._tasks()
        failing = any(t.state is TaskState.BACKOFF for t in statuses)
        return Component(DOWN if failing else UP, {t.name: t.json() for t in statuses})

    async def _database_component(self) -> Component:
        pool = self._db.stats()
        try:
            await asyncio.wait_for(self._probe.ping(), self._timeout)
        except Exception as exc:
            self._probe.drop()
            return Component(DOWN, {"error": _error(exc), "pool": pool})
        return Component(UP, {"database": "PostgreSQL", "pool": pool})

    async def _redis_component(self) -> Component:
        required = self._settings.default_strategy is Strategy.REDIS
        try:
            await asyncio.wait_for(self._redis.ping(), self._timeout)
        except Exception as exc:
            return Component(DOWN, {"error": _error(exc), "requiredForReadiness": required})
        return Component(UP, {"requiredForReadiness": required})

    def close(self) -> None:
        self._probe.drop()
