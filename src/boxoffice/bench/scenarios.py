"""Workloads, the raw-SQL limit, statistics and the correctness check after each run."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import psutil  # type: ignore[import-untyped]

from boxoffice.bench.client import UNKNOWN, Call, Outcome, run_calls
from boxoffice.domain import BookingError, Strategy
from boxoffice.storage import seats


@dataclass(frozen=True)
class Sizes:
    hot_clients: int
    spread_requests: int
    spread_seats: int
    sellout_seats: int
    sellout_factor: int
    concurrency: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(1000, 20_000, 5_000, 10_000, 5, 64)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(1000, 3_000, 1_000, 1_000, 5, 64)

    @classmethod
    def tiny(cls) -> Sizes:
        return cls(50, 300, 100, 100, 3, 16)


@dataclass
class Result:
    scenario: str
    strategy: str
    requests: int
    seconds: float
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    client_cpu: float
    """Load generator CPU seconds per wall second (1.0 = one core busy)."""
    violations: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def hot_seat_calls(n: int, strategy: str) -> list[Call]:
    return [Call(1, f"hot-{strategy}-{i}", strategy) for i in range(n)]


def spread_calls(n: int, seat_count: int, strategy: str, rng: random.Random) -> list[Call]:
    return [Call(rng.randint(1, seat_count), f"sp-{strategy}-{i}", strategy) for i in range(n)]


def sellout_calls(seat_count: int, factor: int, strategy: str, rng: random.Random) -> list[Call]:
    """Every seat asked for `factor` times in random order, so none may stay unsold."""
    ids = [s for s in range(1, seat_count + 1) for _ in range(factor)]
    rng.shuffle(ids)
    return [Call(seat, f"so-{strategy}-{i}", strategy) for i, seat in enumerate(ids)]


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the server's workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def drive(
    scenario: str, strategy: str, host: str, port: int, calls: list[Call], concurrency: int, server_pid: int
) -> tuple[Result, list[Outcome]]:
    cpu = time.process_time()
    server_cpu = tree_cpu_s(server_pid)
    outcomes, seconds = await run_calls(host, port, calls, concurrency=concurrency)
    server_cpu = tree_cpu_s(server_pid) - server_cpu
    cpu = time.process_time() - cpu
    result = summarise(scenario, strategy, outcomes, seconds, cpu)
    # CPU per request is robust to other tenants on the machine, unlike req/s.
    result.extra["server_cpu_ms_per_req"] = round(1000 * server_cpu / max(1, len(outcomes)), 3)
    return result, outcomes


def summarise(scenario: str, strategy: str, outcomes: list[Outcome], seconds: float, cpu: float) -> Result:
    latencies = sorted(o.latency_s * 1000 for o in outcomes)
    statuses = Counter(
        "unknown" if o.status == UNKNOWN else f"{o.status} {o.error}" if o.error else str(o.status) for o in outcomes
    )
    result = Result(
        scenario=scenario,
        strategy=strategy,
        requests=len(outcomes),
        seconds=seconds,
        statuses=dict(sorted(statuses.items())),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
        client_cpu=cpu / seconds if seconds else 0.0,
    )
    if scenario != "hot-seat":
        return result
    winners = statuses.get("201", 0)
    result.extra["winners"] = winners
    if winners != 1:
        result.violations.append(f"hot seat had {winners} winners")
    return result


async def verify(database_url: str, result: Result, outcomes: list[Outcome], must_sell: int = 0) -> None:
    """Compare what clients were told with what the database holds; append every mismatch."""
    conn = await asyncpg.connect(database_url)
    try:
        bookings = await conn.fetch("SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'")
        doubles = await conn.fetchval(
            "SELECT count(*) FROM (SELECT seat_id FROM bookings WHERE status = 'CONFIRMED'"
            " GROUP BY seat_id HAVING count(*) > 1) d"
        )
        mismatched = await conn.fetchval(
            "SELECT count(*) FROM seats s FULL JOIN (SELECT * FROM bookings WHERE status = 'CONFIRMED') b"
            " ON b.seat_id = s.id WHERE (s.status = 'BOOKED') IS DISTINCT FROM (b.id IS NOT NULL)"
            " OR (b.id IS NOT NULL AND s.booked_by IS DISTINCT FROM b.user_id)"
        )
        unsold = await conn.fetchval("SELECT count(*) FROM seats WHERE id <= $1 AND status = 'AVAILABLE'", must_sell)
    finally:
        await conn.close()
    in_db = {(r["seat_id"], r["user_id"]) for r in bookings}
    acknowledged = {(o.call.seat_id, o.call.user_id) for o in outcomes if o.status == 201}
    unknown = {(o.call.seat_id, o.call.user_id) for o in outcomes if o.status == UNKNOWN}
    v = result.violations
    if doubles:
        v.append(f"{doubles} seats booked more than once")
    if mismatched:
        v.append(f"{mismatched} seats disagree with their booking row")
    if lost := acknowledged - in_db:
        v.append(f"{len(lost)} bookings answered 201 but missing from the database")
    if unexplained := in_db - acknowledged - unknown:
        v.append(f"{len(unexplained)} bookings in the database that no client was told about")
    if unsold and not any(o.status in (UNKNOWN, 503) for o in outcomes):
        v.append(f"{unsold} seats left unsold although every seat was requested")
    result.extra["booked"] = len(in_db)
    if must_sell:
        result.extra["unsold"] = unsold


async def raw_limit(
    database_url: str, strategy: Strategy, calls: list[Call], connections: int
) -> tuple[Result, list[Outcome]]:
    """The same claim code with no HTTP and no pool: the ceiling the engine is measured against.

    Each of `connections` workers owns one connection (as many as the server's pool), so nothing
    but the claim itself is timed.
    """
    conns = [await asyncpg.connect(database_url) for _ in range(connections)]

    async def claim(conn: asyncpg.Connection, seat_id: int, user_id: str) -> None:
        if strategy is Strategy.DB:
            async with conn.transaction():
                await seats.claim_with_row_lock(conn, seat_id, user_id, strategy)
        else:
            await seats.claim(conn, seat_id, user_id, strategy)

    outcomes: list[Outcome] = []
    work = iter(calls)

    async def worker(conn: asyncpg.Connection) -> None:
        for call in work:
            start = time.perf_counter()
            try:
                await claim(conn, call.seat_id, call.user_id)
                status = 201
            except BookingError:
                status = 409
            now = time.perf_counter()
            outcomes.append(Outcome(call, status, now - start, now - started))

    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    return summarise("spread", f"raw-sql-{strategy.value}", outcomes, seconds, cpu), outcomes
