"""An event's life: a sales window enforced inside every claim, edits, cancellation in one transaction
(bookings voided, holds released, the feed told), and an admin body limit that fits real layouts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.helpers import assert_consistent, rows
from tests.realtime.client import StompClient, ws_url
from tests.shared import ADMIN_TOKEN, layout

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STRATEGIES = ("ATOMIC", "DB", "REDIS")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def create(co: httpx.AsyncClient, **overrides: Any) -> tuple[dict[str, Any], list[int]]:
    """A new event (22 seats) and its seat ids in map order."""
    r = await co.post("/api/v1/admin/events", json=layout(**overrides), headers=ADMIN)
    assert r.status_code == 201, r.text
    event = r.json()
    seats = (await co.get(f"/api/v1/events/{event['eventId']}/seats")).json()["seats"]
    return event, [s["seatId"] for s in seats]


async def refused_everywhere(co: httpx.AsyncClient, db: str, event_id: int, seat_ids: list[int], code: str) -> None:
    """Every way to take seats is refused with `code`: one seat under each strategy, several, a hold,
    best available; and nothing was written."""
    before = rows(db, "SELECT count(*) AS n FROM bookings")[0]["n"]
    for i, strategy in enumerate(STRATEGIES):
        r = await co.post("/api/v1/bookings", json={"seatId": seat_ids[i], "userId": "ann", "strategy": strategy})
        assert r.status_code == 409 and r.json()["error"] == code, (strategy, r.text)
        assert r.json()["eventId"] == event_id
    attempts = [
        ("/api/v1/bookings", {"seatIds": seat_ids[3:5], "userId": "ann"}),
        ("/api/v1/holds", {"seatIds": seat_ids[5:7], "userId": "ann"}),
        ("/api/v1/bookings", {"eventId": event_id, "bestAvailable": {"quantity": 2}, "userId": "ann"}),
        ("/api/v1/holds", {"eventId": event_id, "bestAvailable": {"quantity": 1}, "userId": "ann"}),
    ]
    for path, body in attempts:
        r = await co.post(path, json=body)
        assert r.status_code == 409 and r.json()["error"] == code, (path, body, r.text)
    assert rows(db, "SELECT count(*) AS n FROM bookings")[0]["n"] == before
    statuses = rows(db, "SELECT DISTINCT status FROM seats WHERE id = ANY(%s)", seat_ids)
    assert [r["status"] for r in statuses] == ["AVAILABLE"]


async def test_an_event_dated_in_the_past_sells_nothing(co: httpx.AsyncClient, checkout_db: str) -> None:
    db = checkout_db
    event, seat_ids = await create(co, startsAt="2020-06-01T20:00:00Z")
    await refused_everywhere(co, db, event["eventId"], seat_ids, "SALES_CLOSED")
    assert parse(event["salesEnd"]) == datetime(2020, 6, 1, 20, tzinfo=UTC) and event["status"] == "SCHEDULED"
    r = await co.post("/api/v1/bookings", json={"seatId": seat_ids[0], "userId": "ann"})
    assert parse(r.json()["salesEnd"]) == datetime(2020, 6, 1, 20, tzinfo=UTC)
    # The default event (no date) still sells.
    assert (await co.post("/api/v1/bookings", json={"seatId": 1, "userId": "ann"})).status_code == 201


async def test_sales_window_opens_and_closes_by_edit(co: httpx.AsyncClient, checkout_db: str) -> None:
    db = checkout_db
    now = datetime.now(UTC)
    event, seat_ids = await create(co, salesStart=iso(now + timedelta(hours=1)))
    event_id = event["eventId"]
    assert parse(event["salesStart"]) == now + timedelta(hours=1)
    await refused_everywhere(co, db, event_id, seat_ids, "SALES_NOT_OPEN")
    r = await co.post("/api/v1/bookings", json={"seatId": seat_ids[0], "userId": "ann"})
    assert parse(r.json()["salesStart"]) > now

    # Open the sale now: everything sells, under every strategy.
    opened = await co.patch(
        f"/api/v1/admin/events/{event_id}", json={"salesStart": iso(now - timedelta(minutes=1))}, headers=ADMIN
    )
    assert opened.status_code == 200, opened.text
    for i, strategy in enumerate(STRATEGIES):
        r = await co.post("/api/v1/bookings", json={"seatId": seat_ids[i], "userId": "ann", "strategy": strategy})
        assert r.status_code == 201, (strategy, r.text)
    assert (await co.post("/api/v1/holds", json={"seatIds": seat_ids[5:7], "userId": "bo"})).status_code == 201

    # Close it: the hold cannot be confirmed any more, nothing else sells.
    hold = (await co.post("/api/v1/holds", json={"seatIds": seat_ids[8:10], "userId": "cy"})).json()
    closed = await co.patch(
        f"/api/v1/admin/events/{event_id}",
        json={"salesStart": iso(now - timedelta(minutes=2)), "salesEnd": iso(now - timedelta(minutes=1))},
        headers=ADMIN,
    )
    assert closed.status_code == 200 and parse(closed.json()["salesEnd"]) < now, closed.text
    r = await co.post("/api/v1/bookings", json={"holdToken": hold["holdToken"], "userId": "cy"})
    assert r.status_code == 409 and r.json()["error"] == "SALES_CLOSED", r.text
    await refused_everywhere(co, db, event_id, seat_ids[10:], "SALES_CLOSED")
    # Back to the default window (until the event's date, in 2036): sells again.
    reopened = await co.patch(
        f"/api/v1/admin/events/{event_id}", json={"salesStart": None, "salesEnd": None}, headers=ADMIN
    )
    assert parse(reopened.json()["salesEnd"]) == datetime(2036, 12, 24, 20, tzinfo=UTC), reopened.text
    assert (await co.post("/api/v1/bookings", json={"seatId": seat_ids[20], "userId": "dee"})).status_code == 201
    assert_consistent(db)


async def test_edit_renames_reschedules_and_validates(co: httpx.AsyncClient) -> None:
    event, _ = await create(co)
    path = f"/api/v1/admin/events/{event['eventId']}"
    r = await co.patch(
        path, json={"name": "Jazz Night (moved)", "startsAt": "2037-01-10T19:00:00+01:00"}, headers=ADMIN
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["name"] == "Jazz Night (moved)" and parse(edited["startsAt"]) == datetime(2037, 1, 10, 18, tzinfo=UTC)
    assert parse(edited["salesEnd"]) == parse(edited["startsAt"])  # the default window follows the date
    assert (await co.get(f"/api/v1/events/{event['eventId']}")).json()["name"] == "Jazz Night (moved)"
    bad = [
        {"name": ""},
        {"name": None},
        {"startsAt": "2037-01-10T19:00:00"},  # no zone
        {"salesStart": "2037-01-01T00:00:00Z", "salesEnd": "2036-01-01T00:00:00Z"},
        {"salesStart": "2038-01-01T00:00:00Z"},  # after the event's date, the default end
        {"slug": "renamed"},
        {"name": "x" * 201},
    ]
    for body in bad:
        r = await co.patch(path, json=body, headers=ADMIN)
        assert r.status_code == 422 and r.json()["error"] == "VALIDATION_FAILED", (body, r.text)
    assert (await co.get(f"/api/v1/events/{event['eventId']}")).json() == edited
    assert (await co.patch("/api/v1/admin/events/999999", json={"name": "x"}, headers=ADMIN)).status_code == 404
    assert (await co.patch(path, json={"name": "x"})).status_code == 401


async def test_cancel_voids_bookings_releases_holds_and_tells_the_feed(co: httpx.AsyncClient, checkout_db: str) -> None:
    db = checkout_db
    event, seat_ids = await create(co)
    event_id = event["eventId"]
    booked = (await co.post("/api/v1/bookings", json={"seatIds": seat_ids[:2], "userId": "ann"})).json()
    single = (await co.post("/api/v1/bookings", json={"seatId": seat_ids[2], "userId": "bo"})).json()
    hold = (await co.post("/api/v1/holds", json={"seatIds": seat_ids[3:5], "userId": "cy"})).json()
    default = (await co.post("/api/v1/bookings", json={"seatId": 2, "userId": "ann"})).json()
    stomp = await StompClient.connect(ws_url(str(co.base_url)))
    try:
        await stomp.subscribe("s", f"/topic/events/{event_id}/seats")
        r = await co.post(f"/api/v1/admin/events/{event_id}/cancel", json={"reason": "Artist ill"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        done = r.json()
        assert (done["bookingsVoided"], done["holdsReleased"], done["seatsFreed"]) == (3, 1, 5)
        assert done["event"]["status"] == "CANCELLED" and done["event"]["cancelReason"] == "Artist ill"
        # The feed: each freed seat, AVAILABLE again (after the changes that took them, which may still
        # be on their way).
        taken = max(booked["sequence"], single["sequence"], hold["sequence"])
        messages: list[dict[str, Any]] = []
        while len(messages) < 5:
            messages += [m for m in await stomp.messages(1) if m["sequence"] > taken]
        assert sorted(m["seatId"] for m in messages) == seat_ids[:5]
        assert {m["status"] for m in messages} == {"AVAILABLE"}
        assert max(m["sequence"] for m in messages) == done["sequence"]
    finally:
        await stomp.close()
    # Buyers see their bookings cancelled, with the reason; the hold released.
    for b in [*booked["bookings"], single]:
        record = await co.get(f"/api/v1/bookings/{b['bookingId']}", headers={"Manage-Token": b["manageToken"]})
        assert record.status_code == 200, record.text
        assert record.json()["status"] == "CANCELLED" and record.json()["cancelReason"] == "EVENT_CANCELLED"
    assert (await co.get(f"/api/v1/holds/{hold['holdToken']}")).json()["state"] == "RELEASED"
    confirm = await co.post("/api/v1/bookings", json={"holdToken": hold["holdToken"], "userId": "cy"})
    assert confirm.status_code == 409 and confirm.json()["error"] == "HOLD_NOT_ACTIVE"
    # Nothing sells any more, the map shows the event cancelled.
    await refused_everywhere(co, db, event_id, seat_ids, "EVENT_CANCELLED")
    r = await co.post("/api/v1/bookings", json={"seatId": seat_ids[0], "userId": "ann"})
    assert r.json()["reason"] == "Artist ill" and r.json()["cancelledAt"] == done["event"]["cancelledAt"]
    seat_map = (await co.get(f"/api/v1/events/{event_id}/seats")).json()
    assert seat_map["event"]["status"] == "CANCELLED" and {s["status"] for s in seat_map["seats"]} == {"AVAILABLE"}
    again = await co.post(f"/api/v1/admin/events/{event_id}/cancel", json={"reason": "again"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["error"] == "EVENT_CANCELLED"
    edit = await co.patch(f"/api/v1/admin/events/{event_id}", json={"name": "Back on"}, headers=ADMIN)
    assert edit.status_code == 409 and edit.json()["error"] == "EVENT_CANCELLED"
    # Other events are untouched.
    assert rows(db, "SELECT status FROM bookings WHERE id = %s", default["bookingId"]) == [{"status": "CONFIRMED"}]
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": "ok", "refund": True}):
        r = await co.post(f"/api/v1/admin/events/{event_id}/cancel", json=body, headers=ADMIN)
        assert r.status_code == 422, (body, r.text)
    assert (await co.post("/api/v1/admin/events/999999/cancel", json={"reason": "x"}, headers=ADMIN)).status_code == 404
    assert (await co.post(f"/api/v1/admin/events/{event_id}/cancel", json={"reason": "x"})).status_code == 401
    assert_consistent(db)


async def test_cancel_racing_claims_leaves_nothing_sold(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Buyers booking and holding under every strategy while the event is cancelled: every claim
    committed before the cancel is voided, none commits after it."""
    db = checkout_db
    event, seat_ids = await create(co)
    event_id = event["eventId"]

    async def buyer(i: int) -> int:
        seat = seat_ids[i % len(seat_ids)]
        strategy = STRATEGIES[i % 3]
        if i % 4 == 3:
            r = await co.post("/api/v1/holds", json={"seatIds": [seat], "userId": f"u{i}"})
        else:
            r = await co.post("/api/v1/bookings", json={"seatId": seat, "userId": f"u{i}", "strategy": strategy})
        return r.status_code

    tasks = [asyncio.ensure_future(buyer(i)) for i in range(60)]
    await asyncio.sleep(0)
    cancel = await co.post(f"/api/v1/admin/events/{event_id}/cancel", json={"reason": "Storm"}, headers=ADMIN)
    assert cancel.status_code == 200, cancel.text
    statuses = await asyncio.gather(*tasks)
    assert set(statuses) <= {201, 409}, statuses
    late = await asyncio.gather(*(buyer(i) for i in range(60, 80)))
    assert set(late) == {409}
    assert rows(
        db,
        "SELECT count(*) AS n FROM bookings b JOIN seats s ON s.id = b.seat_id"
        " WHERE s.event_id = %s AND b.status = 'CONFIRMED'",
        event_id,
    ) == [{"n": 0}]
    assert rows(db, "SELECT DISTINCT status FROM seats WHERE event_id = %s", event_id) == [{"status": "AVAILABLE"}]
    assert rows(
        db,
        "SELECT count(*) AS n FROM holds WHERE state = 'ACTIVE' AND seat_ids && %s::int[]",
        seat_ids,
    ) == [{"n": 0}]
    assert_consistent(db)


