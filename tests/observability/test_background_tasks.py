"""Background tasks never die silently: they wait for the schema, survive any failure, and show it.

The hold sweeper used to start before migrations finished and to catch only booking failures: its
first query failed (no table yet) and the task ended for the worker's lifetime, so lapsed holds
were never broadcast. That is what made the checkout broadcast test wait in vain for a hold's
AVAILABLE frame when the machine was busy (migrations then outlast the sweeper's first interval);
here another instance holding the migration lock makes it deterministic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.observability.helpers import PrivatePostgres, readiness, scrape, value, wait_for
from tests.support import ServerProcess, fresh_database

MIGRATION_LOCK_KEY = 0x626F786F  # boxoffice/storage/migrations/env.py
LIVENESS = "/actuator/health/liveness"


def env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-tasks-{uuid.uuid4().hex[:8]}:",
        "BOXOFFICE_SEED_ROWS": "2",
        "BOXOFFICE_SEED_COLS": "5",
        "BOXOFFICE_DB_POOL_MAX": "4",
        "BOXOFFICE_HOLD_TTL_S": "0.5",
        "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0.05",
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
    held = httpx.post(f"{server.base_url}/api/v1/holds", json={"seatIds": [seat_id], "userId": "ann"}, timeout=10)
    assert held.status_code == 201, held.text
    wait_for(lambda: seat_status(url, seat_id) == "AVAILABLE", 30, f"the sweeper to free seat {seat_id}")


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as pg:
        yield pg


def test_the_sweeper_waits_for_the_schema_instead_of_dying(private_pg: PrivatePostgres, artifacts: Path) -> None:
    pg_log = private_pg.root / "log"
    with psycopg.connect(private_pg.url, autocommit=True) as other_instance:
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        server = ServerProcess(
            env=env(private_pg.url), ready_path=LIVENESS, log_path=artifacts / "tasks-sweeper-gate.log"
        )
        with server:
            # The sweeper had its chance to run before the schema exists: either it tried (the
            # database logged its failed statement) or it is waiting for the schema (and says so).
            wait_for(
                lambda: (
                    "SKIP LOCKED" in pg_log.read_text(errors="replace")
                    or tasks(server.base_url).get("details", {}).get("sweeper", {}).get("state") == "WAITING"
                ),
                30,
                "the sweeper to try before migrations, or to wait for them",
            )
            other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
            wait_for(lambda: readiness(server.base_url).status_code == 200, 45, "readiness after migrating")
            hold_until_swept(server, private_pg.url, 1)
            assert "SKIP LOCKED" not in pg_log.read_text(errors="replace"), "the sweeper queried before migrations"
            sweeper = tasks(server.base_url)["details"]["sweeper"]
            assert sweeper["state"] == "RUNNING" and sweeper["errors"] == 0, sweeper
            assert value(scrape(server.base_url), "background_task_errors_total", task="sweeper") == 0


def test_a_failing_task_is_retried_counted_and_shown(artifacts: Path) -> None:
    log_path = artifacts / f"tasks-failing-{uuid.uuid4().hex[:6]}.log"
    with fresh_database("bo_tasks") as url, ServerProcess(env=env(url), log_path=log_path) as server:
        wait_for(lambda: readiness(server.base_url).status_code == 200, 30, "readiness")
        hold_until_swept(server, url, 1)
        with psycopg.connect(url, autocommit=True) as admin:
            # An operator's mistake mid-run: every sweep now fails (after freeing holds, before purging keys).
            admin.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_away")
            failing = wait_for(
                lambda: value(scrape(server.base_url), "background_task_errors_total", task="sweeper") >= 2,
                30,
                "sweeper failures to be counted",
            )
            assert failing
            shown = tasks(server.base_url)
            sweeper = shown["details"]["sweeper"]
            assert sweeper["errors"] >= 2 and sweeper["lastError"] == "UndefinedTableError", sweeper
            assert sweeper["lastErrorAt"]
            # The class of the error, never its text: no table names, hosts or addresses.
            assert "idempotency_keys" not in str(shown) and "127.0.0.1" not in str(shown), shown
            # Not a reason to stop selling: readiness stays UP.
            assert readiness(server.base_url).status_code == 200
            admin.execute("ALTER TABLE idempotency_keys_away RENAME TO idempotency_keys")
        # The same task recovers on its own and does its work again.
        hold_until_swept(server, url, 2)
        wait_for(
            lambda: tasks(server.base_url)["details"]["sweeper"]["state"] == "RUNNING", 30, "the sweeper running again"
        )
        assert tasks(server.base_url)["status"] == "UP"
    text = log_path.read_text()
    failures = [line for line in text.splitlines() if "background_task_failed task=sweeper" in line]
    assert len(failures) >= 2, text[-2000:]
    # The traceback once per kind of failure, not once per retry.
    assert sum("Traceback" in line for line in failures) == 1, failures
