from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx

from tests.support import LOAD_LIMITS_OFF, Setting, pg_connect

HEARTBEAT_MS = 400
MAX_FRAME = 2048
MAX_SUBSCRIPTIONS = 3
ALLOWED_ORIGIN = "http://allowed.example"

REALTIME: dict[str, Setting] = {
    "seed_rows": 20,
    "seed_cols": 25,
    "ws_heartbeat_ms": HEARTBEAT_MS,
    "ws_max_frame_bytes": MAX_FRAME,
    "ws_max_subscriptions": MAX_SUBSCRIPTIONS,
    "ws_allowed_origins": ALLOWED_ORIGIN,
    "log_level": "WARNING",
    # The shared server's tests hold sequence values in flight on purpose and assert that later
    # changes wait for them; the bound on that wait is tested with its default (`test_holes.py`).
    "relay_hole_max_wait_ms": 30_000,
    **LOAD_LIMITS_OFF,
}
"""Short heart-beats and small limits, so the tests can reach them; no load limits."""

# The machine's PostgreSQL (max_connections=100) is shared with other test runs: a connection
# refused with "too many clients" is retried for a while instead of failing the test.
_RETRY_S = 30.0


async def apg_connect(database_url: str) -> asyncpg.Connection:
    deadline = time.monotonic() + _RETRY_S
    while True:
        try:
            return await asyncpg.connect(database_url)
        except asyncpg.TooManyConnectionsError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def free_seats(database_url: str, count: int) -> list[int]:
    """Seats nobody has booked yet, so tests sharing one database never collide."""
    with pg_connect(database_url) as conn:
        rows = conn.execute("SELECT id FROM seats WHERE status = 'AVAILABLE' ORDER BY id LIMIT %s", (count,)).fetchall()
    assert len(rows) == count, f"only {len(rows)} free seats left"
    return [r[0] for r in rows]


def booked_count(database_url: str, seat_ids: list[int]) -> int:
    with pg_connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM seats WHERE id = ANY(%s) AND status = 'BOOKED'", (seat_ids,)
        ).fetchone()
    assert row is not None
    count: int = row[0]
    return count


def db_seats(database_url: str) -> dict[int, tuple[Any, ...]]:
    with pg_connect(database_url) as conn:
        rows = conn.execute("SELECT id, status, version FROM seats").fetchall()
    return {r[0]: tuple(r) for r in rows}


def book(base_url: str, seat_id: int, user: str = "alice") -> dict[str, Any]:
    response = httpx.post(f"{base_url}/api/v1/bookings", json={"seatId": seat_id, "userId": user}, timeout=30)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def snapshot(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/api/v1/seats", timeout=30).raise_for_status().json()
    return body


def assert_consecutive(sequences: list[int]) -> None:
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences))), sequences
