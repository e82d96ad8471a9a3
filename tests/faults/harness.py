"""Fault-injection harness: record every operation as ok / fail / unknown, then check invariants.

A 201 is `ok`. A definite refusal (4xx, or a 503 whose code promises that nothing was committed:
busy, unavailable, Redis down, starting) is `fail`. No answer, or `503 OUTCOME_UNKNOWN` (the
statement or its COMMIT reached the database and the answer was lost), is `unknown`: such a
booking may exist, and only an unknown operation may explain a database row no client was told
about. Any other answer (a 500, an unlisted 503 code) is a failure of the check itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import psycopg

from tests.helpers import DEADLINE_S, wait_for
from tests.support import free_port, pg_connect

DEFINITE_503 = {"DATABASE_BUSY", "DATABASE_UNAVAILABLE", "REDIS_UNAVAILABLE", "STARTING"}
UNKNOWN_503 = {"OUTCOME_UNKNOWN"}


@dataclass
class Op:
    seat_id: int
    user_id: str
    strategy: str
    kind: str = "invoke"
    status: int | None = None
    error: str | None = None
    message: str | None = None
    retry_after: str | None = None
    latency_s: float = 0.0


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)

    def kinds(self) -> Counter[str]:
        return Counter(op.kind for op in self.ops)

    def statuses(self) -> Counter[int | None]:
        return Counter(op.status for op in self.ops)

    def summary(self) -> str:
        return f"kinds={dict(self.kinds())} statuses={dict(self.statuses())}"


def answered(history: History) -> int:
    """Operations that have an outcome (ok, fail or unknown) so far."""
    return sum(op.kind != "invoke" for op in history.ops)


def progress(history: History, more: int) -> Callable[[], bool]:
    """A probe that turns true once `more` operations than now have an outcome."""
    target = answered(history) + more
    return lambda: answered(history) >= target


async def book(client: httpx.AsyncClient, op: Op, history: History) -> Op:
    history.ops.append(op)
    body = {"seatId": op.seat_id, "userId": op.user_id, "strategy": op.strategy}
    start = time.perf_counter()
    try:
        response = await client.post("/api/v1/bookings", json=body)
    except (httpx.TransportError, asyncio.CancelledError):
        op.kind = "unknown"
        op.latency_s = time.perf_counter() - start
        return op
    op.latency_s = time.perf_counter() - start
    op.status = response.status_code
    op.retry_after = response.headers.get("retry-after")
    if response.status_code >= 400:
        with contextlib.suppress(ValueError, AttributeError):
            body = response.json()
            op.error, op.message = body.get("error"), body.get("message")
    op.kind = classify(op)
    return op


def classify(op: Op) -> str:
    """ok, fail or unknown, from the answer alone (a missing answer is unknown)."""
    if op.status is None:
        return "unknown"
    if op.status == 201:
        return "ok"
    if op.status < 500 or (op.status == 503 and op.error in DEFINITE_503):
        return "fail"
    return "unknown"


async def load(
    base_url: str,
    seats: range,
    count: int,
    strategies: tuple[str, ...],
    history: History,
    *,
    concurrency: int = 30,
    timeout_s: float = 15.0,
    pace_s: float = 0.0,
    stop: asyncio.Event | None = None,
) -> None:
    """`count` bookings on random seats from `concurrency` clients; `pace_s` spreads them over time.

    With `stop`, the load runs until the event is set (`count` is then only a cap): the test injects
    its fault while requests are in flight, however fast or slow the machine is today.
    """
    rng = random.Random()
    tag = uuid.uuid4().hex[:6]
    queue = (Op(rng.choice(seats), f"u-{tag}-{i}", rng.choice(strategies)) for i in range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:

        async def worker() -> None:
            for op in queue:
                if stop is not None and stop.is_set():
                    return
                await book(client, op, history)
                if pace_s:
                    await asyncio.sleep(pace_s)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def connect(database_url: str, autocommit: bool = False) -> psycopg.Connection:
    return pg_connect(database_url, autocommit=autocommit, retry_s=15)


def check_invariants(
    database_url: str, history: History, definite_503: frozenset[str] | set[str] = DEFINITE_503
) -> None:
    """One winner per seat; every 201 in the database; every booking acknowledged once or explained.

    `definite_503`: the 503 codes that promise nothing was committed (a deployment may add its own,
    e.g. the load balancer's page when no instance is up)."""
    assert all(op.kind != "invoke" for op in history.ops), "an operation never completed"
    server_errors = [op for op in history.ops if op.status is not None and op.status >= 500 and op.status != 503]
    assert not server_errors, f"5xx other than 503: {server_errors[:5]}"
    for op in history.ops:
        if op.status == 503:
            assert op.retry_after and op.retry_after.isdigit(), f"503 without Retry-After: {op}"
            assert op.error in definite_503 | UNKNOWN_503, f"503 with an unlisted code: {op}"
    with connect(database_url) as conn:
        rows = conn.execute("SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'").fetchall()
        disagree = conn.execute(
            "SELECT count(*) FROM seats s FULL JOIN (SELECT * FROM bookings WHERE status = 'CONFIRMED') b"
            " ON b.seat_id = s.id WHERE (s.status = 'BOOKED') IS DISTINCT FROM (b.id IS NOT NULL)"
            " OR (b.id IS NOT NULL AND s.booked_by IS DISTINCT FROM b.user_id)"
        ).fetchone()
    per_seat = Counter(seat for seat, _ in rows)
    doubles = {seat: n for seat, n in per_seat.items() if n > 1}
    assert not doubles, f"seats booked more than once: {doubles}"
    assert disagree == (0,), f"{disagree} seats disagree with their booking row"
    in_db = set(rows)
    ok = [(op.seat_id, op.user_id) for op in history.ops if op.kind == "ok"]
    winners = Counter(seat for seat, _ in ok)
    assert all(n == 1 for n in winners.values()), f"a seat was answered 201 twice: {winners.most_common(3)}"
    missing = set(ok) - in_db
    assert not missing, f"acknowledged bookings missing from the database: {sorted(missing)[:5]}"
    unknown = {(op.seat_id, op.user_id) for op in history.ops if op.kind == "unknown"}
    unexplained = in_db - set(ok) - unknown
    told = {(op.seat_id, op.user_id): f"{op.status} {op.error} {op.message}" for op in history.ops if op.kind == "fail"}
    hidden = {booking: told.get(booking) for booking in sorted(unexplained)[:5]}
    assert not unexplained, f"committed bookings behind a definite answer (or none asked for): {hidden}"


def assert_no_idle_transactions(database_url: str, timeout_s: float = 5.0) -> None:
    """The app must never leave a pooled session `idle in transaction` (it would hold row locks).

    The wait stays well under the server's 10 s idle_in_transaction_session_timeout, which would
    end a leaked transaction and hide the leak.
    """
    name = database_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout_s
    with connect(database_url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'boxoffice'"
                " AND state LIKE 'idle in transaction%%'",
                (name,),
            ).fetchone()
            if row == (0,):
                return
            assert time.monotonic() < deadline, f"{row} sessions idle in transaction"
            time.sleep(0.1)


async def assert_recovers(
    base_url: str, seats: range, strategies: tuple[str, ...], history: History, within_s: float = DEADLINE_S
) -> None:
    """Without a restart, fresh bookings on untouched seats succeed again within a bounded time."""
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for i, seat in enumerate(seats):
            strategy = strategies[i % len(strategies)]
            while True:
                op = await book(client, Op(seat, f"recover-{uuid.uuid4().hex[:8]}", strategy), history)
                if op.kind == "ok":
                    break
                assert op.status in (None, 503), f"unexpected answer while recovering: {op}"
                assert time.monotonic() < deadline, f"no recovery within {within_s}s: {op}"
                await asyncio.sleep(0.2)


@contextlib.contextmanager
def held_row_locks(database_url: str, seat_ids: list[int]) -> Iterator[psycopg.Connection]:
    """A slow transaction: holds the seats' row locks until the block ends."""
    with connect(database_url) as conn:
        conn.execute("SELECT id FROM seats WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (seat_ids,))
        try:
            yield conn
        finally:
            conn.rollback()


@dataclass
class PrivateRedis:
    """A redis-server of our own on a free port: the only Redis a test may stop or flush."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        ping = ["redis-cli", "-p", str(self.port), "ping"]
        wait_for(lambda: subprocess.run(ping, capture_output=True).stdout == b"PONG\n", what="private redis to start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def flushall(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "flushall"], check=True, capture_output=True)


def workers(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor `pid` (not multiprocessing's resource tracker)."""
    ps = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True)
    children = (line.strip().split(maxsplit=1) for line in ps.stdout.splitlines() if line.strip())
    return [int(child[0]) for child in children if len(child) == 2 and "spawn_main" in child[1]]


def lease_count(redis_url: str, prefix: str) -> int:
    """Seat leases currently held in Redis under `prefix`."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sum(1 for _ in client.scan_iter(f"{prefix}lock:seat:*", count=1000))
    finally:
        client.close()


def app_sessions(database_url: str, condition: str) -> int:
    """The app's pooled sessions on this test's database that match `condition` (SQL on pg_stat_activity)."""
    name = database_url.rsplit("/", 1)[1]
    with connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'boxoffice'"
            f" AND {condition}",
            (name,),
        ).fetchone()
    assert row is not None
    count: int = row[0]
    return count
