"""Channels, blocked seats and layouts: channel seats need their key (or an admin), blocked seats never
sell and never show why, best available respects both, and bad layouts write nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.booking.inventory_support import ADMIN, INVENTORY, PRESALE_KEY, create_event, event_spec, seat_ids
from tests.helpers import assert_consistent, rows
from tests.shared import client_for
from tests.support import ServerFactory, ServerProcess

KEY = {"X-Channel-Key": PRESALE_KEY}


@pytest.fixture(scope="module")
def ch_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_channels")


@pytest.fixture(scope="module")
def ch_server(module_servers: ServerFactory, ch_db: str) -> ServerProcess:
    return module_servers(database_url=ch_db, settings=INVENTORY)


@pytest.fixture
async def cc(ch_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(ch_server) as c:
        yield c


SECTIONS: list[dict[str, Any]] = [
    {
        "name": "Stalls",
        "rows": 2,
        "columns": 6,
        "category": "STD",
        "blocked": {"PRESS": ["A3", "A4"]},
        "channels": {"presale": ["B1", "B2", "B3"]},
    }
]


async def test_channel_seats_need_the_key(cc: httpx.AsyncClient, ch_db: str) -> None:
    event = await create_event(cc, SECTIONS)
    ids = seat_ids(ch_db, event)
    r = await cc.post("/api/v1/bookings", json={"seatId": ids["B1"], "userId": "pub"})
    assert r.status_code == 403 and r.json()["error"] == "CHANNEL_KEY_REQUIRED" and r.json()["seatIds"] == [ids["B1"]]
    wrong = {"X-Channel-Key": "not-the-key-" + "x" * 10}
    r = await cc.post("/api/v1/holds", json={"seatIds": [ids["B1"], ids["B2"]], "userId": "pub"}, headers=wrong)
    assert r.status_code == 403
    r = await cc.post("/api/v1/holds", json={"seatIds": [ids["B1"]], "userId": "pub"}, headers={"X-Channel-Key": "x"})
    assert r.status_code == 422
    r = await cc.post("/api/v1/holds", json={"seatIds": [ids["B1"], ids["B2"]], "userId": "pre"}, headers=KEY)
    assert r.status_code == 201, r.text
    # Best available: with the key only the channel's seats, without it never them.
    r = await cc.post(
        "/api/v1/holds", json={"eventId": event, "bestAvailable": {"quantity": 1}, "userId": "pre"}, headers=KEY
    )
    assert r.status_code == 201 and r.json()["seatIds"] == [ids["B3"]]
    r = await cc.post(
        "/api/v1/holds", json={"eventId": event, "bestAvailable": {"quantity": 1}, "userId": "pre"}, headers=KEY
    )
    assert r.status_code == 409 and r.json()["error"] == "NO_BLOCK_AVAILABLE"
    public: set[int] = set()
    for _ in range(3):
        r = await cc.post("/api/v1/bookings", json={"eventId": event, "bestAvailable": {"quantity": 2}, "userId": "p"})
        assert r.status_code == 201, r.text
        public |= set(r.json()["seatIds"])
    r = await cc.post("/api/v1/bookings", json={"eventId": event, "bestAvailable": {"quantity": 1}, "userId": "p"})
    assert r.status_code == 201
    public |= set(r.json()["seatIds"])
    assert public == {ids[n] for n in ("A1", "A2", "A5", "A6", "B4", "B5", "B6")}
    r = await cc.post("/api/v1/bookings", json={"eventId": event, "bestAvailable": {"quantity": 1}, "userId": "p"})
    assert r.status_code == 409
    assert_consistent(ch_db)


async def test_blocked_seats_and_allocations(cc: httpx.AsyncClient, ch_db: str) -> None:
    event = await create_event(cc, SECTIONS)
    ids = seat_ids(ch_db, event)
    r = await cc.post("/api/v1/bookings", json={"seatIds": [ids["A3"], ids["A5"]], "userId": "x"})
    assert r.status_code == 409 and r.json()["error"] == "SEATS_BLOCKED" and r.json()["seatIds"] == [ids["A3"]]
    public = (await cc.get(f"/api/v1/events/{event}/seats")).json()
    a3 = next(s for s in public["seats"] if s["seatId"] == ids["A3"])
    assert a3["status"] == "BLOCKED" and a3["blocked"] is True and "PRESS" not in str(public)
    admin = await cc.get(f"/api/v1/admin/events/{event}/seats", headers=ADMIN)
    assert admin.status_code == 200
    assert next(s for s in admin.json()["seats"] if s["seatId"] == ids["A3"])["blockedReason"] == "PRESS"
    assert (await cc.get(f"/api/v1/admin/events/{event}/seats")).status_code == 401
    # Unblock A3, block A6 for production, move A5 to the channel: all at once, only free seats.
    path = f"/api/v1/admin/events/{event}/allocations"
    r = await cc.post(path, json={"seatIds": [ids["A3"]]}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["changed"] == 1, r.text
    r = await cc.post(path, json={"seatIds": [ids["A6"]], "blocked": "PRODUCTION"}, headers=ADMIN)
    assert r.status_code == 200
    r = await cc.post(path, json={"seatIds": [ids["A5"]], "channel": "presale"}, headers=ADMIN)
    assert r.status_code == 200
    r = await cc.post(path, json={"seatIds": [ids["A5"]], "channel": "nope"}, headers=ADMIN)
    assert r.status_code == 422
    r = await cc.post(path, json={"seatIds": [ids["A5"]], "blocked": "PRESS", "channel": "presale"}, headers=ADMIN)
    assert r.status_code == 422
    assert (await cc.post("/api/v1/bookings", json={"seatId": ids["A3"], "userId": "y"})).status_code == 201
    r = await cc.post(path, json={"seatIds": [ids["A3"], ids["A2"]], "blocked": "HOUSE"}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["seatIds"] == [ids["A3"]]
    assert rows(ch_db, "SELECT blocked FROM seats WHERE id = %s", ids["A2"])[0]["blocked"] is None
    assert (await cc.post("/api/v1/bookings", json={"seatId": ids["A6"], "userId": "y"})).status_code == 409
    r = await cc.post("/api/v1/bookings", json={"seatId": ids["A5"], "userId": "y"})
    assert r.status_code == 403
    assert (
        await cc.post("/api/v1/bookings", json={"seatId": ids["A5"], "userId": "y"}, headers=KEY)
    ).status_code == 201
    # GA pools move too.
    event2 = await create_event(cc, [{"name": "Lawn", "capacity": 10, "category": "GA"}])
    path2 = f"/api/v1/admin/events/{event2}/allocations"
    r = await cc.post(path2, json={"section": "Lawn", "count": 4, "blocked": "SPONSOR"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["changed"] == 4
    snap = (await cc.get(f"/api/v1/events/{event2}/seats")).json()
    assert snap["areas"][0]["available"] == 6
    r = await cc.post(path2, json={"section": "Lawn", "count": 2, "from": {"blocked": "SPONSOR"}}, headers=ADMIN)
    assert r.status_code == 200
    assert (await cc.get(f"/api/v1/events/{event2}/seats")).json()["areas"][0]["available"] == 8
    r = await cc.post(path2, json={"section": "Lawn", "count": 3, "from": {"blocked": "SPONSOR"}}, headers=ADMIN)
    assert r.status_code == 409
    r = await cc.post(path2, json={"section": "Nope", "count": 1}, headers=ADMIN)
    assert r.status_code == 422
    assert_consistent(ch_db)


async def test_channel_seats_under_a_race(cc: httpx.AsyncClient, ch_db: str) -> None:
    """Public and channel buyers race for the same seats: only key holders ever get channel seats."""
    event = await create_event(cc, SECTIONS)
    ids = seat_ids(ch_db, event)
    gate = asyncio.Event()

    async def buyer(i: int, seat: str) -> tuple[bool, int]:
        await gate.wait()
        keyed = i % 2 == 0
        r = await cc.post(
            "/api/v1/bookings", json={"seatId": ids[seat], "userId": f"r{i}"}, headers=KEY if keyed else {}
        )
        return keyed, r.status_code

    tasks = [asyncio.create_task(buyer(i, s)) for i in range(30) for s in ("B1", "B2", "B3")]
    gate.set()
    results = await asyncio.gather(*tasks)
    assert all(status == 403 for keyed, status in results if not keyed)
    assert sum(status == 201 for _, status in results) == 3
    owners = rows(ch_db, "SELECT booked_by FROM seats WHERE id = ANY(%s)", [ids[s] for s in ("B1", "B2", "B3")])
    assert all(int(o["booked_by"][1:]) % 2 == 0 for o in owners)
    assert_consistent(ch_db)


BAD: list[tuple[list[dict[str, Any]], dict[str, Any], str]] = [
    ([{"name": "S", "rows": 2, "columns": 2, "blocked": {"PRESS": ["Z9"]}}], {}, "seat Z9 is not in section S"),
    ([{"name": "S", "rows": 2, "columns": 2, "blocked": {"PRESS": ["A1"]}, "channels": {"presale": ["A1"]}}], {},
     "seat A1 is also in blocked.PRESS"),
    ([{"name": "S", "rows": 2, "columns": 2, "accessible": ["A1"], "companion": ["A1"]}], {}, "also in accessible"),
    ([{"name": "S", "rows": 2, "columns": 2, "channels": {"vip": ["A1"]}}], {}, "unknown channels ['vip']"),
    ([{"name": "S", "rows": 2, "columns": 2, "blocked": {"BOSS": ["A1"]}}], {}, "blocked.BOSS"),
    ([{"name": "L", "capacity": 5, "blocked": {"PRESS": 4}, "channels": {"presale": 2}}], {}, "exceed the capacity 5"),
    ([{"name": "L", "capacity": 5, "rows": 2, "columns": 2}], {}, "not both"),
    ([{"name": "L"}], {}, "needs rows and columns"),
    ([{"name": "L", "capacity": 5, "accessible": ["A1"]}], {}, "not allowed in a GA section"),
    ([{"name": "S", "rows": 2, "columns": 2, "blocked": {"PRESS": 3}}], {}, "takes a list of seats"),
    ([{"name": "S", "rows": 1, "columns": 1}], {"channels": {"presale": {"key": "short"}}}, "channels.presale.key"),
]  # fmt: skip


@pytest.mark.parametrize(("sections", "extra", "message"), BAD)
async def test_bad_layouts_are_refused_precisely(
    cc: httpx.AsyncClient, ch_db: str, sections: list[dict[str, Any]], extra: dict[str, Any], message: str
) -> None:
    before = rows(ch_db, "SELECT (SELECT count(*) FROM seats) AS s, (SELECT count(*) FROM events) AS e")
    r = await cc.post("/api/v1/admin/events", json=event_spec(sections, **extra), headers=ADMIN)
    assert r.status_code == 422 and message in r.json()["message"], r.text
    assert rows(ch_db, "SELECT (SELECT count(*) FROM seats) AS s, (SELECT count(*) FROM events) AS e") == before
