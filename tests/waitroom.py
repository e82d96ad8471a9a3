"""Helpers of the waiting-room suites: an event with a gated on-sale, sessions, joining and polling."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from tests.helpers import eventually, rows
from tests.shared import ADMIN_TOKEN, layout
from tests.support import LOAD_LIMITS_OFF, Setting

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WAITROOM: dict[str, Setting] = {
    **LOAD_LIMITS_OFF,
    "admin_token": ADMIN_TOKEN,
    "waitroom_tick_s": 0.2,
    "waitroom_joins_per_ip": 0,
    "db_acquire_timeout_s": 10,
    "hold_sweep_interval_s": 0,
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def new_event(client: httpx.AsyncClient) -> tuple[int, list[int]]:
    """A fresh event (22 seats): its id and seat ids."""
    r = await client.post("/api/v1/admin/events", json=layout(), headers=ADMIN)
    assert r.status_code == 201, r.text
    event_id: int = r.json()["eventId"]
    seats = (await client.get(f"/api/v1/events/{event_id}/seats")).json()["seats"]
    return event_id, [s["seatId"] for s in seats]


async def gate(client: httpx.AsyncClient, event_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enabled": True,
        "startsAt": iso(soon(-1)),
        "maxActive": 1000,
        "perMinute": 60_000,
        "adaptive": False,
        **overrides,
    }
    r = await client.put(f"/api/v1/admin/events/{event_id}/waiting-room", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def session(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/api/v1/sessions")
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def user_of(auth: dict[str, str]) -> str:
    """The user id a session's bearer header stands for (the token's `sub`)."""
    user: str = jwt.decode(auth["Authorization"][7:], options={"verify_signature": False})["sub"]
    return user


async def join(client: httpx.AsyncClient, event_id: int, auth: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/events/{event_id}/waiting-room/join", json=body or None, headers=auth)


async def me(client: httpx.AsyncClient, event_id: int, auth: dict[str, str]) -> dict[str, Any]:
    r = await client.get(f"/api/v1/events/{event_id}/waiting-room/me", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["retry-after"] == str(r.json()["pollAfterS"])
    answer: dict[str, Any] = r.json()
    return answer


async def admitted(client: httpx.AsyncClient, event_id: int, auth: dict[str, str]) -> str:
    """Poll (fast: tests, not visitors) until admitted; the admission token."""

    async def probe() -> str | None:
        status = await me(client, event_id, auth)
        token: str | None = status["admissionToken"] if status["state"] == "ADMITTED" else None
        return token

    return await eventually(probe, what="admission")


async def book(
    client: httpx.AsyncClient, seat_ids: list[int], auth: dict[str, str], token: str | None
) -> httpx.Response:
    headers = {**auth, **({"Admission-Token": token} if token else {})}
    return await client.post("/api/v1/bookings", json={"seatIds": seat_ids}, headers=headers)


def admission_key(database_url: str) -> bytes:
    """The servers' admission signing key (derived from the database's master secret, as tokens.py does)."""
    master = bytes(rows(database_url, "SELECT value FROM server_secrets WHERE name = 'session'")[0]["value"])
    return hmac.new(master, b"boxoffice/admission", hashlib.sha256).digest()
