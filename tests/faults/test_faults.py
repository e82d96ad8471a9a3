"""Faults injected while bookings are in flight; invariants checked against the database afterwards.

Every case uses its own database, Redis key prefix and server; a case that stops Redis or
PostgreSQL does it to a private instance on a free port, never to the shared services.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import httpx

from boxoffice.bench.env import PrivatePostgres
from tests.faults.harness import (
    History,
    Op,
    PrivateRedis,
    app_sessions,
    assert_no_idle_transactions,
    assert_recovers,
    book,
    check_invariants,
    connect,
    held_row_locks,
    lease_count,
    load,
    progress,
    workers,
)
from tests.helpers import DEADLINE_S, until, wait_for
from tests.observability.helpers import Samples, scrape, value
from tests.support import REDIS_URL, StartServer

LOAD_SEATS = range(1, 301)
RECOVERY_SEATS = range(301, 311)
ALL = ("ATOMIC", "DB", "REDIS")
LOCK_WAIT = "wait_event_type = 'Lock'"


def finish(database_url: str, history: History) -> None:
    print(f"\nfault history: {history.summary()}")  # shown with -s / -rP: what the clients saw
    check_invariants(database_url, history)
    assert_no_idle_transactions(database_url)


async def test_worker_sigkill_mid_load(fault_db: str, start_server: StartServer) -> None:
    server = start_server("--workers", "2", database_url=fault_db)
    assert server.proc is not None
    pid = server.proc.pid
    # Both workers answer `/api` before the supervisor lists them all: wait for two.
    before = wait_for(lambda: pids if len(pids := workers(pid)) == 2 else None, what="two workers")
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
    await until(lambda: victim not in (alive := workers(pid)) and len(alive) == 2, what="the worker's replacement")
    finish(fault_db, history)


async def test_sigstop_longer_than_lease_does_not_double_book(fault_db: str, start_server: StartServer) -> None:
    """A takes 20 Redis leases, freezes past their expiry, and B books the same seats meanwhile.

    A's pool has 5 connections: 5 of its claims already wait inside PostgreSQL when it freezes
    (they commit while A sleeps), 15 are frozen before reaching it. B must find its leases expired,
    lose the first 5 and win the 15; A, resumed, must be refused those 15 by the database.
    """
    lease = {"redis_lock_lease_ms": 300, "redis_lock_wait_ms": 0}
    a = start_server(database_url=fault_db, db_pool_max=5, db_acquire_timeout_s=60, log="a", **lease)
    b = start_server(database_url=fault_db, log="b", **lease)
    assert a.proc is not None
    prefix = a.env["BOXOFFICE_REDIS_KEY_PREFIX"]
    seats = list(range(1, 21))
    history = History()
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=2 * DEADLINE_S) as ca,
        httpx.AsyncClient(base_url=b.base_url, timeout=DEADLINE_S) as cb,
    ):
        with held_row_locks(fault_db, seats):
            a_tasks = [asyncio.create_task(book(ca, Op(s, f"a-{s}", "REDIS"), history)) for s in seats]
            # A's pool is full: 5 claims wait on the row locks, the rest (past their leases) on the pool.
            await until(lambda: app_sessions(fault_db, LOCK_WAIT) == 5, what="5 of A's claims on the row locks")
            os.killpg(a.proc.pid, signal.SIGSTOP)
        try:
            await until(lambda: lease_count(REDIS_URL, prefix) == 0, what="A's leases to expire while A is frozen")
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


async def test_redis_flushall_stop_and_restart(fault_db: str, start_server: StartServer) -> None:
    redis = PrivateRedis()
    redis.start()
    try:
        server = start_server(database_url=fault_db, redis_url=redis.url, redis_timeout_s=0.3)
        history = History()
        stop = asyncio.Event()
        loader = asyncio.create_task(
            load(server.base_url, LOAD_SEATS, 20_000, ("REDIS",), history, concurrency=20, pace_s=0.02, stop=stop)
        )
        await until(lambda: history.kinds()["ok"] >= 10, what="bookings before the fault")
        redis.flushall()  # every lease vanishes at once
        await until(progress(history, 20), what="bookings with every lease gone")
        redis.stop()
        mark = len(history.ops)
        await until(lambda: any(op.status == 503 for op in history.ops[mark:]), what="503s while Redis is down")
        redis.start()
        mark = len(history.ops)
        await until(lambda: any(op.kind == "ok" for op in history.ops[mark:]), what="bookings after the restart")
        stop.set()
        await loader
        statuses = history.statuses()
        assert statuses[201] > 0, history.summary()
        outage = [op for op in history.ops if op.status == 503]
        assert outage and all(op.error == "REDIS_UNAVAILABLE" for op in outage), history.summary()
        await assert_recovers(server.base_url, RECOVERY_SEATS, ("REDIS",), history)
        finish(fault_db, history)
    finally:
        redis.stop()


async def test_postgres_restart_during_load(start_server: StartServer) -> None:
    pg = PrivatePostgres(options="-c fsync=off")
    try:
        pg.init()
        pg.start()
        server = start_server(database_url=pg.url, db_acquire_timeout_s=1, db_pool_max=10)
        history = History()
        stop = asyncio.Event()
        strategies = ("ATOMIC", "DB")
        loader = asyncio.create_task(
            load(server.base_url, LOAD_SEATS, 20_000, strategies, history, concurrency=20, pace_s=0.02, stop=stop)
        )
        await until(lambda: history.kinds()["ok"] >= 10, what="bookings before the fault")
        await asyncio.to_thread(pg.stop)
        mark = len(history.ops)
        await until(lambda: any(op.status == 503 for op in history.ops[mark:]), what="503s while PostgreSQL is down")
        await asyncio.to_thread(pg.start)
        stop.set()
        await loader
        assert history.statuses()[503] > 0, history.summary()
        await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
        finish(pg.url, history)
    finally:
        pg.destroy()


async def test_backends_terminated_during_load(fault_db: str, start_server: StartServer) -> None:
    server = start_server(database_url=fault_db)
    name = fault_db.rsplit("/", 1)[1]
    history = History()
    stop = asyncio.Event()
    loader = asyncio.create_task(
        load(server.base_url, LOAD_SEATS, 20_000, ALL, history, concurrency=30, pace_s=0.01, stop=stop)
    )
    killed = 0
    with connect(fault_db, autocommit=True) as admin:
        for _ in range(4):
            # Each round: some bookings go through, then the backends die.
            await until(progress(history, 25), what="bookings between terminations")
            # Only this test's database, only the app's sessions.
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = 'boxoffice' AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
            killed += len(rows)
    await until(progress(history, 25), what="bookings after the last termination")
    stop.set()
    await loader
    assert killed > 0
    assert history.kinds()["ok"] > 0, history.summary()
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)


async def test_slow_database_answers_503_promptly(fault_db: str, start_server: StartServer) -> None:
    """The row locks are held until every answer is in: a 503 DATABASE_BUSY proves the server gave up
    on its own (lock_timeout), where a waiting server would answer only after the locks go."""
    server = start_server(database_url=fault_db, db_lock_timeout_ms=300, db_statement_timeout_ms=1000)
    locked = list(range(1, 11))
    history = History()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE_S) as client:
        with held_row_locks(fault_db, locked):
            ops = await asyncio.gather(
                *(book(client, Op(s, f"slow-{s}-{st}", st), history) for s in locked for st in ALL),
                *(book(client, Op(s, f"free-{s}", "ATOMIC"), history) for s in range(50, 60)),
            )
    on_locked = [op for op in ops if op.seat_id in locked]
    assert all(op.status == 503 and op.error == "DATABASE_BUSY" for op in on_locked), history.summary()
    print(f"\nanswered while locked after at most {max(op.latency_s for op in on_locked):.2f}s")
    assert all(op.status == 201 for op in ops if op.seat_id not in locked)
    await assert_recovers(server.base_url, range(1, 11), ALL, history)
    finish(fault_db, history)


async def test_pool_exhaustion_sheds_load(fault_db: str, start_server: StartServer) -> None:
    server = start_server(
        database_url=fault_db, db_pool_max=2, db_pool_min=1, db_acquire_timeout_s=0.2, db_lock_timeout_ms=1500
    )
    history = History()
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE_S, limits=limits) as client:
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
    print(f"\nshed after at most {max(op.latency_s for op in ops):.2f}s")
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)


def half_sent(samples: Samples) -> dict[str, float]:
    """POST /api/v1/holds requests (only the half-sent ones use it) counted as 499 (client gone) or 500."""
    route = {"method": "POST", "route": "/api/v1/holds"}
    return {status: value(samples, "http_requests_total", **route, status=status) for status in ("499", "500")}


async def test_clients_disconnecting_mid_request(fault_db: str, start_server: StartServer) -> None:
    server = start_server(database_url=fault_db, db_lock_timeout_ms=3000)
    assert server.log_path is not None
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

            counted = await asyncio.to_thread(wait_for, accounted, DEADLINE_S, "the half-sent requests to be counted")
            assert counted == {"499": 10, "500": 0}, counted
    assert history.kinds() == {"unknown": len(seats) * 3}, history.summary()
    # Their handlers ran on after the disconnect; once the app's sessions are idle, everything must add up.
    await until(lambda: app_sessions(fault_db, "state <> 'idle'") == 0, what="the abandoned handlers to finish")
    await assert_recovers(server.base_url, RECOVERY_SEATS, ALL, history)
    finish(fault_db, history)
    assert half_sent(scrape(server.base_url)) == {"499": 10, "500": 0}
    samples = scrape(server.base_url)
    server_errors = [k for k, v in samples.items() if k[0] == "http_requests_total" and ("status", "500") in k[1] and v]
    assert not server_errors, server_errors
    text = server.log_path.read_text()  # this server's own lines only: the factory starts every log empty
    assert "Traceback" not in text and "level=ERROR" not in text, text[-3000:]


async def test_duplicate_retries_book_once(fault_db: str, start_server: StartServer) -> None:
    server = start_server(database_url=fault_db)
    history = History()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
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
