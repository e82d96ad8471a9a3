"""Faults injected while bookings are in flight; invariants checked against the database afterwards.

Every case uses its own database, Redis key prefix and server; a case that stops Redis or
PostgreSQL does it to a private instance on a free port, never to the shared services.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time

import httpx
import pytest

from boxoffice.bench.env import PrivatePostgres
from tests.faults.harness import (
    History,
    Op,
    PrivateRedis,
    ServerFactory,
    assert_no_idle_transactions,
    assert_recovers,
    book,
    check_invariants,
    connect,
    held_row_locks,
    load,
    workers,
)
from tests.observability.helpers import Samples, scrape, value, wait_for

LOAD_SEATS = range(1, 301)
RECOVERY_SEATS = range(301, 311)
ALL = ("ATOMIC", "DB", "REDIS")

pytestmark = pytest.mark.timeout(120)


def finish(database_url: str, history: History) -> None:
    print(f"\nfault history: {history.summary()}")  # shown with -s / -rP: what the clients saw
    check_invariants(database_url, history)
    assert_no_idle_transactions(database_url)


async def test_worker_sigkill_mid_load(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(fault_db, "--workers", "2")
    assert server.proc is not None
    before = workers(server.proc.pid)
    assert len(before) == 2, before
    history = History()
    loader = asyncio.create_task(load(server.base_url, LOAD_SEATS, 900, ALL, history, concurrency=40))
    while sum(op.kind != "invoke" for op in history.ops) < 150:  # kill while requests are in flight
        assert not loader.done(), history.summary()
        await asyncio.sleep(0.01)
    victim = before[-1]
    os.kill(victim, signal.SIGKILL)
    await loader
    assert history.kinds()["ok"] > 0, history.summary()
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    # The supervisor replaces the dead worker: the server recovers without an operator restart.
    deadline = time.monotonic() + 15
    while victim in (alive := workers(server.proc.pid)) or len(alive) < 2:
        assert time.monotonic() < deadline, f"worker not replaced: {alive}"
        await asyncio.sleep(0.2)
    finish(fault_db, history)


async def test_sigstop_longer_than_lease_does_not_double_book(fault_db: str, start_server: ServerFactory) -> None:
    """A takes 20 Redis leases, freezes past their expiry, and B books the same seats meanwhile.

    A's pool has 5 connections: 5 of its claims already wait inside PostgreSQL when it freezes
    (they commit while A sleeps), 15 are frozen before reaching it. B must find its leases expired,
    lose the first 5 and win the 15; A, resumed, must be refused those 15 by the database.
    """
    lease = {"redis_lock_lease_ms": "300", "redis_lock_wait_ms": "0"}
    a = start_server(fault_db, db_pool_max="5", db_acquire_timeout_s="10", **lease)
    b = start_server(fault_db, **lease)
    assert a.proc is not None
    seats = list(range(1, 21))
    history = History()
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=20) as ca,
        httpx.AsyncClient(base_url=b.base_url, timeout=20) as cb,
    ):
        with held_row_locks(fault_db, seats):
            a_tasks = [asyncio.create_task(book(ca, Op(s, f"a-{s}", "REDIS"), history)) for s in seats]
            await asyncio.sleep(0.5)  # A now holds every lease; 5 claims wait on the row locks
            os.killpg(a.proc.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(0.6)  # A's leases expire while A is frozen
            b_ops = await asyncio.gather(*(book(cb, Op(s, f"b-{s}", "REDIS"), history) for s in seats))
        finally:
            os.killpg(a.proc.pid, signal.SIGCONT)
        a_ops = await asyncio.gather(*a_tasks)
    # B got past every (expired) lease: no refusal came from Redis.
    assert not [op for op in b_ops if op.message and "being booked" in op.message], history.summary()
    a_won = {op.seat_id for op in a_ops if op.status == 201}
    b_won = {op.seat_id for op in b_ops if op.status == 201}
    assert a_won and b_won, history.summary()  # both halves of the race happened
    assert a_won | b_won == set(seats) and not a_won & b_won
    assert all(op.status in (201, 409) for op in a_ops + b_ops), history.summary()
    finish(fault_db, history)


async def test_redis_flushall_stop_and_restart(fault_db: str, start_server: ServerFactory) -> None:
    redis = PrivateRedis()
    redis.start()
    try:
        server = start_server(fault_db, redis_url=redis.url, redis_timeout_s="0.3")
        history = History()
        loader = asyncio.create_task(
            load(server.base_url, LOAD_SEATS, 900, ("REDIS",), history, concurrency=20, pace_s=0.02)
        )
        await asyncio.sleep(0.4)
        redis.flushall()  # every lease vanishes at once
        await asyncio.sleep(0.3)
        redis.stop()
        await asyncio.sleep(0.8)
        redis.start()
        await loader
        statuses = history.statuses()
        assert statuses[201] > 0, history.summary()
        outage = [op for op in history.ops if op.status == 503]
        assert outage and all(op.error == "REDIS_UNAVAILABLE" for op in outage), history.summary()
        await assert_recovers(server.base_url, RECOVERY_SEATS, ("REDIS",), history)
        finish(fault_db, history)
    finally:
        redis.stop()


async def test_postgres_restart_during_load(start_server: ServerFactory) -> None:
    pg = PrivatePostgres(options="-c fsync=off")
    try:
        pg.init()
        pg.start()
        server = start_server(pg.url, db_acquire_timeout_s="1", db_pool_max="10")
        history = History()
        loader = asyncio.create_task(
            load(server.base_url, LOAD_SEATS, 800, ("ATOMIC", "DB"), history, concurrency=20, pace_s=0.02)
        )
        await asyncio.sleep(0.4)
        await asyncio.to_thread(pg.stop)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(pg.start)
        await loader
        assert history.statuses()[503] > 0, history.summary()
        await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
        finish(pg.url, history)
    finally:
        pg.destroy()


async def test_backends_terminated_during_load(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(fault_db)
    name = fault_db.rsplit("/", 1)[1]
    history = History()
    loader = asyncio.create_task(load(server.base_url, LOAD_SEATS, 900, ALL, history, concurrency=30, pace_s=0.01))
    killed = 0
    with connect(fault_db, autocommit=True) as admin:
        for _ in range(4):
            await asyncio.sleep(0.25)
            # Only this test's database, only the app's sessions.
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = 'boxoffice' AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
            killed += len(rows)
    await loader
    assert killed > 0
    assert history.kinds()["ok"] > 0, history.summary()
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)


async def test_slow_database_answers_503_promptly(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(fault_db, db_lock_timeout_ms="300", db_statement_timeout_ms="1000")
    locked = list(range(1, 11))
    history = History()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        with held_row_locks(fault_db, locked):
            # Every answer arrives while the slow transaction still holds its locks: nobody waited
            # for it to end (lock_timeout answered them), however busy the machine is.
            ops = await asyncio.gather(
                *(book(client, Op(s, f"slow-{s}-{st}", st), history) for s in locked for st in ALL),
                *(book(client, Op(s, f"free-{s}", "ATOMIC"), history) for s in range(50, 60)),
            )
    on_locked = [op for op in ops if op.seat_id in locked]
    assert all(op.status == 503 and op.error == "DATABASE_BUSY" for op in on_locked), history.summary()
    assert all(op.status == 201 for op in ops if op.seat_id not in locked)
    await assert_recovers(server.base_url, range(1, 11), ALL, history)
    finish(fault_db, history)


async def test_pool_exhaustion_sheds_load(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(
        fault_db, db_pool_max="2", db_pool_min="1", db_acquire_timeout_s="0.2", db_lock_timeout_ms="1500"
    )
    history = History()
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
        with held_row_locks(fault_db, [1, 2]):
            # Shed, not queued: every answer arrives while the lock holder still lives (it ends only
            # after the last one), so nobody waited for it; a timing bound would only measure the machine.
            ops = await asyncio.gather(
                *(book(client, Op(1 + i % 2, f"flood-{i}", ("ATOMIC", "DB")[i % 2]), history) for i in range(200))
            )
    # Everyone was refused definitely and told when to retry (finish() checks Retry-After).
    assert all(op.status == 503 for op in ops), history.summary()
    errors = {op.error for op in ops}
    assert errors <= {"DATABASE_BUSY"}, errors
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)


def half_sent(samples: Samples) -> dict[str, float]:
    """POST /api/v1/holds requests (only the half-sent ones use it) counted as 499 (client gone) or 500."""
    route = {"method": "POST", "route": "/api/v1/holds"}
    return {status: value(samples, "http_requests_total", **route, status=status) for status in ("499", "500")}


async def test_clients_disconnecting_mid_request(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(fault_db, db_lock_timeout_ms="3000")
    assert server.log_path is not None
    log_from = server.log_path.stat().st_size  # the file keeps earlier runs' lines
    seats = list(range(1, 31))
    history = History()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=0.3) as impatient:
        with held_row_locks(fault_db, seats):
            await asyncio.gather(*(book(impatient, Op(s, f"gone-{s}-{st}", st), history) for s in seats for st in ALL))
            # Half-sent requests: headers promise a body that never fully arrives.
            for _ in range(10):
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(
                        b"POST /api/v1/holds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 100\r\n\r\n{"seatIds": [1'
                    )

            # A client hanging up mid-body is not a server error: counted as 499, no traceback logged.
            def accounted() -> dict[str, float] | None:
                counts = half_sent(scrape(server.base_url))
                return counts if sum(counts.values()) >= 10 else None

            counted = await asyncio.to_thread(wait_for, accounted, 20, "the half-sent requests to be counted")
            assert counted == {"499": 10, "500": 0}, counted
    assert history.kinds() == {"unknown": len(seats) * 3}, history.summary()
    # Their handlers ran on after the disconnect; give them time to finish, then everything must add up.
    await asyncio.sleep(1.0)
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)
    assert half_sent(scrape(server.base_url)) == {"499": 10, "500": 0}
    samples = scrape(server.base_url)
    server_errors = [k for k, v in samples.items() if k[0] == "http_requests_total" and ("status", "500") in k[1] and v]
    assert not server_errors, server_errors
    with server.log_path.open() as log:
        log.seek(log_from)
        text = log.read()
    assert "Traceback" not in text and "level=ERROR" not in text, text[-3000:]


async def test_duplicate_retries_book_once(fault_db: str, start_server: ServerFactory) -> None:
    server = start_server(fault_db)
    history = History()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        for i, strategy in enumerate(ALL):
            seat = 100 + i
            same = [Op(seat, f"retry-{strategy}", strategy) for _ in range(10)]
            await asyncio.gather(*(book(client, op, history) for op in same[:5]))
            for op in same[5:]:
                await book(client, op, history)
            assert [op.status for op in same].count(201) == 1, [op.status for op in same]
            assert {op.status for op in same} == {201, 409}
    with connect(fault_db) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (3,)
    finish(fault_db, history)
