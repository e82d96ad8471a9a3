"""Workloads, the asyncpg claim loop and the correctness check after each run."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import asyncpg

from boxoffice.bench.client import UNKNOWN, Call, Outcome, run_calls
from boxoffice.bench.cpu import Meters
from boxoffice.bench.stats import Result, summarise_outcomes
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
    limit_seconds: float
    """How long pgbench measures each limit (at least; it runs whole rounds)."""
    spread_rounds: int = 1
    """Spread runs per strategy, interleaved between the strategies and merged per strategy."""

    @classmethod
    def full(cls) -> Sizes:
        return cls(1000, 20_000, 5_000, 10_000, 5, 64, 20.0, 3)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(1000, 3_000, 1_000, 1_000, 5, 64, 10.0, 3)

    @classmethod
    def tiny(cls) -> Sizes:
        return cls(50, 300, 100, 100, 3, 16, 1.0, 2)


def hot_seat_calls(n: int, strategy: str) -> list[Call]:
    return [Call(1, f"hot-{strategy}-{i}", strategy) for i in range(n)]


def spread_calls(n: int, seat_count: int, strategy: str, rng: random.Random) -> list[Call]:
    return [Call(rng.randint(1, seat_count), f"sp-{strategy}-{i}", strategy) for i in range(n)]


def sellout_calls(seat_count: int, factor: int, strategy: str, rng: random.Random) -> list[Call]:
    """Every seat asked for `factor` times in random order, so none may stay unsold."""
    ids = [s for s in range(1, seat_count + 1) for _ in range(factor)]
    rng.shuffle(ids)
    return [Call(seat, f"so-{strategy}-{i}", strategy) for i, seat in enumerate(ids)]


async def drive(
    scenario: str,
    strategy: str,
    host: str,
    port: int,
    calls: list[Call],
    concurrency: int,
    meters: Meters,
    sink: list[Outcome] | None = None,
) -> tuple[Result, list[Outcome]]:
    cpu = time.process_time()
    before = meters.read()
    outcomes, seconds = await run_calls(host, port, calls, concurrency=concurrency, sink=sink)
    server_ms, pg_ms = meters.per_request_ms(before, len(outcomes))
    cpu = time.process_time() - cpu
    result = summarise_outcomes(scenario, strategy, outcomes, seconds, cpu)
    # CPU per request is robust to other tenants on the machine, unlike req/s.
    result.server_cpu_ms, result.pg_cpu_ms = server_ms, pg_ms
    return result, outcomes


@dataclass
class DatabaseState:
    booked: int
    unsold: int
    """Seats among the first `must_sell` still AVAILABLE."""
    problems: list[str]


async def check_database(database_url: str, must_sell: int = 0) -> DatabaseState:
    """Invariants that need no client's testimony, and what was sold."""
    conn = await asyncpg.connect(database_url)
    try:
        booked = await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'CONFIRMED'")
        doubles = await conn.fetchval(
            "SELECT count(*) FROM (SELECT seat_id FROM bookings WHERE status = 'CONFIRMED'"
            " GROUP BY seat_id HAVING count(*) > 1) d"
        )
        mismatched = await conn.fetchval(
            "SELECT count(*) FROM seats s FULL JOIN (SELECT * FROM bookings WHERE status = 'CONFIRMED') b"
            " ON b.seat_id = s.id WHERE (s.status = 'BOOKED') IS DISTINCT FROM (b.id IS NOT NULL)"
            " OR (b.id IS NOT NULL AND s.booked_by IS DISTINCT FROM b.user_id)"
        )
        # The outbox: every booked seat's current version has its change event.
        silent = await conn.fetchval(
            "SELECT count(*) FROM seats s WHERE s.status = 'BOOKED' AND NOT EXISTS"
            " (SELECT 1 FROM seat_events e WHERE e.seat_id = s.id AND e.version = s.version)"
        )
        unsold = await conn.fetchval("SELECT count(*) FROM seats WHERE id <= $1 AND status = 'AVAILABLE'", must_sell)
    finally:
        await conn.close()
    problems = []
    if doubles:
        problems.append(f"{doubles} seats booked more than once")
    if mismatched:
        problems.append(f"{mismatched} seats disagree with their booking row")
    if silent:
        problems.append(f"{silent} booked seats without their outbox event")
    return DatabaseState(booked, unsold, problems)


async def verify(database_url: str, result: Result, outcomes: list[Outcome], must_sell: int = 0) -> None:
    """Compare what clients were told with what the database holds; append every mismatch."""
    state = await check_database(database_url, must_sell)
    conn = await asyncpg.connect(database_url)
    try:
        bookings = await conn.fetch("SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'")
    finally:
        await conn.close()
    in_db = {(r["seat_id"], r["user_id"]) for r in bookings}
    acknowledged = {(o.call.seat_id, o.call.user_id) for o in outcomes if o.status == 201}
    unknown = {(o.call.seat_id, o.call.user_id) for o in outcomes if o.status == UNKNOWN}
    result.violations.extend(state.problems)
    if state.unsold and not any(o.status in (UNKNOWN, 503) for o in outcomes):
        result.violations.append(f"{state.unsold} seats left unsold although every seat was requested")
    if lost := acknowledged - in_db:
        result.violations.append(f"{len(lost)} bookings answered 201 but missing from the database")
    if unexplained := in_db - acknowledged - unknown:
        result.violations.append(f"{len(unexplained)} bookings in the database that no client was told about")
    result.extra["booked"] = state.booked
    if must_sell:
        result.extra["unsold"] = state.unsold


async def asyncpg_limit(
    database_url: str,
    strategy: Strategy,
    calls: list[Call],
    connections: int,
    meters: Meters,
    sink: list[Outcome] | None = None,
) -> tuple[Result, list[Outcome]]:
    """The same claim code over asyncpg with no HTTP and no pool: what a Python client gets.

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

    outcomes: list[Outcome] = [] if sink is None else sink
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
    before = meters.read()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
        seconds = time.perf_counter() - started
        server_ms, pg_ms = meters.per_request_ms(before, len(outcomes))
        cpu = time.process_time() - cpu
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    result = summarise_outcomes("spread", f"asyncpg-{strategy.value}", outcomes, seconds, cpu)
    result.server_cpu_ms, result.pg_cpu_ms = server_ms, pg_ms
    return result, list(outcomes)
