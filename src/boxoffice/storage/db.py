"""The pool, the one owner of every transaction, and the translation of driver failures.

`Database.transaction()` opens a unit of work bound to the running task through a context
variable; nested use reuses its connection inside a savepoint, so a service can be called alone
or inside a caller's transaction (an idempotency key's) without passing connections around.
`on_commit(callback)` has the semantics of Django's `transaction.on_commit`: the callback runs
after the outermost commit, at once when no transaction is open, and never if the work it
belongs to rolls back (a rolled-back savepoint drops its callbacks).

A unit belongs to the task that opened it: a task spawned inside it inherits the context but not
the unit (it gets its own connection), so one connection never runs two statements at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import asyncpg

from boxoffice.domain import DatabaseBusy, DatabaseUnavailable, SeatOccupied
from boxoffice.settings import Settings

log = logging.getLogger(__name__)

Pool = asyncpg.Pool
Callback = Callable[[], None]
IsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]


async def create_pool(settings: Settings, url: str, *, lazy: bool = False) -> Pool:
    """Open a pool whose sessions cannot hold locks or idle transactions forever.

    `lazy` opens no connection up front (min size 0): for starting while the database is down.
    """
    server_settings = {
        "application_name": "boxoffice",
        "lock_timeout": str(settings.db_lock_timeout_ms),
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.db_idle_in_tx_timeout_ms),
    }
    pool = await asyncpg.create_pool(
        url,
        min_size=0 if lazy else min(settings.db_pool_min, settings.db_pool_max),
        max_size=settings.db_pool_max,
        server_settings=server_settings,
        # The client-side budget is a little above the server's so the server's clearer error wins.
        command_timeout=settings.db_statement_timeout_ms / 1000 + 1,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release reset query (RESET ALL; UNLISTEN *; CLOSE ALL; unlock advisory locks).

    It is a full round trip on every release, and profiling put it at ~18% of the booking path's CPU.
    asyncpg still rolls back any open transaction before calling this. The app never changes session
    state: use SET LOCAL and pg_advisory_xact_lock, and LISTEN only on dedicated connections.
    """


@dataclass
class _Unit:
    """The open transaction of one task: its connection and one callback list per (save)point."""

    conn: asyncpg.Connection
    owner: asyncio.Task[Any] | None
    callbacks: list[list[Callback]] = field(default_factory=lambda: [[]])


_current: ContextVar[_Unit | None] = ContextVar("boxoffice_unit_of_work", default=None)


def _unit() -> _Unit | None:
    unit = _current.get()
    if unit is None or unit.owner is not asyncio.current_task():
        return None
    return unit


def on_commit(callback: Callback) -> None:
    """Run `callback` once the current transaction commits; at once if none is open."""
    unit = _unit()
    if unit is None:
        _run(callback)
    else:
        unit.callbacks[-1].append(callback)


def in_transaction() -> bool:
    return _unit() is not None


def _run(callback: Callback) -> None:
    # An effect after commit must never turn a committed change into an error answer.
    try:
        callback()
    except Exception:
        log.exception("on_commit callback failed")


class Database:
    """The pool and its bounded acquire; every connection and transaction of the app comes from here."""

    def __init__(self, pool: Pool, acquire_timeout_s: float, pool_max: int) -> None:
        self.pool = pool
        self.acquire_timeout_s = acquire_timeout_s
        self.pool_max = pool_max

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The current transaction's connection, else one borrowed for the block (autocommit)."""
        unit = _unit()
        if unit is not None:
            yield unit.conn
            return
        with translate_errors():
            async with self._acquire() as conn:
                yield conn

    @asynccontextmanager
    async def transaction(
        self, *, isolation: IsolationLevel | None = None, readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A unit of work: the outermost one commits and then runs its `on_commit` callbacks.

        `isolation` and `readonly` apply to an outermost transaction; a nested one is a savepoint of it.
        """
        unit = _unit()
        if unit is not None:
            unit.callbacks.append([])
            try:
                with translate_errors():
                    async with unit.conn.transaction():
                        yield unit.conn
            except BaseException:
                unit.callbacks.pop()
                raise
            done = unit.callbacks.pop()
            unit.callbacks[-1].extend(done)
            return
        with translate_errors():
            async with self._acquire() as conn:
                unit = _Unit(conn, asyncio.current_task())
                token = _current.set(unit)
                try:
                    async with conn.transaction(isolation=isolation, readonly=readonly):
                        yield conn
                finally:
                    _current.reset(token)
        for callback in unit.callbacks[0]:
            _run(callback)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[asyncpg.Connection]:
        """One step that may fail on its own: autocommit outside a transaction (the single round trip
        of the ATOMIC claim), a savepoint inside one, so a refusal leaves the caller's transaction usable."""
        manager = self.transaction() if in_transaction() else self.connection()
        async with manager as conn:
            yield conn

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A bounded acquire turns pool exhaustion into a prompt 503 instead of an unbounded queue."""
        async with self.pool.acquire(timeout=self.acquire_timeout_s) as conn:
            try:
                # The pool's proxy forwards every Connection method; type it as one.
                yield cast(asyncpg.Connection, conn)
            except asyncpg.InternalClientError:
                # The protocol lost track of its state (e.g. the backend was terminated between two
                # statements): this connection can never be trusted again, so the pool must replace it.
                conn.terminate()
                raise

    def stats(self) -> dict[str, int]:
        size = self.pool.get_size()
        return {"size": size, "inUse": size - self.pool.get_idle_size(), "max": self.pool_max}


class Probe:
    """A dedicated connection for health checks: a saturated pool under load must not read as an outage."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._conn: asyncpg.Connection | None = None

    async def ping(self) -> None:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self._url, timeout=self._timeout_s, server_settings={"application_name": "boxoffice-health"}
            )
        await self._conn.fetchval("SELECT 1")

    def drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()


@contextmanager
def translate_errors() -> Iterator[None]:
    """Driver failures become domain failures, each with the answer the API gives it."""
    try:
        yield
    except TimeoutError as exc:
        raise DatabaseBusy("No database connection became free in time; retry shortly") from exc
    except asyncpg.UniqueViolationError as exc:
        raise SeatOccupied(_seat_id_from_detail(exc)) from exc
    except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError) as exc:
        raise DatabaseBusy("The seat is locked by a slow transaction; retry shortly") from exc
    except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
        raise DatabaseBusy("Concurrent update conflict; retry") from exc
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.OperatorInterventionError,
        asyncpg.InsufficientResourcesError,
        asyncpg.CannotConnectNowError,
        asyncpg.InternalClientError,
        OSError,
    ) as exc:
        raise DatabaseUnavailable("The database is unavailable; retry shortly") from exc


def _seat_id_from_detail(exc: asyncpg.UniqueViolationError) -> int:
    """Best effort: `Key (seat_id)=(42) already exists.` -> 42 (0 if the shape differs)."""
    detail = getattr(exc, "detail", "") or ""
    start, end = detail.find("=("), detail.find(")", detail.find("=(") + 2)
    try:
        return int(detail[start + 2 : end])
    except ValueError:
        return 0
