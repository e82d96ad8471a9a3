"""Counters scraped from a real server move exactly as the clients' answers say they should."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from boxoffice.booking.locks import SeatLeases
from tests.helpers import race
from tests.observability.helpers import redis_lease, scrape, value
from tests.support import REDIS_URL, ServerProcess

BOOK = "/api/v1/bookings"


def delta(
    before: dict[tuple[str, frozenset[tuple[str, str]]], float],
    after: dict[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    **labels: str,
) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_win_conflict_and_not_found_are_counted(client: httpx.AsyncClient, clean: ServerProcess) -> None:
    before = scrape(clean.base_url)
    assert (await client.post(BOOK, json={"seatId": 1, "userId": "alice"})).status_code == 201
    assert (await client.post(BOOK, json={"seatId": 1, "userId": "bob"})).status_code == 409
    assert (await client.post(BOOK, json={"seatId": 99_999, "userId": "bob"})).status_code == 404
    after = scrape(clean.base_url)

    assert delta(before, after, "booking_attempts_total", strategy="ATOMIC", outcome="win") == 1
    assert delta(before, after, "booking_attempts_total", strategy="ATOMIC", outcome="conflict") == 1
    assert delta(before, after, "booking_attempts_total", strategy="ATOMIC", outcome="not_found") == 1
    assert delta(before, after, "booking_conflict_total", path="seat") == 1
    assert delta(before, after, "booking_duration_seconds_count", strategy="ATOMIC") == 3
    for status in ("201", "409", "404"):
        assert delta(before, after, "http_requests_total", method="POST", route=BOOK, status=status) == 1
        assert (
            delta(before, after, "http_request_duration_seconds_count", method="POST", route=BOOK, status=status) == 1
        )


@pytest.mark.parametrize("strategy", ["ATOMIC", "DB", "REDIS"])
async def test_racing_clients_one_win_rest_conflicts(
    client: httpx.AsyncClient, clean: ServerProcess, strategy: str
) -> None:
    """40 clients race for one seat: exactly the answers they got show up in the counters."""
    before = scrape(clean.base_url)
    responses = await race(client, [{"seatId": 7, "userId": f"u{i}", "strategy": strategy} for i in range(40)])
    seen = Counter(r.status_code for r in responses)
    assert seen[201] == 1 and seen[409] == 39, seen
    after = scrape(clean.base_url)

    assert delta(before, after, "booking_attempts_total", strategy=strategy, outcome="win") == 1
    assert delta(before, after, "booking_attempts_total", strategy=strategy, outcome="conflict") == 39
    assert delta(before, after, "booking_conflict_total", path="seat") == 39
    assert delta(before, after, "booking_duration_seconds_count", strategy=strategy) == 40
    if strategy == "REDIS":
        # Every attempt took the lease or waited for it; losers either timed out (contended) or
        # got it after the winner committed and were refused by the database.
        assert delta(before, after, "lock_acquire_seconds_count") == 40
        contended = delta(before, after, "lock_failures_total", reason="contended")
        assert 0 <= contended <= 39


async def test_held_lease_counts_a_contended_lock_failure(client: httpx.AsyncClient, clean: ServerProcess) -> None:
    prefix = clean.env["BOXOFFICE_REDIS_KEY_PREFIX"]
    before = scrape(clean.base_url)
    with redis_lease(REDIS_URL, f"{prefix}lock:seat:3"):
        response = await client.post(BOOK, json={"seatId": 3, "userId": "carol", "strategy": "REDIS"})
    assert response.status_code == 409
    after = scrape(clean.base_url)
    assert delta(before, after, "lock_failures_total", reason="contended") == 1
    assert delta(before, after, "lock_acquire_seconds_count") == 1
    assert delta(before, after, "booking_attempts_total", strategy="REDIS", outcome="conflict") == 1
    assert delta(before, after, "booking_conflict_total", path="seat") == 1


async def test_lost_lease_is_counted() -> None:
    """A lease that expires under its holder (here: taken over mid-hold) counts as `lost`."""
    import redis.asyncio as aioredis
    from prometheus_client import REGISTRY

    client = aioredis.Redis.from_url(REDIS_URL)
    leases = SeatLeases(client, prefix=f"bo-obs-{uuid.uuid4().hex[:8]}:", lease_s=5, wait_s=0)
    before = REGISTRY.get_sample_value("lock_failures_total", {"reason": "lost"}) or 0.0
    try:
        async with leases.hold(1) as held:
            assert held
            await client.set(leases.key(1), "someone-else")
    finally:
        await client.delete(leases.key(1))
        await client.aclose()
    assert leases.stats.lost == 1
    assert REGISTRY.get_sample_value("lock_failures_total", {"reason": "lost"}) == before + 1


async def test_labels_stay_bounded(client: httpx.AsyncClient, clean: ServerProcess) -> None:
    """Unknown paths and exotic methods collapse into fixed label values (no cardinality attack)."""
    random_path = f"/api/v1/nothing-{uuid.uuid4().hex}"
    assert (await client.get(random_path)).status_code == 404
    assert (await client.request("PROPFIND", "/api/v1/seats")).status_code == 405
    text = (await client.get("/actuator/prometheus")).text
    assert random_path not in text
    assert "PROPFIND" not in text
    after = scrape(clean.base_url)
    assert value(after, "http_requests_total", method="GET", route="unmatched", status="404") >= 1
    assert value(after, "http_requests_total", method="OTHER", route="/api/v1/seats", status="405") >= 1


async def test_process_and_pool_metrics(client: httpx.AsyncClient, clean: ServerProcess) -> None:
    await client.get("/api/v1/seats")
    samples = scrape(clean.base_url)
    assert value(samples, "process_resident_memory_bytes") > 10_000_000
    assert value(samples, "process_cpu_seconds_total") > 0
    assert value(samples, "process_open_fds") > 0
    assert value(samples, "boxoffice_worker_processes") == 1
    assert value(samples, "db_pool_connections_max") == int(clean.env["BOXOFFICE_DB_POOL_MAX"])
    assert value(samples, "db_pool_connections_open") >= 1
    assert 0 <= value(samples, "db_pool_connections_in_use") <= value(samples, "db_pool_connections_open")
    assert value(samples, "websocket_sessions") >= 0


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    given = await client.get("/api/v1/seats", headers={"X-Request-ID": "trace-42.a:b"})
    assert given.headers["x-request-id"] == "trace-42.a:b"
    minted = await client.get("/api/v1/seats")
    assert len(minted.headers["x-request-id"]) == 32
    for bad in ("has spaces", "x" * 129, 'quote"d'):
        replaced = await client.get("/api/v1/seats", headers={"X-Request-ID": bad})
        assert replaced.headers["x-request-id"] != bad
        assert len(replaced.headers["x-request-id"]) == 32
    too_large = await client.post(
        BOOK, content=b"{" + b" " * 10_000 + b"}", headers={"content-type": "application/json", "X-Request-ID": "big-1"}
    )
    assert too_large.status_code == 413
    assert too_large.headers["x-request-id"] == "big-1"


def test_route_template_of_a_root_mount() -> None:
    """The UI's static files are mounted at `/`: one label value for all of them, not one per file."""
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from boxoffice.api.middleware import route_template

    routes = [
        Route("/api/v1/seats/{seat_id}", endpoint=lambda r: None),
        Mount("/", app=StaticFiles(directory=".", check_dir=False)),
    ]
    scope = {"type": "http", "path": "/api/v1/seats/12", "method": "GET", "root_path": ""}
    assert route_template(routes, scope, 200) == "/api/v1/seats/{seat_id}"
    assert route_template(routes, scope, 404) == "/api/v1/seats/{seat_id}"
    assert route_template(routes, {**scope, "path": "/assets/index-abc123.js"}, 200) == "/"
    assert route_template(routes, {**scope, "path": "/assets/missing.js"}, 404) == "unmatched"
    assert route_template(routes[:1], {**scope, "path": "/nope"}, 404) == "unmatched"


async def test_actuator_and_api_routes_win_over_the_root_mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The UI is mounted at `/` and catches every other path; it never shadows `/actuator` or `/api`."""
    from boxoffice.server import create_app
    from boxoffice.settings import Settings

    (tmp_path / "index.html").write_text("ui")
    monkeypatch.setenv("BOXOFFICE_FRONTEND_DIST", str(tmp_path))
    app = create_app(Settings(database_url="postgresql://unused"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/actuator/health/liveness")).json() == {"status": "UP"}
        assert (await client.get("/")).text == "ui"  # the UI loads while the API is still starting
        starting = await client.get("/api/v1/seats")
        assert starting.status_code == 503 and starting.json()["error"] == "STARTING"
        missing = await client.get("/api/v1/nope")
        assert missing.status_code == 503, "the API prefix is gated, never answered by the UI"
