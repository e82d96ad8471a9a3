"""Server CPU per waiting-room request: a batched join, a poll answered from memory, a poll that
reads the store (not a test).

Run: `.venv/bin/python -m tests.bench.measure_waitroom`. One worker of the on-sale bench's server
(`bench/onsale.py`, `onsale_server`), its own database, 4,000 visitors at once (64 connections).
CPU is the server's own (`tree_cpu_s` around each burst), so the figures hold on a busy machine
better than rates do.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from boxoffice.bench import env, onsale
from boxoffice.bench.cpu import tree_cpu_s
from boxoffice.settings import Settings
from boxoffice.tokens import Tokens

N = 4000
ADMIN = {"Authorization": f"Bearer {onsale.ADMIN_TOKEN}"}
ROOM = "/api/v1/events/1/waiting-room"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


async def configure(client: onsale.Client, **limits: Any) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    body = {"enabled": True, "startsAt": start.isoformat(), "adaptive": False, **limits}
    status, _, answer, _ = await client.call("PUT", "/api/v1/admin/events/1/waiting-room", body, ADMIN)
    assert status == 200, answer


async def measure(port: int, pid: int, tokens: Tokens) -> None:
    client = onsale.Client(port, 64)
    await configure(client, maxActive=1, perMinute=1)  # one admitted: everyone else waits
    visitors = [{"Authorization": f"Bearer {tokens.issue_session().token}"} for _ in range(N)]

    async def burst(label: str, method: str, path: str) -> None:
        before, started = tree_cpu_s(pid), time.perf_counter()
        answers = await asyncio.gather(*(client.call(method, path, None, v) for v in visitors))
        used, took = tree_cpu_s(pid) - before, time.perf_counter() - started
        states: dict[tuple[int, Any], int] = {}
        for status, _, body, _ in answers:
            key = (status, body.get("state") if isinstance(body, dict) else None)
            states[key] = states.get(key, 0) + 1
        print(f"{label}: {used / N * 1e6:.0f} us server CPU/request, {N / took:.0f} req/s, {states}")

    await burst("join (batched)", "POST", f"{ROOM}/join")
    await asyncio.sleep(1.5)  # a tick: the room's frontier and queue order are read
    for _ in range(2):
        await burst("poll (memory)", "GET", f"{ROOM}/me")
    await configure(client, maxActive=100_000, perMinute=1_000_000)
    await asyncio.sleep(3)  # everyone admitted: each poll claims its admission in the store
    for _ in range(2):
        await burst("poll (store)", "GET", f"{ROOM}/me")
    client.close()


def main() -> None:
    with (
        env.fresh_database(ADMIN_URL, "bo_wrcost") as url,
        onsale.onsale_server(url, 10, 10, 1, 20, REDIS_URL, None) as (port, pid),
    ):
        master = asyncio.run(onsale._master(url))
        tokens = Tokens(Settings(database_url=url), lambda: master)
        asyncio.run(measure(port, pid, tokens))


if __name__ == "__main__":
    main()
