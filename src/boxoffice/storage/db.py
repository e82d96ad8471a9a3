"""The pool, the one owner of every transaction, and the translation of driver failures.

`Database.transaction()` opens a unit of work bound to the running task through a context
variable; nested use reuses its connection inside a savepoint, so a service can be called alone
or inside a caller's transaction (an idempotency key's) without passing connections around.
`on_commit(callback)` has the semantics of Django's `transaction.on_commit`: the callback runs
after the outermost commit, at once when no transaction is open, and never if the work it
belongs to rolls back (a rolled-back savepoint drops its callbacks).

A unit belongs to the task that opened it: a task spawned inside it inherits the context but not
the unit (it gets its own connection), so one connection never runs two statements at once.

Driver failures become domain failures that tell the truth about the outcome (`translate_errors`):
a definite refusal (`DatabaseBusy`, `DatabaseUnavailable`) only when nothing can have been
committed, `OutcomeUnknown` when a write or its COMMIT was sent and its answer was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import asyncpg
from asyncpg.transaction import Transaction

from boxoffice.domain import (
    BookingError,
    DatabaseBusy,
    DatabaseUnavailable,
    InvalidInput,
    OutcomeUnknown,
    SeatOccupied,
)
from boxoffice.settings import DatabaseSettings
from boxoffice.storage.seats import install_session_routines

log = logging.getLogger(__name__)

Pool = asyncpg.Pool
Callback = Callable[[], None]
IsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]


async def create_pool(
    settings: DatabaseSettings, url: str, *, lazy: bool = False, application_name: str = "boxoffice"
) -> Pool:
    """Open a pool whose sessions cannot hold locks or idle transactions forever.

    `lazy` opens no connection up front (min size 0): for starting while the database is down.
    `application_name` tells the pools apart in `pg_stat_activity` (and in the relay's hole log).
    """
    server_settings = {
        "application_name": application_name,
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
        init=install_session_routines,
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
    async def connection(self, *, writes: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """The current transaction's connection, else one borrowed for the block (autocommit).

        `writes`: the block's statements commit on their own, so a lost answer is an unknown outcome.
        """
        unit = _unit()
        if unit is not None:
            yield unit.conn
            return
        with translate_errors(in_doubt=writes):
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
        async with self._acquire() as conn:
            unit = _Unit(conn, asyncio.current_task())
            token = _current.set(unit)
            try:
                # Until COMMIT is sent nothing can commit: every failure before it is definite.
                with translate_errors():
                    tx = await _begin(conn, isolation, readonly)
                    try:
                        yield conn
                    except BaseException as exc:
                        await _rollback(conn, tx, exc)
                        raise
                # A COMMIT whose answer is lost may have committed (a read-only one changed nothing).
                with translate_errors(in_doubt=not readonly):
                    await _commit(conn, tx)
            finally:
                _current.reset(token)
        for callback in unit.callbacks[0]:
            _run(callback)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[asyncpg.Connection]:
        """One step that may fail on its own: autocommit outside a transaction (the single round trip
        of the ATOMIC claim), a savepoint inside one, so a refusal leaves the caller's transaction usable."""
        manager = self.transaction() if in_transaction() else self.connection(writes=True)
        async with manager as conn:
            yield conn

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A bounded acquire turns pool exhaustion into a prompt 503 instead of an unbounded queue.

        Nothing has been sent when the acquire fails, so its failures are definite. A failure to
        release (the reset timed out, the connection died) never changes the block's outcome:
        asyncpg terminates such a connection and the pool replaces it.
        """
        try:
            # The pool's proxy forwards every Connection method; type it as one.
            proxy = await self.pool.acquire(timeout=self.acquire_timeout_s)
        except TimeoutError as exc:
            raise DatabaseBusy("No database connection became free in time; nothing was changed") from exc
        except _UNREACHABLE as exc:
            raise DatabaseUnavailable("The database is unavailable; nothing was changed") from exc
        conn = cast(asyncpg.Connection, proxy)
        try:
            yield conn
        except asyncpg.InternalClientError:
            # The protocol lost track of its state (e.g. the backend was terminated between two
            # statements): this connection can never be trusted again, so the pool must replace it.
            _discard(conn)
            raise
        finally:
            try:
                await self.pool.release(proxy)
            except Exception as exc:
                log.debug("pool_release_failed error=%s", type(exc).__name__)

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


async def _begin(conn: asyncpg.Connection, isolation: IsolationLevel | None, readonly: bool) -> Transaction:
    tx = conn.transaction(isolation=isolation, readonly=readonly)
    try:
        await tx.start()
    except BaseException:
        _discard(conn)  # a BEGIN without an answer leaves the session in an unknown state
        raise
    return tx


async def _rollback(conn: asyncpg.Connection, tx: Transaction, exc: BaseException) -> None:
    """Roll back after a failed block; if even that fails, nobody can ever commit on this connection."""
    if isinstance(exc, asyncpg.InternalClientError):
        # The protocol lost track of its state (e.g. the backend was terminated between two
        # statements): this connection can never be trusted again, so the pool must replace it.
        _discard(conn)
        return
    try:
        await tx.rollback()
    except asyncio.CancelledError:
        _discard(conn)
        raise
    except Exception:
        _discard(conn)


async def _commit(conn: asyncpg.Connection, tx: Transaction) -> None:
    try:
        await tx.commit()
    except asyncpg.PostgresError as exc:
        if isinstance(exc, _SESSION_LOST):
            _discard(conn)
        raise  # the server refused the COMMIT and rolled back; the connection is usable
    except BaseException:
        _discard(conn)  # no answer: whatever the session's state, it must not be reused
        raise


def _discard(conn: asyncpg.Connection) -> None:
    """Close a connection whose session state is unknown; asyncpg may already have given it up."""
    with contextlib.suppress(asyncpg.InterfaceError):
        conn.terminate()


# The session ended or never answered: the client cannot know what the server did last.
_SESSION_LOST: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
# What a failed connect can raise (a refusal, a timeout, a server that is starting or full).
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


@contextmanager
def translate_errors(*, in_doubt: bool = False) -> Iterator[None]:
    """Driver failures become domain failures, each with the answer the API gives it.

    `in_doubt`: something that commits on its own (an autocommit write, a COMMIT) was sent, so a
    lost answer (timeout, connection gone) is `OutcomeUnknown`. Otherwise it is definite. An error
    the server answered always is: PostgreSQL rolled the statement (or transaction) back.
    """
    try:
        yield
    except asyncpg.PostgresError as exc:
        failure = _translated(exc, in_doubt)
        if failure is None:
            raise
        raise failure from exc
    except _SESSION_LOST as exc:
        raise _lost(exc, in_doubt) from exc


def _translated(exc: asyncpg.PostgresError, in_doubt: bool) -> BookingError | None:
    """The domain failure of an error the server sent; None leaves it untranslated (a bug: 500)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return SeatOccupied(_seat_id_from_detail(exc))
    if isinstance(exc, asyncpg.DataError):  # class 22; asyncpg also raises it for unencodable arguments
        return InvalidInput("A value in the request cannot be stored (e.g. text that is not valid Unicode)")
    if isinstance(exc, asyncpg.LockNotAvailableError | asyncpg.QueryCanceledError):
        return DatabaseBusy("The seat is locked by a slow transaction or the database is slow; nothing was changed")
    if isinstance(exc, asyncpg.TransactionRollbackError):  # deadlock, serialization failure
        return DatabaseBusy("Concurrent update conflict; nothing was changed; retry")
    if isinstance(exc, _SESSION_LOST):  # terminated (57P01/57P02) or connection failure (08xxx)
        return _lost(exc, in_doubt)
    if isinstance(
        exc,
        asyncpg.OperatorInterventionError
        | asyncpg.InsufficientResourcesError
        | asyncpg.IdleInTransactionSessionTimeoutError,
    ):
        return DatabaseUnavailable("The database is unavailable; nothing was changed")
    return None


def _lost(exc: BaseException, in_doubt: bool) -> BookingError:
    if in_doubt:
        return OutcomeUnknown(
            "The database did not confirm the outcome: the change may or may not have been committed. "
            "Retry with the same Idempotency-Key to get the first answer, or read the seat or booking"
        )
    if isinstance(exc, TimeoutError):
        return DatabaseBusy("The database did not answer in time; nothing was changed")
    return DatabaseUnavailable("The database connection failed; nothing was changed")


def _seat_id_from_detail(exc: asyncpg.UniqueViolationError) -> int:
    """Best effort: `Key (seat_id)=(42) already exists.` -> 42 (0 if the shape differs)."""
    detail = getattr(exc, "detail", "") or ""
    start, end = detail.find("=("), detail.find(")", detail.find("=(") + 2)
    try:
        return int(detail[start + 2 : end])
    except ValueError:
        return 0
