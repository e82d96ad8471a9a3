"""`booking_conflict_total` counts every lost race, on every path a buyer takes, labelled by path;
refusals by a rule (a blocked seat) are no race and are not counted."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from tests.booking.inventory_support import INVENTORY, create_event, seat_ids
from tests.helpers import wait_for
from tests.observability import dashboard
from tests.observability.helpers import scrape, value
from tests.shared import client_for
from tests.support import ServerFactory, ServerProcess

PATHS = ("seat", "seats", "hold", "confirm", "best", "ga")


@pytest.fixture(scope="module")
def races_server(module_servers: ServerFactory) -> ServerProcess:
    return module_servers(log="races", settings={**INVENTORY, "hold_ttl_s": 2, "hold_max_s": 4})


@pytest.fixture
async def c(races_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(races_server) as client:
        yield client


def conflicts(server: ServerProcess) -> dict[str, float]:
    samples = scrape(server.base_url)
    return {path: value(samples, "booking_conflict_total", path=path) for path in PATHS}


async def test_every_lost_race_is_counted_by_path(c: httpx.AsyncClient, races_server: ServerProcess) -> None:
    event = await create_event(
        c,
        [{"name": "Stalls", "rows": 2, "columns": 4, "blocked": {"HOUSE": ["B4"]}}, {"name": "Lawn", "capacity": 2}],
    )
    ids = seat_ids_of(races_server, event)
    a1, a2, a3, a4, b1, b2, b3, b4 = (ids[f"Stalls-{r}{n}"] for r in "AB" for n in range(1, 5))
    before = conflicts(races_server)

    async def post(path: str, body: dict[str, object], status: int) -> httpx.Response:
        r = await c.post(path, json=body)
        assert r.status_code == status, (path, body, r.text)
        return r

    # seat: the original call.
    await post("/api/v1/bookings", {"seatId": a1, "userId": "u1"}, 201)
    await post("/api/v1/bookings", {"seatId": a1, "userId": "u2"}, 409)
    # seats: hand-picked, all or nothing.
    await post("/api/v1/bookings", {"seatIds": [a2, a3], "userId": "u1"}, 201)
    await post("/api/v1/bookings", {"seatIds": [a3, a4], "userId": "u2"}, 409)
    # hold: the UI's path, twice.
    await post("/api/v1/holds", {"seatIds": [a2], "userId": "u2"}, 409)
    await post("/api/v1/holds", {"seatIds": [a4, b1], "userId": "u2"}, 201)
    await post("/api/v1/holds", {"seatIds": [b1, b2], "userId": "u3"}, 409)
    # A rule's refusal (a blocked seat) is no lost race.
    await post("/api/v1/holds", {"seatIds": [b4], "userId": "u3"}, 409)
    # confirm: a hold that lapsed before its buyer confirmed.
    held = (await post("/api/v1/holds", {"seatIds": [b3], "userId": "u4"}, 201)).json()
    until = datetime.fromisoformat(held["expiresAt"]).timestamp()
    wait_for(lambda: time.time() > until + 0.2, what="the hold to lapse")
    await post("/api/v1/bookings", {"holdToken": held["holdToken"], "userId": "u4"}, 409)
    # best: nothing left that fits.
    await post("/api/v1/bookings", {"eventId": event, "bestAvailable": {"quantity": 4}, "userId": "u5"}, 409)
    # ga: two tickets, then none.
    lawn = {"quantity": 2, "section": "Lawn"}
    await post("/api/v1/bookings", {"eventId": event, "bestAvailable": lawn, "userId": "u5"}, 201)
    await post("/api/v1/bookings", {"eventId": event, "bestAvailable": lawn, "userId": "u6"}, 409)

    after = conflicts(races_server)
    counted = {path: after[path] - before[path] for path in PATHS}
    assert counted == {"seat": 1, "seats": 1, "hold": 2, "confirm": 1, "best": 1, "ga": 1}, counted


def seat_ids_of(server: ServerProcess, event: int) -> dict[str, int]:
    return seat_ids(server.env["DATABASE_URL"], event)


def test_dashboard_conflict_panel_shows_every_path() -> None:
    exprs = dashboard.expressions(dashboard.load())
    assert any("sum by (path) (rate(booking_conflict_total" in e for e in exprs), exprs
