"""PostgreSQL paused (SIGSTOP) for longer than the statement timeout, then resumed in either order.

Every process of a private cluster is frozen while bookings are in flight. A claim whose statement
was already written to a pooled connection cannot be answered: the client-side command timeout
fires, yet the frozen backend still holds the statement in its socket and runs it (and commits it)
once it is resumed, whether its cancel request reached the postmaster first or not. The server must
say so (`503 OUTCOME_UNKNOWN`); a definite code (`DATABASE_BUSY`) is only true for requests that
never wrote anything (a BEGIN that was not answered, a pool acquire that timed out).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from boxoffice.bench.env import PrivatePostgres
from tests.faults.harness import History, Op, assert_recovers, book, connect, held_row_locks
from tests.faults.test_faults import finish
from tests.helpers import DEADLINE_S
from tests.support import StartServer

POOL = 12
REQUESTS = 16  # more than the pool: the last ones time out in the acquire, before writing anything
STRATEGIES = ("ATOMIC", "DB", "REDIS")
pytestmark = pytest.mark.timeout(180)


class Frozen:
    """SIGSTOP every process of a cluster; resume backends and postmaster separately."""

    def __init__(self, pg: PrivatePostgres) -> None:
        self.postmaster = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
        ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.postmaster)], capture_output=True, check=True)
        self.children = [int(pid) for pid in ps.stdout.split()]
        assert self.children, "no PostgreSQL child processes"

    def stop(self) -> None:
        os.kill(self.postmaster, signal.SIGSTOP)  # first, so it forks nothing new meanwhile
        for child in self.children:
            os.kill(child, signal.SIGSTOP)

    def resume_backends(self) -> None:
        for child in self.children:
            os.kill(child, signal.SIGCONT)

    def resume_postmaster(self) -> None:
        os.kill(self.postmaster, signal.SIGCONT)


def app_backends(admin: psycopg.Connection) -> set[int]:
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'boxoffice'").fetchall()
    return {pid for (pid,) in rows}


async def prepare_every_connection(base_url: str, url: str, admin: psycopg.Connection, history: History) -> None:
    """Make every pooled connection prepare the claim statement, as a server that has been running does.

    A fresh connection would first send only Parse/Describe (no execution) and time out on that.
    Claims on one row-locked seat each keep a connection busy until all of them wait on the lock.
    """
    seat = 400
    ops = [Op(seat, f"warm-{i}", "ATOMIC") for i in range(POOL)]
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        with held_row_locks(url, [seat]):
            claims = asyncio.gather(*(book(client, op, history) for op in ops))
            deadline = time.monotonic() + DEADLINE_S
            while await asyncio.to_thread(lock_waiters, admin) < POOL:
                assert time.monotonic() < deadline, "the pool's connections did not all reach the lock"
                await asyncio.sleep(0.05)
        await claims
    assert sorted(op.status or 0 for op in ops) == [201] + [409] * (POOL - 1), history.summary()


def lock_waiters(admin: psycopg.Connection) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'boxoffice' AND wait_event_type = 'Lock'"
    ).fetchone()
    return int(row[0]) if row else 0


def wait_gone(admin: psycopg.Connection, pids: set[int], timeout_s: float = 60.0) -> None:
    """The frozen backends run what was queued in their sockets, then see their client gone and exit."""
    deadline = time.monotonic() + timeout_s
    while left := pids & app_backends(admin):
        assert time.monotonic() < deadline, f"backends still alive: {left}"
        time.sleep(0.1)


@contextmanager
def private_cluster() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(options="-c fsync=off")
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.mark.parametrize("order", ["backends_first", "postmaster_first"])
async def test_postgres_paused_longer_than_the_statement_timeout(order: str, start_server: StartServer) -> None:
    with private_cluster() as pg:
        server = start_server(
            database_url=pg.url,
            db_pool_min=POOL,
            db_pool_max=POOL,
            db_statement_timeout_ms=3000,  # the client-side command timeout is 1 s above it
            db_lock_timeout_ms=2500,
            db_acquire_timeout_s=1,
            # One claim, one pooled connection, as the warm-up and the frozen-socket count assume.
            claim_batch_max=1,
            single_flight=False,
        )
        history = History()
        with connect(pg.url, autocommit=True) as admin:
            # Every pooled connection is open and idle: each claim below writes to a frozen socket.
            deadline = time.monotonic() + DEADLINE_S
            while len(pooled := app_backends(admin)) < POOL:
                assert time.monotonic() < deadline, f"pool not open: {pooled}"
                await asyncio.sleep(0.1)
            await prepare_every_connection(server.base_url, pg.url, admin, history)
            frozen = Frozen(pg)
            frozen.stop()
            try:
                ops = [Op(seat, f"paused-{order}-{seat}", STRATEGIES[seat % 3]) for seat in range(1, REQUESTS + 1)]
                async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                    # Every answer arrives while PostgreSQL is still frozen: the pause outlasts them all.
                    await asyncio.gather(*(book(client, op, history) for op in ops))
            finally:
                if order == "backends_first":
                    frozen.resume_backends()
                    # The admin session is a backend too: it answers without the postmaster.
                    await asyncio.to_thread(wait_gone, admin, pooled)
                    frozen.resume_postmaster()
                else:
                    frozen.resume_postmaster()
                    # A new session is accepted only after the cancel requests queued before it.
                    await asyncio.to_thread(lambda: connect(pg.url, autocommit=True).close())
                    frozen.resume_backends()
            await asyncio.to_thread(wait_gone, admin, pooled)

        assert all(op.status == 503 for op in ops), history.summary()
        with connect(pg.url) as conn:
            rows = conn.execute("SELECT seat_id FROM bookings WHERE user_id LIKE 'paused-%'").fetchall()
            committed = {seat for (seat,) in rows}
        answers = [(op.seat_id, op.strategy, op.error, op.seat_id in committed) for op in ops]
        print(f"\n{order}: (seat, strategy, answer, committed) {answers}")  # shown with -s / -rP
        # The fault is real: claims committed although no client was told they succeeded ...
        assert committed, "no claim committed behind the pause; the fault did not happen"
        # ... and every one of them was answered OUTCOME_UNKNOWN, never a definite refusal.
        behind = {op.seat_id: op.error for op in ops if op.seat_id in committed}
        assert set(behind.values()) == {"OUTCOME_UNKNOWN"}, behind
        # Requests that never wrote (no pooled connection free in time) are definite.
        assert {op.error for op in ops} <= {"OUTCOME_UNKNOWN", "DATABASE_BUSY"}, history.summary()
        for op in ops:
            if op.error == "OUTCOME_UNKNOWN":
                assert op.message and "Idempotency-Key" in op.message, op
        await assert_recovers(server.base_url, range(301, 311), STRATEGIES, history)
        finish(pg.url, history)
