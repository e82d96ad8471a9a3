"""Health against real failures: a database that is absent, vanishes, hangs or is being migrated; Redis absent."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from tests.observability.helpers import PrivatePostgres, TcpProxy, readiness, scrape, value, wait_for
from tests.support import ServerProcess, free_port, fresh_database

LIVENESS = "/actuator/health/liveness"
MIGRATION_LOCK_KEY = 0x626F786F  # boxoffice/storage/migrations/env.py: instances migrate one at a time
SEATS = 25


def base_env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-obs-{uuid.uuid4().hex[:8]}:",
        "BOXOFFICE_SEED_ROWS": "5",
        "BOXOFFICE_SEED_COLS": "5",
        "BOXOFFICE_DB_ACQUIRE_TIMEOUT_S": "1",
    }


def through(url: str, port: int) -> str:
    return url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")


def status_of(response: httpx.Response, component: str) -> str:
    status: str = response.json()["components"][component]["status"]
    return status


def book(base_url: str, seat_id: int, strategy: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"seatId": seat_id, "userId": "health"}
    if strategy:
        body["strategy"] = strategy
    return httpx.post(f"{base_url}/api/v1/bookings", json=body, timeout=15)


def test_database_absent_at_start_then_up_then_lost_then_hung(artifacts: Path) -> None:
    with fresh_database() as url, TcpProxy(5432) as proxy, ServerProcess(
        env=base_env(through(url, proxy.port)),
        ready_path=LIVENESS,
        log_path=artifacts / "observability-db-down.log",
    ) as server:
        # Nothing listens on the database port: the server runs, is not ready, and says why.
        ready = readiness(server.base_url)
        assert ready.status_code == 503
        assert ready.json()["status"] == "DOWN"
        assert status_of(ready, "db") == "DOWN"
        assert "error" in ready.json()["components"]["db"]["details"]
        migrations = wait_for(
            lambda: (r := readiness(server.base_url)).json()["components"]["migrations"]["details"].get("lastError")
            and r,
            20, "a failed migration attempt to be reported",
        )
        assert status_of(migrations, "migrations") == "DOWN"
        health = httpx.get(f"{server.base_url}/actuator/health", timeout=10)
        assert health.status_code == 503
        assert health.json()["components"]["livenessState"] == {"status": "UP"}
        assert health.json()["components"]["readinessState"] == {"status": "DOWN"}
        assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=10).status_code == 200
        for response in (httpx.get(f"{server.base_url}/api/v1/seats", timeout=10), book(server.base_url, 1)):
            assert response.status_code == 503
            assert response.json()["error"] == "STARTING"
            assert response.headers["retry-after"] == "1"
        assert httpx.get(f"{server.base_url}/actuator/prometheus", timeout=10).status_code == 200

        # The database appears: the background retry migrates and seeds, readiness turns UP.
        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, 45, "readiness UP after the database came up")
        assert len(httpx.get(f"{server.base_url}/api/v1/seats", timeout=10).json()["seats"]) == SEATS
        assert book(server.base_url, 1).status_code == 201

        # The database vanishes mid-run: readiness DOWN, bookings a clean 503 (never 500), liveness UP.
        proxy.close()
        down = wait_for(lambda: (r := readiness(server.base_url)).status_code == 503 and r, 15, "readiness DOWN")
        assert status_of(down, "db") == "DOWN"
        assert status_of(down, "migrations") == "UP"
        failed = book(server.base_url, 2)
        assert failed.status_code == 503, failed.text
        assert failed.json()["error"] in ("DATABASE_UNAVAILABLE", "DATABASE_BUSY")
        assert "retry-after" in failed.headers
        assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=10).status_code == 200

        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, 30, "readiness UP after the outage")
        wait_for(lambda: book(server.base_url, 3).status_code == 201, 15, "bookings to work again")

        # The database hangs (accepts, never answers): the probe gives up on its own timeout.
        proxy.blackhole()
        started = time.monotonic()
        hung = wait_for(lambda: (r := readiness(server.base_url)).status_code == 503 and r, 15, "readiness DOWN")
        assert time.monotonic() - started < 10  # a 1 s probe budget, not the driver's 60 s connect timeout
        assert status_of(hung, "db") == "DOWN"
        assert hung.json()["components"]["db"]["details"]["error"] == "timed out"
        proxy.open()
        wait_for(lambda: readiness(server.base_url).status_code == 200, 30, "readiness UP after the hang")


def test_database_stopped_and_restarted(artifacts: Path) -> None:
    """A real PostgreSQL shut down mid-run: DOWN, clean 503s, then UP again; only acknowledged bookings exist."""
    with PrivatePostgres() as pg:
        with ServerProcess(env=base_env(pg.url), log_path=artifacts / "observability-db-stopped.log") as server:
            assert readiness(server.base_url).status_code == 200
            assert book(server.base_url, 1).status_code == 201
            pg.stop()
            down = wait_for(lambda: (r := readiness(server.base_url)).status_code == 503 and r, 15, "readiness DOWN")
            assert status_of(down, "db") == "DOWN"
            refused = [book(server.base_url, seat) for seat in (2, 3, 4)]
            assert [r.status_code for r in refused] == [503, 503, 503], [r.text for r in refused]
            assert httpx.get(f"{server.base_url}{LIVENESS}", timeout=10).status_code == 200
            pg.start()
            wait_for(lambda: readiness(server.base_url).status_code == 200, 30, "readiness UP after restart")
            wait_for(lambda: book(server.base_url, 5).status_code == 201, 20, "bookings after the restart")
        with psycopg.connect(pg.url) as conn:
            bookings = conn.execute("SELECT seat_id FROM bookings ORDER BY seat_id").fetchall()
            booked = conn.execute("SELECT id FROM seats WHERE status = 'BOOKED' ORDER BY id").fetchall()
    assert [r[0] for r in bookings] == [1, 5]
    assert [r[0] for r in booked] == [1, 5]


def test_readiness_down_while_another_instance_migrates(artifacts: Path) -> None:
    with fresh_database() as url, psycopg.connect(url, autocommit=True) as other_instance:
        # Another instance is migrating: it holds the migration lock.
        other_instance.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        with ServerProcess(env=base_env(url), ready_path=LIVENESS,
                           log_path=artifacts / "observability-migrating.log") as server:
            for _ in range(3):
                ready = readiness(server.base_url)
                assert ready.status_code == 503
                assert status_of(ready, "db") == "UP"
                assert ready.json()["components"]["migrations"]["details"]["state"] == "MIGRATING"
                assert httpx.get(f"{server.base_url}/api/v1/seats", timeout=10).json()["error"] == "STARTING"
                time.sleep(0.5)
            other_instance.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
            wait_for(lambda: readiness(server.base_url).status_code == 200, 30, "readiness UP after migrating")
            assert len(httpx.get(f"{server.base_url}/api/v1/seats", timeout=10).json()["seats"]) == SEATS


def test_redis_down_degrades_but_stays_ready(artifacts: Path) -> None:
    log_path = artifacts / f"observability-redis-down-{uuid.uuid4().hex[:6]}.log"
    with fresh_database() as url, ServerProcess(
        env={**base_env(url), "BOXOFFICE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, log_path=log_path
    ) as server:
        ready = readiness(server.base_url)
        assert ready.status_code == 200
        assert status_of(ready, "redis") == "DOWN"
        assert ready.json()["components"]["redis"]["details"]["requiredForReadiness"] is False
        health = httpx.get(f"{server.base_url}/actuator/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "UP"
        assert status_of(health, "redis") == "DOWN"

        before = scrape(server.base_url)
        assert book(server.base_url, 1).status_code == 201
        refused = book(server.base_url, 2, "REDIS")
        assert refused.status_code == 503 and refused.json()["error"] == "REDIS_UNAVAILABLE"
        after = scrape(server.base_url)
        assert value(after, "lock_failures_total", reason="error") - value(before, "lock_failures_total",
                                                                            reason="error") == 1
        assert value(after, "booking_attempts_total", strategy="REDIS", outcome="unavailable") == 1
        assert value(after, "booking_attempts_total", strategy="ATOMIC", outcome="win") == 1

        for _ in range(30):
            httpx.get(f"{server.base_url}/api/v1/seats", timeout=10, headers={"X-Request-ID": "quiet-1"})
    # Default settings: no line per request (the access log is opt-in).
    text = log_path.read_text()
    assert "quiet-1" not in text and "http_request" not in text and "uvicorn.access" not in text


def test_redis_down_fails_readiness_when_redis_is_the_default(artifacts: Path) -> None:
    log_path = artifacts / f"observability-redis-default-{uuid.uuid4().hex[:6]}.log"
    env = {
        **base_env("unused"),
        "BOXOFFICE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "BOXOFFICE_DEFAULT_STRATEGY": "REDIS",
        "BOXOFFICE_ACCESS_LOG": "true",
        "BOXOFFICE_LOG_FORMAT": "json",
    }
    with fresh_database() as url, ServerProcess(env={**env, "DATABASE_URL": url}, ready_path=LIVENESS,
                                                log_path=log_path) as server:
        ready = wait_for(
            lambda: (r := readiness(server.base_url)).json()["components"]["migrations"]["status"] == "UP" and r,
            30, "migrations done",
        )
        assert ready.status_code == 503
        assert status_of(ready, "db") == "UP"
        assert status_of(ready, "redis") == "DOWN"
        assert ready.json()["components"]["redis"]["details"]["requiredForReadiness"] is True
        response = httpx.post(f"{server.base_url}/api/v1/bookings", json={"seatId": 1, "userId": "u"},
                              headers={"X-Request-ID": "json-req-1"}, timeout=10)
        assert response.status_code == 503 and response.json()["error"] == "REDIS_UNAVAILABLE"
    # BOXOFFICE_ACCESS_LOG=true and JSON format: every line is one JSON object; the request has its line.
    events = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    access = [e for e in events if e.get("request_id") == "json-req-1" and e["logger"] == "boxoffice.access"]
    assert len(access) == 1
    assert "route=/api/v1/bookings" in access[0]["msg"] and "status=503" in access[0]["msg"]
    assert {"ts", "level", "logger", "pid", "msg"} <= set(access[0])
