"""Start-up that survives a missing database: serve at once, migrate and seed in the background.

Each worker migrates (Alembic's advisory lock in migrations/env.py serialises instances, so
the second one waits, then finds the schema at head) and seeds an empty inventory, retried with
backoff by the supervisor (`observability.tasks`) while the database is unreachable. Until that
is done, readiness is DOWN and the API answers 503, while liveness and metrics stay available.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from boxoffice.layouts import Layout
from boxoffice.settings import DatabaseSettings
from boxoffice.storage import migrate, secrets
from boxoffice.storage.db import Pool, create_pool
from boxoffice.storage.seed import seed

log = logging.getLogger(__name__)

T = TypeVar("T")

MIGRATION_CONNECT_TIMEOUT_S = 5
POOL_CONNECT_TIMEOUT_S = 5.0

_CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def open_pool(settings: DatabaseSettings, url: str) -> Pool:
    """The configured pool, or a lazy one (no connection until first use) when the database is down.

    A lazy pool lets the server start and report readiness DOWN instead of crashing its workers.
    """
    try:
        return await asyncio.wait_for(create_pool(settings, url), timeout=POOL_CONNECT_TIMEOUT_S)
    except _CONNECT_ERRORS as exc:
        log.warning("database_unreachable_at_start error=%s", _describe(exc))
        return await create_pool(settings, url, lazy=True)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]


def _with_connect_timeout(url: str) -> str:
    """libpq waits forever on a silent host unless told otherwise."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("connect_timeout", str(MIGRATION_CONNECT_TIMEOUT_S))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking `fn` on a daemon thread: a migration waiting on another instance's advisory
    lock must not keep the process alive at shutdown (asyncio.to_thread's executor would)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result = fn()
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=target, name="boxoffice-migrate", daemon=True).start()
    return future


class Bootstrap:
    """Migrate, then seed (and load the signing secret); one attempt per `run`, retried by the supervisor."""

    def __init__(self, settings: DatabaseSettings, url: str) -> None:
        self._settings = settings
        self._url = url
        self.state = "PENDING"
        self.error: str | None = None
        self.attempts = 0
        self.ready = asyncio.Event()
        self.session_secret: bytes | None = None
        """The database's signing secret (sessions, manage tokens), loaded before `ready` is set."""

    def details(self) -> dict[str, object]:
        out: dict[str, object] = {"state": self.state, "attempts": self.attempts}
        if self.error and not self.ready.is_set():
            out["lastError"] = self.error
        return out

    async def run(self) -> None:
        """One attempt to migrate and seed; raises on failure, and the supervisor retries with backoff."""
        self.attempts += 1
        try:
            await self._once()
        except Exception as exc:
            self.error = _describe(exc)
            self.state = "RETRYING"
            raise
        self.state = "DONE"
        self.error = None
        self.ready.set()

    async def _once(self) -> None:
        self.state = "MIGRATING"
        started = time.perf_counter()
        url = _with_connect_timeout(self._url)
        await _in_daemon_thread(lambda: migrate.upgrade(url))
        log.info("migrations_applied duration_s=%.3f", time.perf_counter() - started)
        self.state = "SEEDING"
        layout = Layout.grid(self._settings.seed_rows, self._settings.seed_cols)
        conn = await asyncpg.connect(self._url, timeout=MIGRATION_CONNECT_TIMEOUT_S)
        try:
            # seed() locks the seats table to serialise seeders; skip it (and the lock, which would
            # stall running instances' bookings) when the inventory already exists.
            populated = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM seats)")
            inserted = 0 if populated else await seed(conn, layout)
            self.session_secret = await secrets.load(conn, secrets.SESSION)
        finally:
            await conn.close()
        if inserted:
            log.info("seeded seats=%s", inserted)
