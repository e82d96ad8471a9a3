"""Health as a client sees it: no error text or host names unless asked, and readiness that stays UP
while other clients fill PostgreSQL's connection slots but the pool still books."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import httpx
import psycopg

from tests.helpers import wait_for
from tests.observability.helpers import PrivatePostgres
from tests.support import ServerFactory, free_port

LIVENESS = "/actuator/health/liveness"
READINESS = "/actuator/health/readiness"
MAX_CONNECTIONS = 16


def health(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/actuator/health", timeout=30)


def test_health_shows_no_error_text_or_hosts_unless_asked(server_factory: ServerFactory) -> None:
    dead = free_port()
    broken = {
        "database_url": f"postgresql://postgres@127.0.0.1:{dead}/nowhere",
        "redis_url": f"redis://127.0.0.1:{dead}/0",
        "ready_path": LIVENESS,
    }
    quiet = server_factory(log="quiet", **broken)  # type: ignore[arg-type]
    report = wait_for(
        lambda: (r := health(quiet.base_url)).json()["components"]["migrations"]["details"].get("lastError") and r,
        what="a failed migration attempt",
    )
    components = report.json()["components"]
    assert components["redis"]["details"]["error"]  # the class is shown
    assert "127.0.0.1" not in report.text and str(dead) not in report.text, report.text
    verbose = server_factory(log="verbose", health_details=True, **broken)  # type: ignore[arg-type]
    detailed = wait_for(
        lambda: (r := health(verbose.base_url)).json()["components"]["migrations"]["details"].get("lastError") and r,
        what="a failed migration attempt",
    )
    assert str(dead) in json.dumps(detailed.json()["components"]["redis"])


class SmallPostgres(PrivatePostgres):
    """A private cluster with few connection slots and none reserved for superusers."""

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
            f" -c max_connections={MAX_CONNECTIONS} -c superuser_reserved_connections=0"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")


@contextlib.contextmanager
def every_slot_taken(url: str) -> Iterator[list[psycopg.Connection]]:
    """Other clients hold every connection slot PostgreSQL has left."""
    held: list[psycopg.Connection] = []
    try:
        while True:
            try:
                held.append(psycopg.connect(url, autocommit=True))
            except psycopg.OperationalError as exc:
                assert "too many clients" in str(exc), exc
                break
        yield held
    finally:
        for conn in held:
            conn.close()


def test_readiness_stays_up_while_others_fill_the_connection_slots(server_factory: ServerFactory) -> None:
    with SmallPostgres() as pg:
        server = server_factory(database_url=pg.url, db_pool_min=3, db_pool_max=3, seed_rows=2, seed_cols=5)
        wait_for(lambda: httpx.get(f"{server.base_url}{READINESS}", timeout=30).status_code == 200, what="UP")
        with psycopg.connect(pg.url, autocommit=True) as admin:
            # The health probe's own connection drops (as after any network blip) ...
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                ("boxoffice-health",),
            )
            with every_slot_taken(pg.url):  # ... and other clients take every free slot
                fresh = wait_for(lambda: fresh_check(server.base_url), what="a readiness check after the fill")
                assert fresh.status_code == 200, fresh.text
                assert fresh.json()["components"]["db"]["details"]["checkedThrough"] == "pool"
                booked = httpx.post(
                    f"{server.base_url}/api/v1/bookings", json={"seatId": 1, "userId": "slots"}, timeout=30
                )
                assert booked.status_code == 201, booked.text


def fresh_check(base_url: str) -> httpx.Response | None:
    """A readiness answer that could not come from the probe's old connection: DOWN, or UP through the pool."""
    response = httpx.get(f"{base_url}{READINESS}", timeout=30)
    db = response.json()["components"].get("db", {})
    if response.status_code == 503 or "checkedThrough" in db.get("details", {}):
        return response
    return None
