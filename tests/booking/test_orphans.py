"""The orphan rule: a hold or booking that would leave one free seat alone is refused (409 ORPHAN_SEAT,
naming the seat), for hand-picked seats too, checked in the claim's transaction, also under races."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.booking.inventory_support import ADMIN, INVENTORY, create_event, orphans, seat_ids
from tests.helpers import assert_consistent, rows
from tests.shared import client_for
from tests.support import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def orph_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_orphans")


@pytest.fixture(scope="module")
def orph_server(module_servers: ServerFactory, orph_db: str) -> ServerProcess:
    return module_servers(database_url=orph_db, settings=INVENTORY)


@pytest.fixture
async def oc(orph_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(orph_server) as c:
        yield c


ROW = [{"name": "Stalls", "rows": 1, "columns": 8, "category": "STD"}]


async def test_hand_picked_orphan_is_refused_naming_the_seat(oc: httpx.AsyncClient, orph_db: str) -> None:
    event = await create_event(oc, ROW, noOrphans=True)
    ids = seat_ids(orph_db, event)
    assert (
        await oc.post("/api/v1/bookings", json={"seatIds": [ids["A1"], ids["A2"]], "userId": "a"})
    ).status_code == 201
    # A4 would leave A3 alone between A2 and A4.
    r = await oc.post("/api/v1/bookings", json={"seatId": ids["A4"], "userId": "b"})
    assert r.status_code == 409 and r.json()["error"] == "ORPHAN_SEAT", r.text
    assert r.json()["seatIds"] == [ids["A3"]] and "A3" in r.json()["message"]
    r = await oc.post("/api/v1/holds", json={"seatIds": [ids["A4"], ids["A5"]], "userId": "b"})
    assert r.status_code == 409 and r.json()["error"] == "ORPHAN_SEAT"
    assert (
        rows(orph_db, "SELECT count(*) AS n FROM seats WHERE event_id = %s AND status <> 'AVAILABLE'", event)[0]["n"]
        == 2
    )
    # Taking A3 too is fine; so is a seat that leaves two free.
    assert (await oc.post("/api/v1/holds", json={"seatIds": [ids["A3"], ids["A4"]], "userId": "b"})).status_code == 201
    assert (await oc.post("/api/v1/bookings", json={"seatId": ids["A6"], "userId": "c"})).status_code == 409
    assert (await oc.post("/api/v1/bookings", json={"seatId": ids["A8"], "userId": "c"})).status_code == 201
    # Row ends: off by default (A8 was allowed, A7 left free next to the wall); on, a lone seat by the wall counts.
    event2 = await create_event(oc, ROW, noOrphans=True, orphanRowEnds=True)
    ids2 = seat_ids(orph_db, event2)
    r = await oc.post("/api/v1/bookings", json={"seatId": ids2["A2"], "userId": "d"})
    assert r.status_code == 409 and r.json()["seatIds"] == [ids2["A1"]], r.text
    # Without the option anything goes; the admin can switch it on later.
    event3 = await create_event(oc, ROW)
    ids3 = seat_ids(orph_db, event3)
    assert (await oc.post("/api/v1/bookings", json={"seatId": ids3["A2"], "userId": "e"})).status_code == 201
    r = await oc.patch(f"/api/v1/admin/events/{event3}", json={"noOrphans": True}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["noOrphans"] is True
    r = await oc.post("/api/v1/bookings", json={"seatId": ids3["A4"], "userId": "e"})
    assert r.status_code == 409 and r.json()["error"] == "ORPHAN_SEAT"
    assert_consistent(orph_db)


async def test_orphan_rule_holds_under_races(oc: httpx.AsyncClient, orph_db: str) -> None:
    """Many buyers pick single seats and pairs in the same rows at once: without the row lock two
    claims on either side of a free seat would both pass their check. The final map has no orphan."""
    event = await create_event(oc, [{"name": "Stalls", "rows": 3, "columns": 12, "category": "STD"}], noOrphans=True)
    ids = list(seat_ids(orph_db, event).values())
    rng = random.Random(3)
    gate = asyncio.Event()

    async def buyer(i: int) -> int:
        await gate.wait()
        pick = rng.sample(ids, 1 if i % 3 else 2)
        body = {"seatIds": pick, "userId": f"u{i}"} if len(pick) > 1 else {"seatId": pick[0], "userId": f"u{i}"}
        path = "/api/v1/holds" if i % 2 and len(pick) > 1 else "/api/v1/bookings"
        return (await oc.post(path, json=body)).status_code

    for _ in range(3):
        tasks = [asyncio.create_task(buyer(i)) for i in range(80)]
        gate.set()
        statuses = await asyncio.gather(*tasks)
        gate.clear()
        assert set(statuses) <= {201, 409}, statuses
        assert orphans(orph_db, event) == []
    assert (
        rows(orph_db, "SELECT count(*) AS n FROM seats WHERE event_id = %s AND status <> 'AVAILABLE'", event)[0]["n"]
        > 0
    )
    assert_consistent(orph_db)


async def test_best_available_avoids_orphans(oc: httpx.AsyncClient, orph_db: str) -> None:
    event = await create_event(oc, [{"name": "S", "rows": 1, "columns": 7, "category": "STD"}], noOrphans=True)
    ids = seat_ids(orph_db, event)
    # Free: A1 A2 A3 _ _ _ A7 with A4 booked: 2 seats must not leave A3 or A1 alone.
    assert (await oc.post("/api/v1/bookings", json={"seatId": ids["A4"], "userId": "x"})).status_code == 201
    r = await oc.post("/api/v1/holds", json={"eventId": event, "bestAvailable": {"quantity": 2}, "userId": "y"})
    assert r.status_code == 201, r.text
    assert sorted(r.json()["seatIds"]) in ([ids["A2"], ids["A3"]], [ids["A5"], ids["A6"]])
    assert orphans(orph_db, event) == []