def arena_layout() -> dict[str, Any]:
    """A realistic 50-section arena: blocks around a floor, premium front rows (5.6 KB of JSON)."""
    sections: list[dict[str, Any]] = [
        {
            "name": f"{'Lower' if i < 25 else 'Upper'} {100 * (1 + i // 25) + i % 25}",
            "rows": 20,
            "columns": 15,
            "category": "LOWER" if i < 25 else "UPPER",
            "rowCategories": {"A": "PREMIUM", "B": "PREMIUM"},
        }
        for i in range(1, 50)
    ]
    sections.append({"name": "Floor", "capacity": 2000, "category": "FLOOR"})
    categories = {
        "PREMIUM": {"priceCents": 12000},
        "LOWER": {"priceCents": 8000},
        "UPPER": {"priceCents": 4500},
        "FLOOR": {"priceCents": 6500},
    }
    return layout(name="Arena Tour", venue="Big Arena", categories=categories, sections=sections)


async def test_admin_api_takes_a_realistic_50_section_layout(co: httpx.AsyncClient) -> None:
    spec = arena_layout()
    body = httpx.Request("POST", "/", json=spec).content
    assert 4096 < len(body) < 8192, len(body)
    r = await co.post("/api/v1/admin/events", content=body, headers={**ADMIN, "content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["seatCount"] == 49 * 300
    # Public routes keep their limit.
    big = {"seatId": 1, "userId": "ann", "pad": "x" * 5000}
    r = await co.post("/api/v1/holds", json=big)
    assert r.status_code == 413 and r.json()["error"] == "PAYLOAD_TOO_LARGE"
    # The admin limit holds too, and a stranger's large body is refused before it is read.
    r = await co.post(
        "/api/v1/admin/events",
        content=b"{" + b" " * (1 << 20) + b"}",
        headers={**ADMIN, "content-type": "application/json"},
    )
    assert r.status_code == 413
    r = await co.post("/api/v1/admin/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401
