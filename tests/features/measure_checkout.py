"""Throughput of the checkout paths relative to the original single-seat call (not a test).

Run: `.venv/bin/python -m tests.features.measure_checkout`. One server, its own database, 64
concurrent clients, every request on a distinct free seat (no contention). On a shared machine only
the ratios between lines mean something.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.support import LOAD_LIMITS_OFF, ServerProcess, fresh_database, reset_inventory

N = 3000


async def run(
    client: httpx.AsyncClient,
    bodies: list[dict[str, Any]],
    path: str = "/api/v1/bookings",
    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None,
    concurrency: int = 64,
) -> tuple[float, dict[int, int]]:
    queue = list(bodies)
    codes: dict[int, int] = {}

    async def worker() -> None:
        while queue:
            body = queue.pop()
            r = await client.post(path, json=body, headers=headers(body) if headers else None)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return time.perf_counter() - start, codes


async def main() -> None:
    with fresh_database("bo_measure") as url:
        env = {
            "DATABASE_URL": url,
            "BOXOFFICE_SEED_ROWS": "100",
            "BOXOFFICE_SEED_COLS": "100",
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-m-{uuid.uuid4().hex[:6]}:",
            "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0",
            **LOAD_LIMITS_OFF,
        }
        with ServerProcess(env=env) as server:
            limits = httpx.Limits(max_connections=100)
            async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as c:
                base = 0.0

                def line(label: str, requests: int, seats: int, seconds: float, codes: dict[int, int]) -> None:
                    nonlocal base
                    base = base or seats / seconds
                    print(f"{label:34} {requests / seconds:7.0f} req/s {seats / seconds:7.0f} seats/s"
                          f"  x{seats / seconds / base:4.2f}  {codes}")

                for strategy in ("ATOMIC", "DB", "REDIS"):
                    reset_inventory(url)
                    single = [{"seatId": i, "userId": f"u{i}", "strategy": strategy} for i in range(1, N + 1)]
                    dt, codes = await run(c, single)
                    line(f"{strategy} seatId (original call)", N, N, dt, codes)
                    reset_inventory(url)
                    quads = [
                        {"seatIds": [i, i + 1, i + 2, i + 3], "userId": f"u{i}", "strategy": strategy}
                        for i in range(1, N, 4)
                    ]
                    dt, codes = await run(c, quads)
                    line(f"{strategy} seatIds x4", N // 4, N, dt, codes)
                reset_inventory(url)
                dt, codes = await run(
                    c,
                    [{"seatId": i, "userId": f"u{i}"} for i in range(1, N + 1)],
                    headers=lambda b: {"Idempotency-Key": f"k{b['seatId']}"},
                )
                line("ATOMIC seatId + Idempotency-Key", N, N, dt, codes)
                reset_inventory(url)
                pairs = [{"seatIds": [i, i + 1], "userId": f"u{i}"} for i in range(1, N, 2)]
                dt, codes = await run(c, pairs, path="/api/v1/holds")
                line("holds x2", N // 2, N, dt, codes)


if __name__ == "__main__":
    asyncio.run(main())
