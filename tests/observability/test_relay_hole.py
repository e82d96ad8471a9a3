"""A transaction that drew an outbox sequence value and stays open holds back every subscriber.

Up to `relay_hole_max_wait_ms` the relay waits for the missing value (that transaction may still
commit it), so delivery to everyone waits. The operator must be able to see it:
`relay_hole_wait_seconds` grows, and a log line names the blocking session (pid, application_name,
transaction age). Here the bound is long, to watch the wait; what happens at the bound is in
`tests/realtime/test_holes.py`.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import psycopg
import pytest

from tests.helpers import DEADLINE_S, wait_for
from tests.observability.helpers import scrape, value
from tests.realtime.client import StompClient, ws_url
from tests.support import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def hole_server(module_servers: ServerFactory) -> tuple[ServerProcess, str]:
    url = module_servers.database("bo_hole")
    return module_servers(database_url=url, seed_rows=2, seed_cols=5, db_pool_max=4, relay_hole_max_wait_ms=60_000), url


def hole_wait(base_url: str) -> float:
    return value(scrape(base_url), "relay_hole_wait_seconds")


async def test_an_open_transaction_holding_a_sequence_value_is_exported_and_named(
    hole_server: tuple[ServerProcess, str],
) -> None:
    server, url = hole_server
    log_path = server.log_path
    assert log_path is not None
    log_from = log_path.stat().st_size
    stomp = await StompClient.connect(ws_url(server.base_url))
    await stomp.subscribe()
    app_name = f"hole-holder-{uuid.uuid4().hex[:6]}"
    holder = psycopg.connect(url, application_name=app_name)  # not autocommit: the transaction stays open
    try:
        holder.execute("INSERT INTO seat_events (seat_id, version) VALUES (1, 0)")  # draws a sequence value
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            booked = await http.post("/api/v1/bookings", json={"seatId": 2, "userId": "ann"})
            assert booked.status_code == 201, booked.text

        waited = await asyncio.to_thread(
            wait_for, lambda: w if (w := hole_wait(server.base_url)) >= 1.0 else None, DEADLINE_S, "the hole wait"
        )
        assert waited >= 1.0

        def blocking_line() -> str | None:
            with log_path.open() as log:
                log.seek(log_from)
                return next((line for line in log if "relay_hole_wait" in line), None)

        line = await asyncio.to_thread(wait_for, blocking_line, DEADLINE_S, "a log line naming the blocking session")
        assert f"pid={holder.info.backend_pid} " in line and f"application_name='{app_name}'" in line, line
        age = re.search(r"xact_age_s=([0-9.]+)", line)
        assert age and float(age.group(1)) >= 1.0, line
        # Nobody got the booking's change meanwhile: the stall is real.
        assert stomp.frames.empty()
    finally:
        holder.rollback()
        holder.close()
    try:
        # The transaction ended without committing: the value is skipped and delivery resumes.
        (message,) = await stomp.messages(1)
        assert (message["seatId"], message["status"]) == (2, "BOOKED")
        await asyncio.to_thread(wait_for, lambda: hole_wait(server.base_url) == 0, DEADLINE_S, "the hole wait to end")
    finally:
        await stomp.close()
