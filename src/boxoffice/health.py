"""Liveness and readiness, each dependency probed under a short timeout.

Readiness is DOWN while this worker has not finished migrating and seeding (including while it
waits for another instance's migration) or while the database does not answer. Redis being
down marks its component DOWN but keeps the instance ready, unless REDIS is the default
strategy (then most bookings would fail).

The `tasks` component shows each background task (bootstrap, relay, doorbell, sweeper, pool
sampler): its state, how often it failed and the class of its last error. A failing task marks the
component DOWN without taking the instance out of rotation: sales never depend on one.

The database is probed on a dedicated connection, so a saturated pool under load does not read
as an outage; when that connection cannot be (re)opened, for instance because other clients
filled PostgreSQL's connection slots, a query through the pool decides: as long as the pool still
books, the instance is ready. Results are cached briefly so a probe storm costs at most one
round trip per second per worker.

Readiness speaks for the whole instance (`httpserver.workers`): with several workers it is DOWN
while any worker takes connections before it has migrated and seeded (start-up), and UP while at
least `readiness_min_workers` workers are ready: when one crashes, the others keep the instance in
rotation while the supervisor replaces it (the replacement takes no connection before it is ready).
It is DOWN at once when the worker drains (SIGTERM).

Error texts (which may name hosts and addresses) are shown only with `health_details`; otherwise
a component shows the error's class.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from boxoffice.domain import Strategy
from boxoffice.httpserver import workers as worker_marks
from boxoffice.httpserver.drain import DRAIN
from boxoffice.observability.tasks import TaskState, TaskStatus
from boxoffice.settings import ObservabilitySettings
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


def _error(exc: BaseException, details: bool) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if not details:
        return type(exc).__name__
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:200]


DRAINING = Report(DOWN, {"drain": Component(DOWN, {"state": "DRAINING"})})


def _with_workers(report: Report, minimum: int) -> Report:
    """Under `boxoffice serve`, the instance is ready while its quorum of workers serves."""
    siblings = worker_marks.workers()
    if siblings is None:
        return report
    up = siblings.serving(minimum)
    details = {
        "ready": siblings.ready,
        "starting": siblings.starting,
        "expected": siblings.expected,
        "quorum": siblings.quorum(minimum),
    }
    status = UP if report.status == UP and up else DOWN
    return Report(status, {**report.components, "workers": Component(UP if up else DOWN, details)})


class HealthChecker:
    def __init__(
        self,
        settings: ObservabilitySettings,
        url: str,
        db: Database,
        redis: aioredis.Redis,
        bootstrap: Bootstrap,
        tasks: Callable[[], list[TaskStatus]] = list,
        *,
        default_strategy: Strategy,
    ) -> None:
        self._settings = settings
        self._redis_required = default_strategy is Strategy.REDIS
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
        """The dependencies' verdict (single-flight and cached: concurrent probes share one check),
        combined with the drain and the sibling workers' state, which are read fresh every time."""
        if DRAIN.active:
            return DRAINING
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    self._cached = await self._check()
                    self._cached_at = time.monotonic()
        assert self._cached is not None
        return _with_workers(self._cached, self._settings.readiness_min_workers)

    def _fresh(self) -> bool:
        return self._cached is not None and time.monotonic() - self._cached_at < CACHE_S

    async def _check(self) -> Report:
        db, redis = await asyncio.gather(self._database_component(), self._redis_component())
        migrations = Component(UP if self._bootstrap.ready.is_set() else DOWN, self._bootstrap_details())
        ready = db.status == UP and migrations.status == UP and (redis.status == UP or not self._redis_required)
        components = {"db": db, "migrations": migrations, "redis": redis, "tasks": self._tasks_component()}
        return Report(UP if ready else DOWN, components)

    def _bootstrap_details(self) -> dict[str, object]:
        details = self._bootstrap.details()
        error = details.get("lastError")
        if isinstance(error, str) and not self._settings.health_details:
            details["lastError"] = error.split(":", 1)[0]
        return details

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
            probe_error = _error(exc, self._settings.health_details)
        else:
            return Component(UP, {"database": "PostgreSQL", "pool": pool})
        # The dedicated connection failed (e.g. PostgreSQL's slots are full): can the pool still book?
        try:
            await asyncio.wait_for(self._pool_ping(), self._timeout)
        except Exception as exc:
            return Component(DOWN, {"error": _error(exc, self._settings.health_details), "pool": pool})
        return Component(UP, {"database": "PostgreSQL", "pool": pool, "probe": probe_error, "checkedThrough": "pool"})

    async def _pool_ping(self) -> None:
        async with self._db.connection() as conn:
            await conn.fetchval("SELECT 1")

    async def _redis_component(self) -> Component:
        required = self._redis_required
        try:
            await asyncio.wait_for(self._redis.ping(), self._timeout)
        except Exception as exc:
            return Component(
                DOWN, {"error": _error(exc, self._settings.health_details), "requiredForReadiness": required}
            )
        return Component(UP, {"requiredForReadiness": required})

    def close(self) -> None:
        self._probe.drop()
