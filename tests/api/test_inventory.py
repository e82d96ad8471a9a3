from __future__ import annotations

import httpx


async def test_inventory_describes_layout(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/seats")
    assert resp.status_code == 200
    body = resp.json()
    layout = body["layout"]
    assert layout["rows"] == 20 and layout["columns"] == 25 and layout["seatCount"] == 500
    assert layout["sections"] == [
        {"name": "Main", "rows": [chr(65 + i) for i in range(20)], "columns": 25, "kind": "SEATED", "capacity": None}
    ]
    assert len(body["seats"]) == 500
    first = body["seats"][0]
    assert first == {
        "seatId": 1,
        "seatNumber": "A1",
        "section": "Main",
        "row": "A",
        "rowIndex": 1,
        "column": 1,
        "status": "AVAILABLE",
        "booked": False,
        "bookedAt": None,
        "version": first["version"],
        "eventId": 1,
        "held": False,
        "heldUntil": None,
        "category": None,
        "priceCents": None,
        "kind": "SEAT",
        "accessibility": None,
        "channel": None,
        "blocked": False,
    }
    assert isinstance(body["sequence"], int)
    assert body["areas"] == []


async def test_unknown_route_uses_error_shape(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/nope")
    assert resp.status_code == 404
    assert set(resp.json()) == {"timestamp", "status", "error", "message", "path"}
    assert resp.json()["path"] == "/api/v1/nope"


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    resp = await client.delete("/api/v1/seats")
    assert resp.status_code == 405
    assert resp.json()["error"] == "METHOD_NOT_ALLOWED"
