"""Every driver failure is translated into the outcome it really has: definite, or unknown.

A real PostgreSQL behind a TCP proxy that can swallow the database's answers (the statement runs,
the client never hears) or cut the connection. The database is then asked what was committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import psycopg
import pytest

from boxoffice.booking.idempotency import Answer, IdempotencyService
from boxoffice.domain import DatabaseBusy, DatabaseUnavailable, InvalidInput, OutcomeUnknown, SeatOccupied
from boxoffice.storage.db import Database
from boxoffice.storage.migrate import upgrade
from tests.helpers import DEADLINE_S
from tests.observability.helpers import TcpProxy
from tests.support import fresh_database

APP = "bo-outcomes"


@dataclass
class Setup:
    url: str
    """Direct, for checking what the database holds."""
    proxy: TcpProxy
    db: Database

    def ids(self) -> set[int]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return {row[0] for row in conn.execute("SELECT id FROM t").fetchall()}

    def backends(self, state: str | None = None) -> list[tuple[int, str, str]]:
        """The app's sessions on this test's database: an earlier test's, terminated with its dropped
        database, can linger in `pg_stat_activity` for a moment and must not be taken for ours."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid, state, query FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (APP,),
            ).fetchall()
        return [r for r in rows if state is None or r[1] == state]


