"""The seed system's own client, played against a real server: the requests its UI
(`frontend/src/components/SeatMap.jsx` of the seed repository) sends from another origin, with the
seed-compatibility options on (docs/api.md#seed-compatible-clients).

It loads `GET /api/v1/seats` as a bare array and merges it into a 10x10 grid by `seatNumber`
(`A-1`...`J-10`), subscribes to `/topic/seats` over STOMP at `/ws` and merges each message by
`seatId`/`seatNumber`, books with `{"seatId", "userId", "strategy"}` (its strategies are `DATABASE`
and `REDIS`), and its "Chaos Mode" sends 20 bookings of one seat at once.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.realtime.client import StompClient, ws_url
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess

SEED_ORIGIN = "http://127.0.0.1:5173"
"""Where the seed UI's dev server (Vite) runs: another origin than the API's."""
STRANGER = "http://evil.example"
SEED_NUMBERS = {f"{row}-{column}" for row in "ABCDEFGHIJ" for column in range(1, 11)}


@pytest.fixture
def seed_server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(
        seed_rows=10,
        seed_cols=10,
        seed_compat=True,
        cors_origins=SEED_ORIGIN,
        ws_allowed_origins=SEED_ORIGIN,
        settings=LOAD_LIMITS_OFF,
    )


async def test_the_seed_client_works_unmodified(seed_server: ServerProcess) -> None:
    base = seed_server.base_url
    origin = {"Origin": SEED_ORIGIN}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        # The browser's preflight before the JSON POST; a page of another origin is refused.
        preflight = await http.options(
            "/api/v1/bookings",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == SEED_ORIGIN
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
        stranger = await http.options(
            "/api/v1/bookings", headers={"Origin": STRANGER, "Access-Control-Request-Method": "POST"}
        )
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers

        # The seat map: a bare array of state only, numbered as the seed's grid.
        seats = await http.get("/api/v1/seats", headers=origin)
        assert seats.status_code == 200
        assert seats.headers["access-control-allow-origin"] == SEED_ORIGIN
        array = seats.json()
        assert isinstance(array, list) and len(array) == 100
        assert {s["seatNumber"] for s in array} == SEED_NUMBERS
        assert all(set(s) == {"seatId", "seatNumber", "booked", "bookedAt"} for s in array)
        by_number = {s["seatNumber"]: s for s in array}
        assert by_number["A-1"]["seatId"] == 1 and by_number["J-10"]["seatId"] == 100
        # Box Office's own clients still get the full document by asking for it.
        assert set((await http.get("/api/v1/seats", params={"shape": "inventory"})).json()) >= {"layout", "seats"}

        stomp = await StompClient.connect(ws_url(base), origin=SEED_ORIGIN)
        try:
            await stomp.subscribe()
            # Its booking call, with the seed's name of the row-lock strategy.
            booked = await http.post(
                "/api/v1/bookings", json={"seatId": 1, "userId": "user-seed", "strategy": "DATABASE"}, headers=origin
            )
            assert booked.status_code == 201, booked.text
            assert booked.json()["strategy"] == "DB"
            assert booked.headers["access-control-allow-origin"] == SEED_ORIGIN
            (message,) = await stomp.messages(1)
            assert message["seatId"] == 1 and message["seatNumber"] == "A1" and message["booked"] is True
        finally:
            await stomp.close()

        # The next load shows it booked, and names nobody.
        after = (await http.get("/api/v1/seats", headers=origin)).json()
        seat = next(s for s in after if s["seatNumber"] == "A-1")
        assert seat["booked"] is True and seat["bookedAt"] is not None
        assert "user-seed" not in (await http.get("/api/v1/seats")).text

        # Chaos Mode: 20 bookings of one seat at once (the seed UI books with REDIS); one winner.
        chaos = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/bookings",
                    json={"seatId": 2, "userId": f"chaos-{i}", "strategy": "REDIS"},
                    headers=origin,
                )
                for i in range(20)
            )
        )
        statuses = sorted(r.status_code for r in chaos)
        assert statuses == [201] + [409] * 19, statuses
        assert all(r.headers.get("access-control-allow-origin") == SEED_ORIGIN for r in chaos)


async def test_the_array_shape_on_request_and_no_cors_by_default(server_factory: ServerFactory) -> None:
    """Without the options: the full document, `?shape=array` on request, no CORS headers, and a
    preflight is just a method the path does not answer."""
    server = server_factory(seed_rows=2, seed_cols=3)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        assert set((await http.get("/api/v1/seats")).json()) >= {"layout", "seats", "sequence"}
        array = (await http.get("/api/v1/seats", params={"shape": "array"})).json()
        assert [s["seatNumber"] for s in array] == ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"]
        bad = await http.get("/api/v1/seats", params={"shape": "list"})
        assert bad.status_code == 422 and "shape" in bad.json()["message"]
        preflight = await http.options(
            "/api/v1/bookings", headers={"Origin": SEED_ORIGIN, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 405
        assert preflight.headers["allow"] == "POST"
        assert "access-control-allow-origin" not in preflight.headers
