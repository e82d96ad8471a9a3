"""The seat snapshot cache: shared reads, content codings, and the snapshot-then-deltas protocol kept exact.

The server keeps snapshots for 30 s (far longer than the default 200 ms), so a stale body would be
served for the whole test if only the TTL protected it: what keeps every answer current is the
check against the outbox (booking/snapshots.py).
"""

from __future__ import annotations

import asyncio
import gzip
import re
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import brotli
import httpx
import orjson
import pytest

from boxoffice import wire
from tests.helpers import eventually, race
from tests.realtime.client import SeatView, StompClient, comparable, ws_url
from tests.shared import ADMIN_TOKEN, client_for, layout
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess, pg_connect

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOLD_TTL_S = 1.5

SETTINGS = {
    "seed_rows": 20,
    "seed_cols": 25,
    "snapshot_cache_ms": 30_000,
    "admin_token": ADMIN_TOKEN,
    "hold_ttl_s": HOLD_TTL_S,
    "hold_sweep_interval_s": 0,
    "db_pool_max": 8,
    "db_acquire_timeout_s": 10,
    "log_level": "WARNING",
    **LOAD_LIMITS_OFF,
}


@pytest.fixture(scope="module")
def cache_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_snap")


@pytest.fixture(scope="module")
def cache_server(module_servers: ServerFactory, cache_db: str) -> ServerProcess:
    return module_servers(database_url=cache_db, log="snapshot-cache", settings=SETTINGS)


