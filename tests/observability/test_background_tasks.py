"""Background tasks never die silently: they wait for the schema, survive any failure, and show it.

The hold sweeper used to start before migrations finished and to catch only booking failures: its
first query failed (no table yet) and the task ended for the worker's lifetime, so lapsed holds
were never broadcast. That is what made the checkout broadcast test wait in vain for a hold's
AVAILABLE frame when the machine was busy (migrations then outlast the sweeper's first interval);
here another instance holding the migration lock makes it deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.helpers import wait_for
from tests.observability.helpers import PrivatePostgres, readiness, scrape, value
from tests.support import MIGRATION_LOCK_KEY, ServerFactory, ServerProcess, Setting

LIVENESS = "/actuator/health/liveness"


TASKS: dict[str, Setting] = {
    "seed_rows": 2,
    "seed_cols": 5,
    "db_pool_max": 4,
    "hold_ttl_s": 0.5,
    "hold_sweep_interval_s": 0.05,
}


def tasks(base_url: str) -> dict[str, Any]:
    component: dict[str, Any] = readiness(base_url).json()["components"].get("tasks", {})
    return component


def seat_status(url: str, seat_id: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM seats WHERE id = %s", (seat_id,)).fetchone()
    assert row is not None
    return str(row[0])


def hold_until_swept(server: ServerProcess, url: str, seat_id: int) -> None:
    """A hold nobody confirms lapses after 0.5 s; only the sweeper turns its seat AVAILABLE again."""
    held = httpx.post(f"{server.base_url}/api/v1/holds", json={"seatIds": [seat_id], "userId": "ann"}, timeout=30)
    assert held.status_code == 201, held.text
    wait_for(lambda: seat_status(url, seat_id) == "AVAILABLE", what=f"the sweeper to free seat {seat_id}")


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as pg:
        yield pg


def test_the_sweeper_waits_for_the_schema_instead_of_dying(
    private_pg: PrivatePostgres, server_factory: ServerFactory
) -> None:
    pg_log = private_pg.root / "log"
    with psycopg.connect(private_pg.url, autocommit=True) as other_instance:
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        server = server_factory(database_url=private_pg.url, ready_path=LIVENESS, settings=TASKS)
        # The sweeper had its chance to run before the schema exists: either it tried (the
        # database logged its failed statement) or it is waiting for the schema (and says so).
        wait_for(
            lambda: (
                "SKIP LOCKED" in pg_log.read_text(errors="replace")
                or tasks(server.base_url).get("details", {}).get("sweeper", {}).get("state") == "WAITING"
            ),
            what="the sweeper to try before migrations, or to wait for them",
        )
        other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness after migrating")
        hold_until_swept(server, private_pg.url, 1)
        assert "SKIP LOCKED" not in pg_log.read_text(errors="replace"), "the sweeper queried before migrations"
        sweeper = tasks(server.base_url)["details"]["sweeper"]
        assert sweeper["state"] == "RUNNING" and sweeper["errors"] == 0, sweeper
        assert value(scrape(server.base_url), "background_task_errors_total", task="sweeper") == 0
        server.stop()  # before the private cluster goes


def test_a_failing_task_is_retried_counted_and_shown(server_factory: ServerFactory) -> None:
    url = server_factory.database("bo_tasks")
    server = server_factory(database_url=url, settings=TASKS)
    wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness")
    hold_until_swept(server, url, 1)
    with psycopg.connect(url, autocommit=True) as admin:
        # An operator's mistake mid-run: every sweep now fails (after freeing holds, before purging keys).
        admin.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_away")
        failing = wait_for(
            lambda: value(scrape(server.base_url), "background_task_errors_total", task="sweeper") >= 2,
            what="sweeper failures to be counted",
        )
        assert failing

        def shown_failing() -> dict[str, Any] | None:
            # Health reports are cached for a second (health.CACHE_S): the one that counts the
            # failures may be the next one, not the first read after the metric moved (CI9).
            shown = tasks(server.base_url)
            return shown if shown["details"]["sweeper"]["errors"] >= 2 else None

        shown = wait_for(shown_failing, what="the failures shown in health")
        sweeper = shown["details"]["sweeper"]
        assert sweeper["lastError"] == "UndefinedTableError", sweeper
        assert sweeper["lastErrorAt"]
        # The class of the error, never its text: no table names, hosts or addresses.
        assert "idempotency_keys" not in str(shown) and "127.0.0.1" not in str(shown), shown
        # Not a reason to stop selling: readiness stays UP.
        assert readiness(server.base_url).status_code == 200
        admin.execute("ALTER TABLE idempotency_keys_away RENAME TO idempotency_keys")
    # The same task recovers on its own and does its work again.
    hold_until_swept(server, url, 2)
    wait_for(
        lambda: tasks(server.base_url)["details"]["sweeper"]["state"] == "RUNNING", what="the sweeper running again"
    )
    assert tasks(server.base_url)["status"] == "UP"
    server.stop()
    assert server.log_path is not None
    text = server.log_path.read_text()
    failures = [line for line in text.splitlines() if "background_task_failed task=sweeper" in line]
    assert len(failures) >= 2, text[-2000:]
    # The traceback once per kind of failure, not once per retry.
    assert sum("Traceback" in line for line in failures) == 1, failures
