"""Clear answers against a real server: a pattern mismatch says what the field must look like, a
refused token says why in plain words, best available tells a typo from a sold-out event, counts
read as English, and an allocation beyond the free pool says how many there are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.booking.inventory_support import ADMIN, INVENTORY, create_event, event_spec, seat_ids
from tests.helpers import rows
from tests.shared import ADMIN_TOKEN, client_for
from tests.support import ServerFactory, ServerProcess


@pytest.fixture(scope="module")
def answers_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_answers")


@pytest.fixture(scope="module")
def answers_server(module_servers: ServerFactory, answers_db: str) -> ServerProcess:
    return module_servers(database_url=answers_db, log="answers", settings=INVENTORY)


@pytest.fixture
async def c(answers_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(answers_server) as client:
        yield client


SEATED = [
    {"name": "Stalls", "rows": 2, "columns": 3, "category": "STD", "rowCategories": {"A": "VIP"}},
    {"name": "Lawn", "capacity": 5, "category": "GA"},
]


async def test_pattern_mismatches_say_the_expected_form(c: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            event_spec(SEATED, slug="Bad Slug"),
            "slug: Must be 1-63 lowercase letters, digits and hyphens, starting with a letter or digit",
        ),
        (
            event_spec([{"name": "Main", "rows": 2, "columns": 2, "accessible": ["j1"]}]),
            'sections.0.accessible.0: Must be a seat like "A1" or "AB12"',
        ),
        (
            event_spec(SEATED, channels={"press": {"key": "a key with spaces in it"}}),
            "channels.press.key: Must be printable ASCII without spaces",
        ),
        (event_spec(SEATED, name="Gala\u0007"), "name: Must not contain control characters"),
    ]
    for spec, message in cases:
        r = await c.post("/api/v1/admin/events", json=spec, headers=ADMIN)
        assert r.status_code == 422 and r.json()["message"].startswith(message), (spec, r.text)


async def test_refused_tokens_say_why(c: httpx.AsyncClient) -> None:
    body = {"seatId": 1}
    r = await c.post("/api/v1/bookings", json=body, headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401, r.text
    assert r.json()["message"] == "Invalid bearer token: not a signed JWT (three base64url parts separated by dots)"
    r = await c.post("/api/v1/bookings", json=body, headers=ADMIN)
    assert r.status_code == 401 and "/api/v1/admin only" in r.json()["message"], r.text
    assert ADMIN_TOKEN not in r.text


def best(event_id: int, quantity: int, **filters: object) -> dict[str, Any]:
    return {"eventId": event_id, "bestAvailable": {"quantity": quantity, **filters}, "userId": "picker"}


async def test_best_available_tells_a_typo_from_sold_out(c: httpx.AsyncClient, answers_db: str) -> None:
    event = await create_event(c, SEATED)
    for path in ("/api/v1/bookings", "/api/v1/holds"):
        for filters, message in (
            ({"section": "Balcony"}, "bestAvailable.section: The event has no section named 'Balcony'"),
            ({"category": "PLATINUM"}, "bestAvailable.category: The event has no category named 'PLATINUM'"),
            ({"section": "Stalls", "category": "VPI"}, "bestAvailable.category: The event has no category named"),
        ):
            r = await c.post(path, json=best(event, 2, **filters))
            assert r.status_code == 422 and r.json()["error"] == "VALIDATION_FAILED", (filters, r.text)
            assert r.json()["message"] == message or r.json()["message"].startswith(message), r.text
    assert rows(answers_db, "SELECT id FROM bookings") == []
    # Names the event has: sold out is still 409, and the count reads as English.
    taken = await c.post("/api/v1/bookings", json=best(event, 3, category="VIP"))
    assert taken.status_code == 201, taken.text
    r = await c.post("/api/v1/bookings", json=best(event, 1, category="VIP", section="Stalls"))
    assert r.status_code == 409 and r.json()["error"] == "NO_BLOCK_AVAILABLE", r.text
    assert r.json()["message"] == "No seat in VIP Stalls is available now"
    r = await c.post("/api/v1/bookings", json=best(event, 4, section="Stalls"))
    assert r.json()["message"] == "No block of 4 seats in Stalls is available now", r.text
    assert (await c.post("/api/v1/bookings", json=best(event, 4, section="Lawn"))).status_code == 201
    r = await c.post("/api/v1/bookings", json=best(event, 2, section="Lawn"))
    assert r.status_code == 409 and r.json()["message"] == "Only 1 ticket of Lawn available now; asked for 2", r.text


async def test_one_seat_reads_singular(c: httpx.AsyncClient, answers_db: str) -> None:
    event = await create_event(c, SEATED)
    ids = seat_ids(answers_db, event)
    first, second = ids["Stalls-B1"], ids["Stalls-B2"]
    assert (await c.post("/api/v1/bookings", json={"seatIds": [first], "userId": "a"})).status_code == 201
    r = await c.post("/api/v1/bookings", json={"seatIds": [first, second], "userId": "b"})
    assert r.status_code == 409 and r.json()["message"] == f"Seat {first} is already booked or held", r.text
    r = await c.post("/api/v1/holds", json={"seatIds": [first, second], "userId": "b"})
    assert r.json()["message"] == f"Seat {first} is already booked or held", r.text


async def test_allocation_beyond_the_free_pool_says_the_counts(c: httpx.AsyncClient, answers_db: str) -> None:
    event = await create_event(c, SEATED)
    path = f"/api/v1/admin/events/{event}/allocations"
    r = await c.post(path, json={"section": "Lawn", "count": 8, "blocked": "HOUSE"}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"] == "NOT_ENOUGH_FREE_SEATS", r.text
    assert r.json()["requested"] == 8 and r.json()["available"] == 5
    assert r.json()["message"] == "Only 5 free tickets in that pool of Lawn; asked for 8. Nothing was changed"
    blocked = "SELECT count(*) AS n FROM seats WHERE event_id = %s AND blocked IS NOT NULL"
    assert rows(answers_db, blocked, event) == [{"n": 0}]
    ok = await c.post(path, json={"section": "Lawn", "count": 5, "blocked": "HOUSE"}, headers=ADMIN)
    assert ok.status_code == 200, ok.text
    r = await c.post(path, json={"section": "Lawn", "count": 1, "from": {"blocked": "PRESS"}}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["available"] == 0, r.text
    assert r.json()["message"].startswith("Only 0 free tickets in that pool of Lawn"), r.text
