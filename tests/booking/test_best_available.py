"""Best available: the server picks an adjacent block near the focal point and claims it in the same
transaction; parallel requests never get overlapping seats."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.booking.inventory_support import INVENTORY, adjacent, create_event, orphans, positions, seat_ids
from tests.helpers import assert_consistent, rows
from tests.shared import client_for
from tests.support import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def inv_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_best")


@pytest.fixture(scope="module")
def inv_server(module_servers: ServerFactory, inv_db: str) -> ServerProcess:
    return module_servers(database_url=inv_db, settings=INVENTORY)


@pytest.fixture
async def ba(inv_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(inv_server) as c:
        yield c


def best(event_id: int, quantity: int, **extra: object) -> dict[str, object]:
    return {"eventId": event_id, "bestAvailable": {"quantity": quantity, **extra}}


async def test_best_block_is_adjacent_and_nearest_the_focus(ba: httpx.AsyncClient, inv_db: str) -> None:
    event = await create_event(ba, [{"name": "Stalls", "rows": 5, "columns": 10, "category": "STD"}])
    r = await ba.post("/api/v1/holds", json={**best(event, 4), "userId": "ann"})
    assert r.status_code == 201, r.text
    held = r.json()["seatIds"]
    assert positions(inv_db, held) == [("Stalls", 1, c) for c in (4, 5, 6, 7)]
    # The next best block: the rest of the front row would leave orphans (3 left, 3 right is fine) ...
    r = await ba.post("/api/v1/bookings", json={**best(event, 3), "userId": "bob"})
    assert r.status_code == 201, r.text
    assert adjacent(inv_db, r.json()["seatIds"])
    assert r.json()["bookings"][0]["userId"] == "bob"
    # A focal point elsewhere moves the best block.
    event2 = await create_event(
        ba, [{"name": "Circle", "rows": 4, "columns": 8, "focus": {"row": 3, "column": 1}, "category": "STD"}]
    )
    r = await ba.post("/api/v1/holds", json={**best(event2, 2), "userId": "cy"})
    assert positions(inv_db, r.json()["seatIds"]) == [("Circle", 3, 1), ("Circle", 3, 2)]
    assert_consistent(inv_db)


async def test_filters_and_refusals(ba: httpx.AsyncClient, inv_db: str) -> None:
    event = await create_event(
        ba,
        [
            {"name": "Stalls", "rows": 2, "columns": 6, "category": "STD", "rowCategories": {"B": "VIP"}},
            {"name": "Box", "rows": 1, "columns": 3, "category": "VIP"},
        ],
    )
    r = await ba.post("/api/v1/holds", json={**best(event, 3, category="VIP", section="Box"), "userId": "a"})
    assert r.status_code == 201 and positions(inv_db, r.json()["seatIds"]) == [("Box", 1, c) for c in (1, 2, 3)]
    r = await ba.post("/api/v1/holds", json={**best(event, 2, category="VIP"), "userId": "a"})
    assert r.status_code == 201 and {p[1] for p in positions(inv_db, r.json()["seatIds"])} == {2}
    r = await ba.post("/api/v1/holds", json={**best(event, 7), "userId": "a"})
    assert r.status_code == 409 and r.json()["error"] == "NO_BLOCK_AVAILABLE", r.text
    # Split across rows only when allowed.
    r = await ba.post("/api/v1/holds", json={**best(event, 7, category="STD", together=False), "userId": "a"})
    assert r.status_code == 409, r.text  # 6 STD seats left
    r = await ba.post("/api/v1/holds", json={**best(event, 6, together=False), "userId": "a"})
    assert r.status_code == 201, r.text
    bad: list[dict[str, Any]] = [
        {"eventId": event, "bestAvailable": {"quantity": 0}},
        {"eventId": event, "bestAvailable": {"quantity": 11}},
        {"eventId": event, "bestAvailable": {"quantity": 2, "accessible": 3}},
        {"bestAvailable": {"quantity": 2}},
        {"eventId": event},
        {"eventId": event, "bestAvailable": {"quantity": 2}, "seatIds": [1]},
        {"eventId": event, "bestAvailable": {"quantity": 2, "colour": "red"}},
    ]
    for body in bad:
        r = await ba.post("/api/v1/holds", json={**body, "userId": "a"})
        assert r.status_code == 422, (body, r.text)
    r = await ba.post("/api/v1/holds", json={**best(999999, 2), "userId": "a"})
    assert r.status_code == 404 and r.json()["error"] == "EVENT_NOT_FOUND"


async def test_accessible_seats_only_when_asked(ba: httpx.AsyncClient, inv_db: str) -> None:
    event = await create_event(
        ba,
        [{"name": "Stalls", "rows": 2, "columns": 6, "category": "STD", "accessible": ["A3"], "companion": ["A4"]}],
    )
    ids = seat_ids(inv_db, event)
    r = await ba.post("/api/v1/holds", json={**best(event, 2), "userId": "a"})
    assert r.status_code == 201 and all(
        p[1] == 1 and p[2] not in (3, 4) for p in positions(inv_db, r.json()["seatIds"])
    )
    r = await ba.post("/api/v1/holds", json={**best(event, 2, accessible=1), "userId": "w"})
    assert r.status_code == 201, r.text
    assert sorted(r.json()["seatIds"]) == sorted([ids["A3"], ids["A4"]])
    seat = next(s for s in r.json()["seats"] if s["seatId"] == ids["A3"])
    assert seat["accessibility"] == "WHEELCHAIR"
    # Hand-picking an accessible seat needs the flag.
    event2 = await create_event(ba, [{"name": "S", "rows": 1, "columns": 4, "accessible": ["A1"]}])
    a1 = seat_ids(inv_db, event2)["A1"]
    r = await ba.post("/api/v1/bookings", json={"seatId": a1, "userId": "x"})
    assert r.status_code == 409 and r.json()["error"] == "ACCESSIBLE_SEAT" and r.json()["seatIds"] == [a1], r.text
    r = await ba.post("/api/v1/bookings", json={"seatId": a1, "userId": "x", "accessible": True})
    assert r.status_code == 201, r.text
    assert_consistent(inv_db)


@pytest.mark.parametrize("no_orphans", [False, True])
async def test_parallel_requests_never_overlap(ba: httpx.AsyncClient, inv_db: str, no_orphans: bool) -> None:
    """60 buyers at once for 2-4 seats each (about 3/4 of a 240-seat map): every answer is its own
    adjacent block, nobody shares a seat, nobody is refused while blocks remain, and no orphan."""
    event = await create_event(
        ba, [{"name": "Stalls", "rows": 12, "columns": 20, "category": "STD"}], noOrphans=no_orphans
    )
    rng = random.Random(7)
    wants = [rng.randint(2, 4) for _ in range(60)]
    gate = asyncio.Event()

    async def buyer(i: int, quantity: int) -> httpx.Response:
        await gate.wait()
        path = "/api/v1/holds" if i % 2 else "/api/v1/bookings"
        return await ba.post(path, json={**best(event, quantity), "userId": f"b{i}"})

    tasks = [asyncio.create_task(buyer(i, q)) for i, q in enumerate(wants)]
    gate.set()
    answers = await asyncio.gather(*tasks)
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201][:3]
    seen: set[int] = set()
    for answer, quantity in zip(answers, wants, strict=True):
        got = answer.json()["seatIds"]
        assert len(got) == quantity and adjacent(inv_db, got)
        assert not seen & set(got)
        seen |= set(got)
    taken = rows(inv_db, "SELECT count(*) AS n FROM seats WHERE event_id = %s AND status <> 'AVAILABLE'", event)
    assert taken[0]["n"] == sum(wants) == len(seen)
    assert orphans(inv_db, event) == []
    assert_consistent(inv_db)
