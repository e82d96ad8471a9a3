"""Client-side helpers every suite uses: racing requests, reading the database, waiting on conditions.

Waits are on conditions with generous deadlines, never on sleeps: the suite runs on busy 2-core
machines next to other suites, where anything may take ten times longer than on a quiet laptop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
import psycopg
from psycopg.rows import dict_row

T = TypeVar("T")

DEADLINE_S = 60.0
"""Default budget of a wait: far above what anything takes on a quiet machine, reached only by a real failure."""


def wait_for(
    probe: Callable[[], T | None], timeout_s: float = DEADLINE_S, what: str = "", interval_s: float = 0.1
) -> T:
    """Poll `probe` until it returns something truthy, and return that; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or probe}; last: {last!r}")
        time.sleep(interval_s)


async def eventually(
    probe: Callable[[], Awaitable[T | None]], timeout_s: float = DEADLINE_S, what: str = "", interval_s: float = 0.1
) -> T:
    """`wait_for` for coroutines: await `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = await probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or probe}; last: {last!r}")
        await asyncio.sleep(interval_s)


async def until(
    probe: Callable[[], T | None], timeout_s: float = DEADLINE_S, what: str = "", interval_s: float = 0.05
) -> T:
    """`wait_for` inside a test's event loop: a cheap, non-blocking `probe` checked between sleeps."""

    async def check() -> T | None:
        return probe()

    return await eventually(check, timeout_s, what, interval_s)


def rows(database_url: str, sql: str, *params: object) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def booked_by(database_url: str, seat_ids: list[int]) -> dict[int, str | None]:
    found = rows(database_url, "SELECT id, booked_by FROM seats WHERE id = ANY(%s)", seat_ids)
    return {r["id"]: r["booked_by"] for r in found}


def assert_consistent(database_url: str) -> None:
    """Seat rows, active bookings and the outbox agree: the invariants every test ends on."""
    seats = rows(database_url, "SELECT id, status, booked_by, version FROM seats")
    active = {
        r["seat_id"]: r for r in rows(database_url, "SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'")
    }
    events = {
        r["seat_id"]: r
        for r in rows(
            database_url, "SELECT seat_id, count(*) AS n, max(version) AS v FROM seat_events GROUP BY seat_id"
        )
    }
    for seat in seats:
        if seat["status"] == "BOOKED":
            assert active[seat["id"]]["user_id"] == seat["booked_by"], seat
        else:
            assert seat["id"] not in active, seat
        # One outbox row per version bump, in the same transaction (reset sets versions to 0).
        ev = events.get(seat["id"])
        assert (ev["n"], ev["v"]) == (seat["version"], seat["version"]) if ev else seat["version"] == 0, (seat, ev)


async def gate_all(calls: Sequence[Callable[[], Awaitable[httpx.Response]]]) -> list[httpx.Response]:
    """Start every call, then release them together."""
    gate = asyncio.Event()

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(one(c)) for c in calls]
    await asyncio.sleep(0)
    gate.set()
    return await asyncio.gather(*tasks)


async def race(
    client: httpx.AsyncClient, requests: list[dict[str, object]], concurrency: int | None = None
) -> list[httpx.Response]:
    """Fire requests together (a barrier releases them at once), at most `concurrency` in flight.

    httpx's pool degrades badly with thousands of queued requests, so large runs cap the
    in-flight count instead of queueing inside the client.
    """
    gate = asyncio.Event()
    slots = asyncio.Semaphore(concurrency or len(requests))

    async def one(body: dict[str, object]) -> httpx.Response:
        await gate.wait()
        async with slots:
            return await client.post("/api/v1/bookings", json=body)

    tasks = [asyncio.create_task(one(b)) for b in requests]
    await asyncio.sleep(0)
    gate.set()
    # Wait for every request, even after a failure, so no straggler lands in the next test.
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, httpx.Response)]
