"""The hold sweeper: lapsed holds become AVAILABLE rows and outbox events, so subscribers see them lapse."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from boxoffice.storage.migrate import upgrade
from tests.helpers import assert_consistent, rows, wait_for
from tests.shared import CHECKOUT_SEATS
from tests.support import MIGRATION_LOCK_KEY, ServerFactory

SWEEP = {**CHECKOUT_SEATS, "hold_ttl_s": 1, "hold_sweep_interval_s": 0.2}


def hold_then_wait_for_the_sweep(base_url: str, database_url: str, seat_ids: list[int], timeout_s: float = 60) -> None:
    """Hold the seats and wait (generously) until the sweeper has released them."""
    r = httpx.post(f"{base_url}/api/v1/holds", json={"seatIds": seat_ids, "userId": "sweep"}, timeout=30)
    assert r.status_code == 201, r.text
    wait_for(
        lambda: (
            {s["status"] for s in rows(database_url, "SELECT status FROM seats WHERE id = ANY(%s)", seat_ids)}
            == {"AVAILABLE"}
        ),
        timeout_s,
        what="the sweeper to release the lapsed hold",
    )


def test_sweeper_releases_lapsed_holds_into_the_outbox(server_factory: ServerFactory) -> None:
    url = server_factory.database("bo_sweep")
    # Migrated before the server starts: a sweep during start-up migrations is the next test's case.
    upgrade(url)
    server = server_factory(database_url=url, settings=SWEEP)
    hold_then_wait_for_the_sweep(server.base_url, url, [60, 61])
    state = rows(url, "SELECT status, version FROM seats WHERE id IN (60, 61)")
    assert [s["version"] for s in state] == [2, 2]
    # The release reached the outbox, so the realtime relay broadcasts it.
    events = rows(url, "SELECT seat_id, version FROM seat_events WHERE seat_id IN (60, 61) ORDER BY seq")
    assert sorted((e["seat_id"], e["version"]) for e in events) == [(60, 1), (60, 2), (61, 1), (61, 2)]
    assert_consistent(url)


@pytest.mark.xfail(
    reason="src/boxoffice/booking/sweeper.py: Sweeper.run catches only BookingError, so the first sweep that"
    " fails otherwise (UndefinedTableError while the schema is not migrated yet) ends the task for good",
    strict=False,
)
def test_sweeper_survives_sweeps_that_fail_while_another_instance_migrates(server_factory: ServerFactory) -> None:
    """Root cause of a flaky broadcast test: on a loaded machine a fresh server's first sweep (0.2 s after
    start) ran before its migrations, failed, and no lapsed hold was ever broadcast by that server again."""
    url = server_factory.database("bo_sweep_migrating")
    with psycopg.connect(url, autocommit=True) as other_instance:
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        server = server_factory(database_url=url, ready_path="/actuator/health/liveness", settings=SWEEP)
        # The schema stays missing for several sweep intervals (the scenario, not a wait for a result).
        time.sleep(10 * float(SWEEP["hold_sweep_interval_s"]))
        other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    wait_for(
        lambda: httpx.get(f"{server.base_url}/actuator/health/readiness", timeout=30).status_code == 200,
        what="readiness after migrating",
    )
    # Short: while the bug stands this wait is what fails (a live sweeper frees the seat within ~1 s).
    hold_then_wait_for_the_sweep(server.base_url, url, [5], timeout_s=8)
