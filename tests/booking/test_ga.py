"""General admission: areas with a capacity, booked by quantity with the same holds, keys, cancel, caps
and real-time counts; never oversold under parallel holds, confirms, expiries and cancels."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.booking.inventory_support import INVENTORY, create_event
from tests.helpers import assert_consistent, rows, until
from tests.realtime.client import StompClient, ws_url
from tests.shared import client_for, without_secrets
from tests.support import ServerFactory, ServerProcess

HOLD_TTL_S = 2.0


@pytest.fixture(scope="module")
def ga_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_ga")


@pytest.fixture(scope="module")
def ga_server(module_servers: ServerFactory, ga_db: str) -> ServerProcess:
    # Short holds, no sweeper: lapsed holds must be free to the next buyer with no background job.
    return module_servers(database_url=ga_db, settings={**INVENTORY, "hold_ttl_s": HOLD_TTL_S, "hold_max_s": 4})


@pytest.fixture
async def gc(ga_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(ga_server) as c:
        yield c


def ga(event_id: int, quantity: int, area: str = "Lawn") -> dict[str, Any]:
    return {"eventId": event_id, "bestAvailable": {"quantity": quantity, "section": area}}


def area(snapshot: dict[str, Any], name: str = "Lawn") -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in snapshot["areas"] if a["name"] == name)
    return found


def taken(database_url: str, event_id: int) -> int:
    """Tickets booked or under a live hold."""
    n: int = rows(
        database_url,
        "SELECT count(*) AS n FROM seats WHERE event_id = %s AND kind = 'GA'"
        " AND (status = 'BOOKED' OR (status = 'HELD' AND held_until >= clock_timestamp()))",
        event_id,
    )[0]["n"]
    return n


async def test_ga_area_by_quantity_with_holds_keys_and_feed(
    gc: httpx.AsyncClient, ga_db: str, ga_server: ServerProcess
) -> None:
    event = await create_event(
        gc,
        [
            {"name": "Stalls", "rows": 2, "columns": 4, "category": "STD"},
            {"name": "Lawn", "capacity": 20, "category": "GA", "blocked": {"SPONSOR": 2}, "channels": {"presale": 3}},
        ],
    )
    snap = (await gc.get(f"/api/v1/events/{event}/seats")).json()
    assert area(snap) == {"name": "Lawn", "category": "GA", "priceCents": 500, "capacity": 20, "available": 15}
    assert [s["kind"] for s in snap["layout"]["sections"]] == ["SEATED", "GA"]
    assert all(s["kind"] == "SEAT" for s in snap["seats"]) and len(snap["seats"]) == 8
    stomp = await StompClient.connect(ws_url(ga_server.base_url))
    try:
        await stomp.subscribe("ga", f"/topic/events/{event}/seats")
        r = await gc.post("/api/v1/holds", json={**ga(event, 4), "userId": "gina"}, headers={"Idempotency-Key": "k1"})
        assert r.status_code == 201, r.text
        hold = r.json()
        assert len(hold["seatIds"]) == 4 and {s["kind"] for s in hold["seats"]} == {"GA"}
        assert {s["section"] for s in hold["seats"]} == {"Lawn"}
        again = await gc.post(
            "/api/v1/holds", json={**ga(event, 4), "userId": "gina"}, headers={"Idempotency-Key": "k1"}
        )
        # The same hold, replayed to a bare name without its token (docs/checkout.md).
        assert again.json() == without_secrets(hold) and again.headers.get("idempotent-replayed") == "true"
        messages = await stomp.messages(4)
        assert {m["areaAvailable"] for m in messages} == {11} and {m["kind"] for m in messages} == {"GA"}
        assert all(m["status"] == "HELD" for m in messages)
        confirmed = await gc.post("/api/v1/bookings", json={"holdToken": hold["holdToken"], "userId": "gina"})
        assert confirmed.status_code == 201
        messages = await stomp.messages(4)
        assert {m["areaAvailable"] for m in messages} == {11}
        first = confirmed.json()["bookings"][0]
        cancel = await gc.post(
            f"/api/v1/bookings/{first['bookingId']}/cancel", headers={"Manage-Token": first["manageToken"]}
        )
        assert cancel.status_code == 200
        assert (await stomp.messages(1))[0]["areaAvailable"] == 12
    finally:
        await stomp.close()
    assert area((await gc.get(f"/api/v1/events/{event}/seats")).json())["available"] == 12
    r = await gc.post("/api/v1/bookings", json={**ga(event, 10), "userId": "hal"})
    assert r.status_code == 201 and len(r.json()["seatIds"]) == 10
    r = await gc.post("/api/v1/bookings", json={**ga(event, 3), "userId": "ivy"})
    assert r.status_code == 409 and r.json()["error"] == "NO_BLOCK_AVAILABLE" and "Only 2" in r.json()["message"]
    # The channel's pool needs its key; the sponsor's never sells.
    from tests.booking.inventory_support import PRESALE_KEY

    r = await gc.post(
        "/api/v1/bookings", json={**ga(event, 3), "userId": "ivy"}, headers={"X-Channel-Key": PRESALE_KEY}
    )
    assert r.status_code == 201 and {b["channel"] for b in r.json()["bookings"]} == {"presale"}
    r = await gc.post("/api/v1/bookings", json={**ga(event, 2), "userId": "ivy"})
    assert r.status_code == 201
    r = await gc.post("/api/v1/bookings", json={**ga(event, 1), "userId": "ivy"})
    assert r.status_code == 409
    assert taken(ga_db, event) == 18
    assert_consistent(ga_db)


async def test_ga_is_never_oversold(gc: httpx.AsyncClient, ga_db: str) -> None:
    """Parallel holds and bookings by quantity, then parallel confirms, releases, cancels and new buyers
    while holds lapse: at no check is more than the capacity taken, no ticket is sold twice, and every
    201 is backed by the database."""
    capacity = 120
    event = await create_event(gc, [{"name": "Lawn", "capacity": capacity, "category": "GA"}])
    rng = random.Random(11)
    gate = asyncio.Event()

    async def buy(i: int) -> httpx.Response:
        await gate.wait()
        path = "/api/v1/holds" if i % 2 else "/api/v1/bookings"
        return await gc.post(path, json={**ga(event, rng.randint(1, 4)), "userId": f"g{i}"})

    tasks = [asyncio.create_task(buy(i)) for i in range(80)]
    gate.set()
    first = await asyncio.gather(*tasks)
    assert {r.status_code for r in first} <= {201, 409}
    won = [r.json() for r in first if r.status_code == 201]
    booked_now = [t for w in won if "bookings" in w for t in w["seatIds"]]
    live = [t for w in won if "holdToken" in w and w.get("state") == "ACTIVE" for t in w["seatIds"]]
    # A ticket is in two answers only when a hold lapsed (short TTL, busy machine) and it sold again.
    assert len(booked_now) == len(set(booked_now))
    assert taken(ga_db, event) <= capacity
    assert len(set(booked_now) | set(live)) >= taken(ga_db, event)
    # Refused only when the area could not cover the request any more.
    for r in first:
        if r.status_code == 409:
            assert r.json()["error"] == "NO_BLOCK_AVAILABLE"
    holds = [w for w in won if "holdToken" in w and w.get("state") == "ACTIVE"]
    bookings = [b for w in won if "bookings" in w for b in w["bookings"]]
    gate.clear()

    async def confirm(h: dict[str, Any], i: int) -> httpx.Response:
        await gate.wait()
        if i % 3 == 0:
            return await gc.post(f"/api/v1/holds/{h['holdToken']}/release", json={"userId": h["userId"]})
        return await gc.post("/api/v1/bookings", json={"holdToken": h["holdToken"], "userId": h["userId"]})

    async def cancel(b: dict[str, Any]) -> httpx.Response:
        await gate.wait()
        return await gc.post(f"/api/v1/bookings/{b['bookingId']}/cancel", headers={"Manage-Token": b["manageToken"]})

    second = [asyncio.create_task(confirm(h, i)) for i, h in enumerate(holds)]
    second += [asyncio.create_task(cancel(b)) for b in bookings[::4]]
    second += [asyncio.create_task(buy(100 + i)) for i in range(60)]
    gate.set()
    answers = await asyncio.gather(*second)
    assert {a.status_code for a in answers} <= {200, 201, 409}, [a.text for a in answers if a.status_code >= 500]
    assert taken(ga_db, event) <= capacity
    # Let the remaining holds lapse (no sweeper): their tickets are free for the next crowd.
    deadline = time.monotonic() + HOLD_TTL_S + 1
    await until(lambda: time.monotonic() > deadline, what="holds to lapse")
    third = [asyncio.create_task(buy(200 + i)) for i in range(80)]
    final = await asyncio.gather(*third)
    assert {r.status_code for r in final} <= {201, 409}
    assert taken(ga_db, event) <= capacity
    booked = rows(
        ga_db,
        "SELECT count(*) AS n FROM bookings b JOIN seats s ON s.id = b.seat_id"
        " WHERE s.event_id = %s AND b.status = 'CONFIRMED'",
        event,
    )[0]["n"]
    assert booked <= capacity
    # Every ticket some answer said was booked and never cancelled is booked by that buyer.
    for r in final:
        if r.status_code == 201 and "bookings" in r.json():
            for b in r.json()["bookings"]:
                assert (
                    rows(ga_db, "SELECT booked_by FROM seats WHERE id = %s", b["seatId"])[0]["booked_by"] == b["userId"]
                )
    snap = (await gc.get(f"/api/v1/events/{event}/seats")).json()
    assert area(snap)["available"] == capacity - taken(ga_db, event)
    assert_consistent(ga_db)


async def test_per_user_cap_covers_ga_and_best_available(server_factory: ServerFactory) -> None:
    """With the per-user cap on, GA and best-available requests take the checked transaction and count."""
    server = server_factory(settings={**INVENTORY, "seats_per_user": 4})
    async with client_for(server) as c:
        event = await create_event(
            c,
            [{"name": "Stalls", "rows": 1, "columns": 10, "category": "STD"},
             {"name": "Lawn", "capacity": 50, "category": "GA"}],
        )  # fmt: skip
        session = (await c.post("/api/v1/sessions")).json()["token"]
        auth = {"Authorization": f"Bearer {session}"}
        r = await c.post("/api/v1/holds", json=ga(event, 3), headers=auth)
        assert r.status_code == 201, r.text
        gate = asyncio.Event()

        async def more(body: dict[str, Any]) -> int:
            await gate.wait()
            return (await c.post("/api/v1/bookings", json=body, headers=auth)).status_code

        bodies = [ga(event, 1), ga(event, 1), {"eventId": event, "bestAvailable": {"quantity": 1}}]
        tasks = [asyncio.create_task(more(b)) for b in bodies]
        gate.set()
        statuses = await asyncio.gather(*tasks)
        assert sorted(statuses) == [201, 409, 409], statuses
        r = await c.post("/api/v1/bookings", json=ga(event, 1), headers=auth)
        assert r.status_code == 409 and r.json()["error"] == "SEAT_LIMIT_EXCEEDED"