async def wait_until(probe: Callable[[], object], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(probe):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def settle(setup: Setup) -> None:
    """Restore the proxy and wait until no session of ours is left mid-statement or mid-transaction."""
    setup.proxy.open()
    await wait_until(lambda: not [b for b in setup.backends() if b[1] != "idle"], "the app's sessions to settle")


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    with fresh_database("bo_outcomes") as url, TcpProxy(5432) as proxy:
        proxy.open()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        pool = await asyncpg.create_pool(
            url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
            min_size=1,
            max_size=2,
            command_timeout=1.0,
            # A backend whose client is cut off notices it during a long statement, not only after it.
            server_settings={"application_name": APP, "client_connection_check_interval": "100"},
        )
        assert pool is not None
        try:
            yield Setup(url, proxy, Database(pool, acquire_timeout_s=1.0, pool_max=2))
        finally:
            proxy.open()
            pool.terminate()


async def raises(kind: type[Exception], action: Callable[[], Awaitable[object]]) -> Exception:
    with pytest.raises(kind) as caught:
        await action()
    return caught.value


# --- no answer: a write or COMMIT in flight is unknown, anything before it definite -------------


async def test_an_autocommit_write_whose_answer_is_lost_is_unknown(setup: Setup) -> None:
    async def write() -> None:
        async with setup.db.atomic() as conn:
            setup.proxy.drop_replies()
            await conn.execute("INSERT INTO t VALUES (1)")  # simple protocol: one message, runs at once

    failure = await raises(OutcomeUnknown, write)
    assert "Idempotency-Key" in str(failure) and failure.retry_after_s >= 1  # type: ignore[attr-defined]
    await settle(setup)
    assert setup.ids() == {1}  # it did commit: a definite refusal would have been a lie


async def test_a_commit_whose_answer_is_lost_is_unknown(setup: Setup) -> None:
    async def commit() -> None:
        async with setup.db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (2)")
            setup.proxy.drop_replies(after=b"COMMIT")  # it reaches the database; its answer never returns

    await raises(OutcomeUnknown, commit)
    await settle(setup)
    assert setup.ids() == {2}


async def test_no_answer_before_commit_is_definite_and_nothing_commits(setup: Setup) -> None:
    async def stalled() -> None:
        async with setup.db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (3)")
            setup.proxy.drop_replies()
            await conn.execute("SELECT 1")

    await raises(DatabaseBusy, stalled)
    await settle(setup)
    assert setup.ids() == set()
    # The pool works again: the session that lost its answer was discarded, not reused.
    async with setup.db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (4)")
    assert setup.ids() == {4}


async def test_a_read_only_transaction_is_never_unknown(setup: Setup) -> None:
    async def read() -> None:
        async with setup.db.transaction(readonly=True) as conn:
            await conn.fetchval("SELECT count(*) FROM t")
            setup.proxy.drop_replies()

    await raises(DatabaseBusy, read)
    await settle(setup)


async def test_a_pool_acquire_timeout_is_definite(setup: Setup) -> None:
    release = asyncio.Event()

    async def occupy() -> None:
        async with setup.db.transaction():
            await release.wait()

    holders = [asyncio.create_task(occupy()) for _ in range(2)]
    await wait_until(lambda: len(setup.backends("idle in transaction")) == 2, "both connections to be taken")

    async def third() -> None:
        async with setup.db.atomic() as conn:
            await conn.execute("INSERT INTO t VALUES (13)")

    failure = await raises(DatabaseBusy, third)
    assert "No database connection became free" in str(failure)
    release.set()
    await asyncio.gather(*holders)


async def test_an_unreachable_database_is_definite(setup: Setup) -> None:
    setup.proxy.close()
    setup.db.pool.terminate()
    pool = await asyncpg.create_pool(
        f"postgresql://postgres@127.0.0.1:{setup.proxy.port}/postgres", min_size=0, max_size=1
    )
    assert pool is not None
    try:
        db = Database(pool, acquire_timeout_s=1.0, pool_max=1)

        async def write() -> None:
            async with db.atomic() as conn:
                await conn.execute("INSERT INTO t VALUES (5)")

        await raises(DatabaseUnavailable, write)
    finally:
        pool.terminate()


# --- the connection is cut ----------------------------------------------------------------------


async def test_a_connection_cut_during_an_autocommit_write_is_unknown(setup: Setup) -> None:
    async def write() -> None:
        async with setup.db.atomic() as conn:
            await conn.execute("INSERT INTO t VALUES (6); SELECT pg_sleep(30)", timeout=60)

    task = asyncio.create_task(raises(OutcomeUnknown, write))
    await wait_until(lambda: setup.backends("active"), "the statement to run")
    setup.proxy.close()
    await task


async def test_a_connection_cut_inside_a_transaction_is_definite(setup: Setup) -> None:
    async def work() -> None:
        async with setup.db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (7)")
            await conn.execute("SELECT pg_sleep(30)", timeout=60)

    task = asyncio.create_task(raises(DatabaseUnavailable, work))
    await wait_until(lambda: setup.backends("active"), "the statement to run")
    setup.proxy.close()
    await task
    await settle(setup)
    assert setup.ids() == set()


async def test_a_terminated_backend_is_unknown_only_for_an_autocommit_write(setup: Setup) -> None:
    async def write() -> None:
        async with setup.db.atomic() as conn:
            await conn.execute("SELECT pg_sleep(30)", timeout=60)

    async def in_transaction() -> None:
        async with setup.db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (8)")
            await conn.execute("SELECT pg_sleep(30)", timeout=60)

    for action, kind in ((write, OutcomeUnknown), (in_transaction, DatabaseUnavailable)):
        task = asyncio.create_task(raises(kind, action))
        await wait_until(lambda: setup.backends("active"), "the statement to run")
        with psycopg.connect(setup.url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (APP,),
            )
        await task
        # The terminated backend may linger as active: gone before the next round looks for its own.
        await wait_until(lambda: not setup.backends("active"), "the terminated backend to exit")
    assert setup.ids() == set()


# --- the server refused: always definite --------------------------------------------------------


async def test_server_refusals_are_definite_even_for_autocommit_writes(setup: Setup) -> None:
    async with setup.db.atomic() as conn:
        await conn.execute("INSERT INTO t VALUES (9)")

    async def duplicate() -> None:
        async with setup.db.atomic() as conn:
            await conn.execute("INSERT INTO t VALUES (9)")

    async def with_timeout(setting: str, sql: str) -> None:
        async with setup.db.atomic() as conn:
            await conn.execute(f"SET {setting} = 50")
            try:
                await conn.execute(sql)
            finally:
                await conn.execute(f"RESET {setting}")

    async def statement_timeout() -> None:
        await with_timeout("statement_timeout", "INSERT INTO t SELECT 14 FROM pg_sleep(5)")

    async def unencodable() -> None:
        async with setup.db.atomic() as conn:
            await conn.execute("INSERT INTO t VALUES (10, $1)", "x\ud800y")

    async def bad_cast() -> None:
        async with setup.db.atomic() as conn:
            await conn.fetchval("SELECT $1::text::int", "ten")

    await raises(SeatOccupied, duplicate)
    await raises(DatabaseBusy, statement_timeout)
    failure = await raises(InvalidInput, unencodable)
    assert "\ud800" not in str(failure)  # never echoed: it could not be encoded into the answer either
    await raises(InvalidInput, bad_cast)

    with psycopg.connect(setup.url) as other:
        other.execute("SELECT * FROM t WHERE id = 9 FOR UPDATE")
        await raises(DatabaseBusy, lambda: with_timeout("lock_timeout", "UPDATE t SET note = 'x' WHERE id = 9"))
        other.rollback()
    assert setup.ids() == {9}


async def test_a_serialization_failure_is_definite(setup: Setup) -> None:
    async with setup.db.atomic() as conn:
        await conn.execute("INSERT INTO t VALUES (11)")
    first_read = asyncio.Event()
    other_committed = asyncio.Event()

    async def reader_writer() -> None:
        async with setup.db.transaction(isolation="repeatable_read") as conn:
            await conn.fetchval("SELECT note FROM t WHERE id = 11")
            first_read.set()
            await other_committed.wait()
            await conn.execute("UPDATE t SET note = 'mine' WHERE id = 11")

    task = asyncio.create_task(raises(DatabaseBusy, reader_writer))
    await first_read.wait()
    with psycopg.connect(setup.url, autocommit=True) as other:
        other.execute("UPDATE t SET note = 'theirs' WHERE id = 11")
    other_committed.set()
    await task


# --- idempotency: an unknown outcome is never stored, and the retry resolves it -----------------


async def test_an_idempotent_request_with_a_lost_commit_is_resolved_by_its_retry(setup: Setup) -> None:
    await asyncio.to_thread(upgrade, setup.url)
    service = IdempotencyService(setup.db, ttl_s=60, per_user=10)
    runs: list[int] = []

    async def work() -> Answer:
        runs.append(1)
        async with setup.db.atomic() as conn:  # joins the key's transaction as a savepoint
            await conn.execute("INSERT INTO t VALUES (12)")
        return Answer(201, b'{"booked": 12}')

    setup.proxy.drop_replies(after=b"COMMIT")
    await raises(OutcomeUnknown, lambda: service.once("ann", "POST /t", "key-1", b"fp", work))
    await settle(setup)
    # It committed, with its answer: the retry replays it instead of running the work again.
    retried = await service.once("ann", "POST /t", "key-1", b"fp", work)
    assert retried == Answer(201, b'{"booked": 12}', replayed=True)
    assert len(runs) == 1 and setup.ids() == {12}
