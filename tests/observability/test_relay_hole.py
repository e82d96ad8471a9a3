"""A transaction that drew an outbox sequence value and stays open holds back every subscriber.

The relay cannot skip the missing value (that transaction may still commit it), so delivery to
everyone waits. The operator must be able to see it: `relay_hole_wait_seconds` grows, and a log
line names the blocking session (pid, application_name, transaction age).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.observability.helpers import scrape, value, wait_for
from tests.realtime.client import StompClient, ws_url
from tests.support import ServerProcess, fresh_database


@pytest.fixture(scope="module")
def hole_server(artifacts: Path) -> Iterator[tuple[ServerProcess, str]]:
    with fresh_database("bo_hole") as url:
        env = {
            "DATABASE_URL": url,
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-hole-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_SEED_ROWS": "2",
            "BOXOFFICE_SEED_COLS": "5",
            "BOXOFFICE_DB_POOL_MAX": "4",
        }
        with ServerProcess(env=env, log_path=artifacts / f"relay-hole-{uuid.uuid4().hex[:6]}.log") as server:
            yield server, url


def hole_wait(base_url: str) -> float:
    return value(scrape(base_url), "relay_hole_wait_seconds")


async def test_an_open_transaction_holding_a_sequence_value_is_exported_and_named(
    hole_server: tuple[ServerProcess, str],
) -> None:
    server, url = hole_server
    assert server.log_path is not None
    log_from = server.log_path.stat().st_size
    stomp = await StompClient.connect(ws_url(server.base_url))
    await stomp.subscribe()
    app_name = f"hole-holder-{uuid.uuid4().hex[:6]}"
    holder = psycopg.connect(url, application_name=app_name)  # not autocommit: the transaction stays open
    try:
        holder.execute("INSERT INTO seat_events (seat_id, version) VALUES (1, 0)")  # draws a sequence value
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            booked = await http.post("/api/v1/bookings", json={"seatId": 2, "userId": "ann"})
            assert booked.status_code == 201, booked.text

        waited = await asyncio.to_thread(
            wait_for, lambda: (w := hole_wait(server.base_url)) >= 1.0 and w, 30, "the hole wait to be exported"
        )
        assert waited >= 1.0

        def blocking_line() -> str | None:
            with server.log_path.open() as log:  # type: ignore[union-attr]
                log.seek(log_from)
                return next((line for line in log if "relay_hole_wait" in line), None)

        line = await asyncio.to_thread(wait_for, blocking_line, 30, "a log line naming the blocking session")
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
        (message,) = await stomp.messages(1, wait_s=30)
        assert (message["seatId"], message["status"]) == (2, "BOOKED")
        await asyncio.to_thread(wait_for, lambda: hole_wait(server.base_url) == 0, 30, "the hole wait to return to 0")
    finally:
        await stomp.close()
