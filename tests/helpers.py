"""Database-side checks shared by the checkout tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row


def rows(database_url: str, sql: str, *params: object) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def booked_by(database_url: str, seat_ids: list[int]) -> dict[int, str | None]:
    found = rows(database_url, "SELECT id, booked_by FROM seats WHERE id = ANY(%s)", seat_ids)
    return {r["id"]: r["booked_by"] for r in found}


def assert_consistent(database_url: str) -> None:
    """Seat rows, active bookings and the outbox agree: the invariants every test ends on."""
    seats = rows(database_url, "SELECT id, status, booked_by, version FROM seats")
    active = {
        r["seat_id"]: r
        for r in rows(database_url, "SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'")
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


async def gate_all(calls: list[Callable[[], Awaitable[httpx.Response]]]) -> list[httpx.Response]:
    """Start every call, then release them together."""
    gate = asyncio.Event()

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(one(c)) for c in calls]
    await asyncio.sleep(0.01)
    gate.set()
    return await asyncio.gather(*tasks)
