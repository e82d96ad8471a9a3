"""The ambient unit of work: one transaction per task, nested use as savepoints, effects after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from boxoffice.domain import SeatOccupied
from boxoffice.storage.db import Database, in_transaction, on_commit
from tests.support import fresh_database


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    with fresh_database("bo_uow") as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=3)
        assert pool is not None
        try:
            async with pool.acquire() as conn:
                await conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
            yield Database(pool, acquire_timeout_s=5, pool_max=3)
        finally:
            await pool.close()


async def ids(db: Database) -> list[int]:
    async with db.connection() as conn:
        return [r[0] for r in await conn.fetch("SELECT id FROM t ORDER BY id")]


async def test_on_commit_runs_at_once_outside_a_transaction() -> None:
    ran: list[str] = []
    assert not in_transaction()
    on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


async def test_callbacks_run_after_the_outermost_commit_and_see_its_writes(db: Database) -> None:
    seen: list[list[int]] = []
    observed: list[bool] = []

    async def check() -> None:
        seen.append(await ids(db))

    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        on_commit(lambda: observed.append(in_transaction()))
        async with db.transaction() as inner:
            assert inner is conn, "nested use reuses the unit's connection"
            await inner.execute("INSERT INTO t VALUES (2)")
            on_commit(lambda: observed.append(in_transaction()))
        assert observed == [], "nothing runs before the outermost commit"
        # Another task does not see the open unit (its own context) and cannot see the rows yet.
        await asyncio.create_task(check())
    assert observed == [False, False]
    await check()
    assert seen[0] == [], "another task neither joins the unit nor sees its uncommitted rows"
    assert seen[1] == [1, 2]


async def test_a_rolled_back_transaction_drops_its_callbacks(db: Database) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            on_commit(lambda: ran.append("outer"))
            raise RuntimeError("boom")
    assert ran == [] and await ids(db) == []


async def test_a_failed_savepoint_drops_only_its_own_callbacks_and_writes(db: Database) -> None:
    ran: list[str] = []
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        on_commit(lambda: ran.append("kept"))
        with pytest.raises(SeatOccupied):
            async with db.transaction() as inner:
                await inner.execute("INSERT INTO t VALUES (2)")
                on_commit(lambda: ran.append("dropped"))
                # A unique violation inside the savepoint is translated and leaves the outer usable.
                await inner.execute("INSERT INTO t VALUES (1)")
        async with db.atomic() as step:
            await step.execute("INSERT INTO t VALUES (3)")
            on_commit(lambda: ran.append("atomic"))
    assert ran == ["kept", "atomic"]
    assert await ids(db) == [1, 3]


async def test_a_failing_callback_neither_stops_the_others_nor_fails_the_commit(db: Database) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("listener bug")

    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        on_commit(broken)
        on_commit(lambda: ran.append("second"))
    assert ran == ["second"] and await ids(db) == [1]