@pytest.fixture
async def http(cache_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(cache_server) as client:
        yield client


async def new_event(http: httpx.AsyncClient) -> int:
    """An event no other test touched: its snapshot is not cached yet."""
    r = await http.post("/api/v1/admin/events", json=layout(), headers=ADMIN)
    assert r.status_code == 201, r.text
    event_id: int = r.json()["eventId"]
    return event_id


async def cache_counts(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/actuator/prometheus")).text
    return {m[1]: float(m[2]) for m in re.finditer(r'^snapshot_cache_total\{result="(\w+)"\} (\S+)$', text, re.M)}


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    return {k: int(after[k] - before.get(k, 0)) for k in after if after[k] != before.get(k, 0)}


def db_event_seats(database_url: str, event_id: int) -> dict[int, tuple[Any, ...]]:
    with pg_connect(database_url) as conn:
        found = conn.execute("SELECT id, status, version FROM seats WHERE event_id = %s", (event_id,)).fetchall()
    return {r[0]: (r[0], r[1], r[2]) for r in found}


async def test_concurrent_loads_share_one_database_read(http: httpx.AsyncClient) -> None:
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"
    before = await cache_counts(http)
    gate = asyncio.Event()

    async def load() -> httpx.Response:
        await gate.wait()
        return await http.get(path)

    tasks = [asyncio.create_task(load()) for _ in range(60)]
    await asyncio.sleep(0)
    gate.set()
    answers = await asyncio.gather(*tasks)
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1, "every client got the same snapshot"
    counts = delta(before, await cache_counts(http))
    # One read; the others shared it (arrived before it started) or were served its body after a check.
    assert counts.get("miss") == 1, counts
    assert counts.get("joined", 0) + counts.get("hit", 0) == 59, counts
    # Nothing changed: later loads are hits, still one read.
    await asyncio.gather(*(http.get(path) for _ in range(10)))
    counts = delta(before, await cache_counts(http))
    assert counts.get("miss") == 1 and counts.get("hit", 0) >= 10, counts


async def test_a_cached_snapshot_always_includes_changes_made_before_the_request(
    http: httpx.AsyncClient, cache_server: ServerProcess
) -> None:
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"
    first = (await http.get(path)).json()
    seat = first["seats"][3]["seatId"]
    watcher = await StompClient.connect(ws_url(cache_server.base_url))
    await watcher.subscribe(destination=f"/topic/events/{event_id}/seats")
    booked = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": "ana"})
    assert booked.status_code == 201
    [delivered] = await watcher.messages(1)  # the change has reached subscribers...
    await watcher.close()
    # ...so a client subscribing now will never get it: its snapshot must contain it.
    second = (await http.get(path)).json()
    assert second["sequence"] >= delivered["sequence"]
    assert {s["seatId"]: s["status"] for s in second["seats"]}[seat] == "BOOKED"
    assert second["sequence"] > first["sequence"]


async def test_a_reset_outbox_is_noticed(http: httpx.AsyncClient, cache_db: str) -> None:
    """Tests and benchmarks reset seats with plain SQL and TRUNCATE the outbox: no stale body then."""
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"
    seat = (await http.get(path)).json()["seats"][0]["seatId"]
    assert (await http.post("/api/v1/bookings", json={"seatId": seat, "userId": "bo"})).status_code == 201
    assert {s["seatId"]: s["status"] for s in (await http.get(path)).json()["seats"]}[seat] == "BOOKED"
    with pg_connect(cache_db) as conn:
        conn.execute("TRUNCATE seat_events, bookings")
        conn.execute("UPDATE seats SET status = 'AVAILABLE', booked_by = NULL, booked_at = NULL WHERE id = %s", (seat,))
    assert {s["seatId"]: s["status"] for s in (await http.get(path)).json()["seats"]}[seat] == "AVAILABLE"


async def test_a_lapsed_hold_is_not_served_from_the_cache(http: httpx.AsyncClient) -> None:
    """A lapsed hold reads AVAILABLE without any outbox row (no sweeper here): the body expires with it."""
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"
    seat = (await http.get(path)).json()["seats"][1]["seatId"]
    token = (await http.post("/api/v1/sessions")).json()["token"]
    held = await http.post("/api/v1/holds", json={"seatIds": [seat]}, headers={"Authorization": f"Bearer {token}"})
    assert held.status_code == 201, held.text

    async def status() -> str:
        seats = (await http.get(path)).json()["seats"]
        found: str = {s["seatId"]: s["status"] for s in seats}[seat]
        return found

    assert await status() == "HELD"

    async def lapsed() -> bool:
        return await status() == "AVAILABLE"

    await eventually(lapsed, timeout_s=30, what="the lapsed hold to read AVAILABLE")


async def test_codings_are_negotiated_and_equal(http: httpx.AsyncClient) -> None:
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"

    async def raw(accept: str) -> httpx.Response:
        request = http.build_request("GET", path, headers={"Accept-Encoding": accept})
        response = await http.send(request, stream=True)
        await response.aread()  # httpx would decode `.content`; the raw bytes are what travelled
        await response.aclose()
        return response

    plain = b"".join([chunk async for chunk in _raw_chunks(http, path, "identity")])
    body = orjson.loads(plain)
    assert body["event"]["eventId"] == event_id and len(body["seats"]) == 22
    expected = {
        "br": "br",
        "gzip": "gzip",
        "gzip, deflate, br": "br",
        "br;q=0, gzip": "gzip",
        "gzip;q=0.5, br;q=0.4": "gzip",
        "*": "br",
        "deflate": None,
        "identity": None,
        "": None,
    }
    for accept, coding in expected.items():
        response = await raw(accept)
        assert response.status_code == 200
        assert response.headers.get("content-encoding") == coding, accept
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["cache-control"] == "no-store"
        data = b"".join([chunk async for chunk in _raw_chunks(http, path, accept)])
        decoded = brotli.decompress(data) if coding == "br" else gzip.decompress(data) if coding == "gzip" else data
        assert decoded == plain, accept


async def _raw_chunks(http: httpx.AsyncClient, path: str, accept: str) -> AsyncIterator[bytes]:
    async with http.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        async for chunk in response.aiter_raw():
            yield chunk


async def test_a_large_snapshot_travels_compressed(http: httpx.AsyncClient) -> None:
    spec = layout(sections=[{"name": "Floor", "rows": 40, "columns": 50, "category": "STD"}])
    r = await http.post("/api/v1/admin/events", json=spec, headers=ADMIN)
    assert r.status_code == 201, r.text
    path = f"/api/v1/events/{r.json()['eventId']}/seats"
    sizes = {}
    for accept in ("identity", "gzip", "br"):
        sizes[accept] = len(b"".join([chunk async for chunk in _raw_chunks(http, path, accept)]))
    assert sizes["br"] * 10 < sizes["identity"] and sizes["gzip"] * 5 < sizes["identity"], sizes


async def test_no_private_field_reaches_a_cached_body(http: httpx.AsyncClient) -> None:
    """Bookings and holds of named users and sessions: every caller gets the same public bytes."""
    event_id = await new_event(http)
    path = f"/api/v1/events/{event_id}/seats"
    seats = [s["seatId"] for s in (await http.get(path)).json()["seats"]]
    secret_user = f"secret-{uuid.uuid4().hex[:8]}"
    session = (await http.post("/api/v1/sessions")).json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    booked = await http.post("/api/v1/bookings", json={"seatIds": seats[:2], "userId": secret_user})
    assert booked.status_code == 201
    held = await http.post("/api/v1/holds", json={"seatIds": seats[2:4]}, headers=auth)
    assert held.status_code == 201
    hold_token = held.json()["holdToken"]
    mine = await http.post("/api/v1/bookings", json={"seatId": seats[5]}, headers=auth)
    assert mine.status_code == 201
    bodies = {
        (await http.get(path, headers=headers)).content
        for headers in ({}, auth, {"Authorization": "Bearer " + "x" * 40})
    }
    bodies |= {(await http.get(path)).content for _ in range(3)}
    assert len(bodies) == 1, "the snapshot does not depend on who asks"
    [body] = bodies
    for private in (secret_user, session["userId"], session["token"], hold_token, "userId", "bookedBy", "holdToken"):
        assert private.encode() not in body, private
    document = orjson.loads(body)
    assert all(set(s) == set(wire.SeatOut.model_fields) for s in document["seats"])
    statuses = {s["seatId"]: s["status"] for s in document["seats"]}
    assert [statuses[s] for s in seats[:6]] == ["BOOKED", "BOOKED", "HELD", "HELD", "AVAILABLE", "BOOKED"]


async def test_clients_loading_cached_snapshots_during_a_booking_race_converge(
    http: httpx.AsyncClient, cache_server: ServerProcess, cache_db: str
) -> None:
    """Bookings race while clients subscribe and load (mostly cached) snapshots; every client ends
    equal to the database, and a client that joins after the race is equal from its snapshot on."""
    event_id = await new_event(http)
    topic, path = f"/topic/events/{event_id}/seats", f"/api/v1/events/{event_id}/seats"
    seat_ids = [s["seatId"] for s in (await http.get(path)).json()["seats"]]
    before = await cache_counts(http)
    bookings = [{"seatId": s, "userId": f"u{s}-{n}"} for s in seat_ids for n in range(3)]

    async def book_in_waves() -> None:
        for start in range(0, len(bookings), 6):
            await race(http, bookings[start : start + 6])

    booking = asyncio.create_task(book_in_waves())
    views: list[SeatView] = []

    async def join() -> None:
        view = SeatView(cache_server.base_url, topic=topic, snapshot_path=path)
        await view.start()
        views.append(view)

    while not booking.done():
        await asyncio.gather(*(join() for _ in range(4)))
    await booking
    database = db_event_seats(cache_db, event_id)
    assert {s for s, status, _ in database.values() if status == "BOOKED"} == set(seat_ids)

    def matches(view: SeatView) -> bool:
        return {sid: comparable(s) for sid, s in view.seats.items()} == database

    await asyncio.gather(*(v.pump_until(partial(matches, v), what="the view to match the database") for v in views))
    late = [SeatView(cache_server.base_url, topic=topic, snapshot_path=path) for _ in range(8)]
    await asyncio.gather(*(v.start() for v in late))
    assert all(matches(v) for v in late), "a snapshot after the last change equals the database"
    counts = delta(before, await cache_counts(http))
    assert counts.get("hit", 0) + counts.get("joined", 0) > 0, f"the cache was not exercised: {counts}"
    for view in [*views, *late]:
        await view.close()


async def test_api_json_is_compressed_from_the_threshold_and_booking_answers_never(http: httpx.AsyncClient) -> None:
    accept = {"Accept-Encoding": "gzip, br"}
    listed = await http.get("/openapi.json", headers=accept)
    assert listed.headers["content-encoding"] == "br" and listed.headers["vary"] == "Accept-Encoding"
    assert listed.json()["info"]["title"] == "Box Office"
    metrics = await http.get("/actuator/prometheus", headers={"Accept-Encoding": "gzip"})
    assert metrics.headers["content-encoding"] == "gzip" and "snapshot_cache_total" in metrics.text
    event_id = await new_event(http)
    small = await http.get(f"/api/v1/events/{event_id}", headers=accept)
    assert small.status_code == 200 and "content-encoding" not in small.headers
    seat = (await http.get(f"/api/v1/events/{event_id}/seats")).json()["seats"][0]["seatId"]
    booked = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": "cy"}, headers=accept)
    assert booked.status_code == 201 and "content-encoding" not in booked.headers
