"""Events and venues: the admin API and per-event seat maps; the default event unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import assert_consistent, rows
from tests.shared import ADMIN_TOKEN, layout

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_admin_creates_event_with_its_own_seat_map(co: httpx.AsyncClient, checkout_db: str) -> None:
    spec = layout()
    r = await co.post("/api/v1/admin/events", json=spec, headers=ADMIN)
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["seatCount"] == 22 and event["slug"] == spec["slug"]
    seats = await co.get(f"/api/v1/events/{event['eventId']}/seats")
    assert seats.status_code == 200
    body = seats.json()
    assert body["event"]["eventId"] == event["eventId"]
    assert body["layout"]["seatCount"] == 22
    assert [s["name"] for s in body["layout"]["sections"]] == ["Stalls", "Balcony"]
    by_number = {s["seatNumber"]: s for s in body["seats"]}
    assert by_number["Stalls-A1"]["category"] == "VIP" and by_number["Stalls-A1"]["priceCents"] == 9000
    assert by_number["Stalls-B4"]["category"] == "STD" and by_number["Balcony-B5"]["priceCents"] == 4500
    assert {s["eventId"] for s in body["seats"]} == {event["eventId"]}
    # The default event is what /api/v1/seats still serves.
    default = (await co.get("/api/v1/seats")).json()
    assert default["layout"]["seatCount"] == 200 and {s["eventId"] for s in default["seats"]} == {1}
    listed = (await co.get("/api/v1/events")).json()["events"]
    assert listed[0]["slug"] == "default" and spec["slug"] in [e["slug"] for e in listed]
    # Booking in the new event works like anywhere; the outbox row maps to the event through its seat.
    vip = by_number["Stalls-A1"]["seatId"]
    booked = await co.post("/api/v1/bookings", json={"seatIds": [vip, vip + 1], "userId": "ella"})
    assert booked.status_code == 201 and booked.json()["bookings"][0]["eventId"] == event["eventId"]
    relayed = rows(checkout_db, "SELECT s.event_id FROM seat_events e JOIN seats s ON s.id = e.seat_id")
    assert {r["event_id"] for r in relayed} == {event["eventId"]}
    dup = await co.post("/api/v1/admin/events", json=spec, headers=ADMIN)
    assert dup.status_code == 409 and dup.json()["error"] == "EVENT_EXISTS"
    assert_consistent(checkout_db)


BAD_LAYOUTS = [
    {"slug": "Bad Slug"},
    {"categories": {}},  # sections name categories that do not exist
    {"sections": []},
    {"sections": [{"name": "A", "rows": 1, "columns": 1}, {"name": "A", "rows": 1, "columns": 1}]},
    {"sections": [{"name": "A", "rows": 2, "columns": 2, "rowCategories": {"Z": "VIP"}}]},
    {"sections": [{"name": "A", "rows": 500, "columns": 500}]},  # over the seat limit
    {"sections": [{"name": "A", "rows": 0, "columns": 1}]},
    {"name": ""},
    {"unexpected": True},
    {"categories": {"VIP": {"priceCents": -1}}},
]


@pytest.mark.parametrize("overrides", BAD_LAYOUTS)
async def test_bad_layouts_create_nothing(co: httpx.AsyncClient, checkout_db: str, overrides: dict[str, Any]) -> None:
    before = rows(checkout_db, "SELECT count(*) AS n FROM seats")[0]["n"]
    r = await co.post("/api/v1/admin/events", json=layout(**overrides), headers=ADMIN)
    assert r.status_code == 422, r.text
    assert rows(checkout_db, "SELECT count(*) AS n FROM seats")[0]["n"] == before


async def test_admin_api_needs_the_admin_token(co: httpx.AsyncClient) -> None:
    assert (await co.post("/api/v1/admin/events", json=layout())).status_code == 401
    wrong = {"Authorization": "Bearer " + "n" * 32}
    assert (await co.post("/api/v1/admin/events", json=layout(), headers=wrong)).status_code == 401
    assert (await co.get("/api/v1/events/999999/seats")).status_code == 404
    assert (await co.get("/api/v1/events/0")).status_code == 422
    assert (await co.get(f"/api/v1/events/{2**31}/seats")).status_code == 422
