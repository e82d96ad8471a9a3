"""Connection pool and the translation of driver failures into domain failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg

from boxoffice.domain import DatabaseBusy, DatabaseUnavailable, SeatOccupied
from boxoffice.settings import Settings

Pool = asyncpg.Pool


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


@asynccontextmanager
async def connection(pool: Pool, acquire_timeout_s: float) -> AsyncIterator[asyncpg.Connection]:
    """Borrow a connection; translate every driver failure into a domain failure.

    A bounded acquire turns pool exhaustion into a prompt 503 instead of an unbounded queue.
    """
    try:
        async with pool.acquire(timeout=acquire_timeout_s) as conn:
            try:
                # The pool's proxy forwards every Connection method; type it as one.
                yield cast(asyncpg.Connection, conn)
            except asyncpg.InternalClientError:
                # The protocol lost track of its state (e.g. the backend was terminated between two
                # statements): this connection can never be trusted again, so the pool must replace it.
                conn.terminate()
                raise
    except TimeoutError as exc:
        raise DatabaseBusy("No database connection became free in time; retry shortly") from exc
    except asyncpg.UniqueViolationError as exc:
        seat_id = _seat_id_from_detail(exc)
        raise SeatOccupied(seat_id) from exc
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
