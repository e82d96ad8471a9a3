"""Health against real failures: a database that is absent, vanishes, hangs or is being migrated; Redis absent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import psycopg

from tests.helpers import wait_for
from tests.observability.helpers import PrivatePostgres, TcpProxy, readiness, scrape, value
from tests.support import MIGRATION_LOCK_KEY, ServerFactory, Setting, free_port

LIVENESS = "/actuator/health/liveness"
SEATS = 25
HEALTH: dict[str, Setting] = {"seed_rows": 5, "seed_cols": 5, "db_acquire_timeout_s": 1}


def through(url: str, port: int) -> str:
    return url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")


def status_of(response: httpx.Response, component: str) -> str:
    status: str = response.json()["components"][component]["status"]
    return status


def readiness_if(base_url: str, check: Callable[[httpx.Response], bool]) -> httpx.Response | None:
    """The readiness answer if `check` accepts it (a probe for `wait_for`)."""
    response = readiness(base_url)
    return response if check(response) else None


def migration_state(response: httpx.Response) -> str:
    state: str = response.json()["components"]["migrations"]["details"]["state"]
    return state


def book(base_url: str, seat_id: int, strategy: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"seatId": seat_id, "userId": "health"}
    if strategy:
        body["strategy"] = strategy
    return httpx.post(f"{base_url}/api/v1/bookings", json=body, timeout=30)


def test_database_absent_at_start_then_up_then_lost_then_hung(server_factory: ServerFactory) -> None:
    url = server_factory.database()
    with TcpProxy(5432) as proxy:
        server = server_factory(database_url=through(url, proxy.port), ready_path=LIVENESS, settings=HEALTH)
        # Nothing listens on the database port: the server runs, is not ready, and says why.
        ready = readiness(server.base_url)
        assert ready.status_code == 503
        assert ready.json()["status"] == "DOWN"
        assert status_of(ready, "db") == "DOWN"
        assert "error" in ready.json()["components"]["db"]["details"]
        migrations = wait_for(
            lambda: readiness_if(
                server.base_url, lambda r: "lastError" in r.json()["components"]["migrations"]["details"]
            ),
            what="a failed migration attempt to be reported",
        )
        assert status_of(migrations, "migrations") == "DOWN"
        health = httpx.get(f"{server.base_url}/actuator/health", timeout=30)
        assert health.status_code == 503
        assert health.json()["components"]["livenessState"] == {"status": "UP"}
        assert health.json()["components"]["readinessState"] == {"status": "DOWN"}
        assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=30).status_code == 200
        for response in (httpx.get(f"{server.base_url}/api/v1/seats", timeout=30), book(server.base_url, 1)):
            assert response.status_code == 503
            assert response.json()["error"] == "STARTING"
            assert response.headers["retry-after"] == "1"
        assert httpx.get(f"{server.base_url}/actuator/prometheus", timeout=30).status_code == 200

        # The database appears: the background retry migrates and seeds, readiness turns UP.
        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP after the database came up")
        assert len(httpx.get(f"{server.base_url}/api/v1/seats", timeout=30).json()["seats"]) == SEATS
        assert book(server.base_url, 1).status_code == 201

        # The database vanishes mid-run: readiness DOWN, bookings a clean 503 (never 500), liveness UP.
        proxy.close()
        down = wait_for(lambda: readiness_if(server.base_url, lambda r: r.status_code == 503), what="readiness DOWN")
        assert status_of(down, "db") == "DOWN"
        assert status_of(down, "migrations") == "UP"
        failed = book(server.base_url, 2)
        assert failed.status_code == 503, failed.text
        assert failed.json()["error"] in ("DATABASE_UNAVAILABLE", "DATABASE_BUSY")
        assert "retry-after" in failed.headers
        assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=30).status_code == 200

        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP after the outage")
        wait_for(lambda: book(server.base_url, 3).status_code == 201, what="bookings to work again")

        # The database hangs (accepts, never answers): the probe gives up on its own timeout.
        proxy.blackhole()
        # The probe's own 1 s budget answers, not the driver's 60 s connect timeout: the wait's 40 s
        # deadline leaves a busy machine plenty of room and still tells the two apart.
        hung = wait_for(lambda: readiness_if(server.base_url, lambda r: r.status_code == 503), 40, "readiness DOWN")
        assert status_of(hung, "db") == "DOWN"
        assert hung.json()["components"]["db"]["details"]["error"] == "timed out"
        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP after the hang")


def test_database_stopped_and_restarted(server_factory: ServerFactory) -> None:
    """A real PostgreSQL shut down mid-run: DOWN, clean 503s, then UP again; only acknowledged bookings exist."""
    with PrivatePostgres() as pg:
        server = server_factory(database_url=pg.url, settings=HEALTH)
        # A probe on a busy machine can miss its 1 s budget now and then: wait for UP, do not sample it.
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP")
        assert book(server.base_url, 1).status_code == 201
        pg.stop()
        down = wait_for(lambda: readiness_if(server.base_url, lambda r: r.status_code == 503), what="readiness DOWN")
        assert status_of(down, "db") == "DOWN"
        refused = [book(server.base_url, seat) for seat in (2, 3, 4)]
        assert [r.status_code for r in refused] == [503, 503, 503], [r.text for r in refused]
        assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=30).status_code == 200
        pg.start()
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP after restart")
        wait_for(lambda: book(server.base_url, 5).status_code == 201, what="bookings after the restart")
        server.stop()  # before the cluster goes
        with psycopg.connect(pg.url) as conn:
            bookings = conn.execute("SELECT seat_id FROM bookings ORDER BY seat_id").fetchall()
            booked = conn.execute("SELECT id FROM seats WHERE status = 'BOOKED' ORDER BY id").fetchall()
    assert [r[0] for r in bookings] == [1, 5]
    assert [r[0] for r in booked] == [1, 5]


def test_readiness_down_while_another_instance_migrates(server_factory: ServerFactory) -> None:
    url = server_factory.database()
    with psycopg.connect(url, autocommit=True) as other_instance:
        # Another instance is migrating: it holds the migration lock.
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        server = server_factory(database_url=url, ready_path=LIVENESS, settings=HEALTH)
        # The database answers, yet the instance waits for the other one's migration: not ready.
        ready = wait_for(
            lambda: readiness_if(
                server.base_url, lambda r: migration_state(r) == "MIGRATING" and status_of(r, "db") == "UP"
            ),
            what="db UP, MIGRATING",
        )
        assert ready.status_code == 503
        for _ in range(3):  # and it stays so while the lock is held
            still = readiness(server.base_url)
            assert still.status_code == 503 and migration_state(still) == "MIGRATING"
            assert httpx.get(f"{server.base_url}/api/v1/seats", timeout=30).json()["error"] == "STARTING"
            time.sleep(0.5)
        other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        wait_for(lambda: readiness(server.base_url).status_code == 200, what="readiness UP after migrating")
        assert len(httpx.get(f"{server.base_url}/api/v1/seats", timeout=30).json()["seats"]) == SEATS


def test_redis_down_degrades_but_stays_ready(server_factory: ServerFactory) -> None:
    server = server_factory(redis_url=f"redis://127.0.0.1:{free_port()}/0", settings=HEALTH)
    ready = wait_for(lambda: readiness_if(server.base_url, lambda r: r.status_code == 200), what="readiness UP")
    assert status_of(ready, "redis") == "DOWN"
    assert ready.json()["components"]["redis"]["details"]["requiredForReadiness"] is False
    health = httpx.get(f"{server.base_url}/actuator/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "UP"
    assert status_of(health, "redis") == "DOWN"

    before = scrape(server.base_url)
    assert book(server.base_url, 1).status_code == 201
    refused = book(server.base_url, 2, "REDIS")
    assert refused.status_code == 503 and refused.json()["error"] == "REDIS_UNAVAILABLE"
    after = scrape(server.base_url)
    assert (
        value(after, "lock_failures_total", reason="error") - value(before, "lock_failures_total", reason="error") == 1
    )
    assert value(after, "booking_attempts_total", strategy="REDIS", outcome="unavailable") == 1
    assert value(after, "booking_attempts_total", strategy="ATOMIC", outcome="win") == 1

    for _ in range(30):
        httpx.get(f"{server.base_url}/api/v1/seats", timeout=30, headers={"X-Request-ID": "quiet-1"})
    # Default settings: no line per request (the access log is opt-in).
    server.stop()
    assert server.log_path is not None
    text = server.log_path.read_text()
    assert "quiet-1" not in text and "http_request" not in text and "uvicorn.access" not in text


def test_redis_down_fails_readiness_when_redis_is_the_default(server_factory: ServerFactory) -> None:
    server = server_factory(
        ready_path=LIVENESS,
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        default_strategy="REDIS",
        access_log=True,
        log_format="json",
        settings=HEALTH,
    )
    ready = wait_for(
        lambda: readiness_if(server.base_url, lambda r: status_of(r, "migrations") == "UP"),
        what="migrations done",
    )
    assert ready.status_code == 503
    assert status_of(ready, "db") == "UP"
    assert status_of(ready, "redis") == "DOWN"
    assert ready.json()["components"]["redis"]["details"]["requiredForReadiness"] is True
    response = httpx.post(
        f"{server.base_url}/api/v1/bookings",
        json={"seatId": 1, "userId": "u"},
        headers={"X-Request-ID": "json-req-1"},
        timeout=30,
    )
    assert response.status_code == 503 and response.json()["error"] == "REDIS_UNAVAILABLE"
    # BOXOFFICE_ACCESS_LOG=true and JSON format: every line is one JSON object; the request has its line.
    server.stop()
    assert server.log_path is not None
    events = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.strip()]
    access = [e for e in events if e.get("request_id") == "json-req-1" and e["logger"] == "boxoffice.access"]
    assert len(access) == 1
    assert "route=/api/v1/bookings" in access[0]["msg"] and "status=503" in access[0]["msg"]
    assert {"ts", "level", "logger", "pid", "msg"} <= set(access[0])
