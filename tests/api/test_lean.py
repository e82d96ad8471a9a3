"""The lean booking route keeps every contract of the FastAPI route it stands in for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.api.app import build_app
from boxoffice.server import create_app
from boxoffice.settings import Settings
from tests.api.test_bad_input import CASES
from tests.observability.helpers import scrape, value
from tests.support import ServerProcess

BOOK = "/api/v1/bookings"
JSON = {"content-type": "application/json"}


def asgi_client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")  # type: ignore[arg-type]


@asynccontextmanager
async def no_services(app: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def ready_app() -> FastAPI:
    """The app with its gate open but no services: good for everything refused before a claim."""
    app = build_app(Settings(database_url="postgresql://unused"), lifespan=no_services, ready=lambda: True)
    app.state.api = None
    return app


@pytest.mark.parametrize(("name", "body", "headers", "status", "error", "message"), CASES, ids=[c[0] for c in CASES])
async def test_lean_route_answers_bad_input_like_the_fastapi_route(
    ready_app: FastAPI, name: str, body: bytes, headers: dict[str, str], status: int, error: str, message: str
) -> None:
    """The same request through the edge (lean route) and straight into FastAPI (the documented
    route): the same status, error code and message."""
    if status == 413:
        pytest.skip("the body limit is the edge's, in front of both routes")
    # Validation runs before the route needs its services, so none are wired.
    if name == "missing userId":
        pytest.skip("open-mode identification needs the services")
    async with asgi_client(ready_app) as lean, asgi_client(partial(FastAPI.__call__, ready_app)) as fastapi:
        a = await lean.post(BOOK, content=body, headers=headers)
        b = await fastapi.post(BOOK, content=body, headers=headers)
    assert (a.status_code, a.json()["error"], a.json()["message"]) == (status, error, b.json()["message"])
    assert b.status_code == status and b.json()["error"] == error
    assert message in a.json()["message"]
    assert a.json()["path"] == b.json()["path"] == BOOK
    assert len(a.headers["x-request-id"]) == 32, "the lean route runs inside the request-id layer"


ROOM_CASES = [
    # (method, path, body, headers): refused before the waiting room needs its services.
    ("GET", "/api/v1/events/abc/waiting-room/me", b"", {}),
    ("GET", "/api/v1/events/0/waiting-room/me", b"", {}),
    ("GET", "/api/v1/events/2147483648/waiting-room/me", b"", {}),
    ("GET", "/api/v1/events/\u0661/waiting-room/me", b"", {}),
    ("POST", "/api/v1/events/5/waiting-room/me", b"", {}),
    ("GET", "/api/v1/events/5/waiting-room/join", b"", {}),
    ("GET", "/api/v1/events/5/waiting-room/leave", b"", {}),
    ("POST", "/api/v1/events/99999999999/waiting-room/leave", b"", {}),
    ("POST", "/api/v1/events/5/waiting-room/join", b"{}", {"content-type": "text/plain"}),
    ("POST", "/api/v1/events/5/waiting-room/join", b"{", JSON),
    ("POST", "/api/v1/events/5/waiting-room/join", b'{"challenge": 5}', JSON),
    ("POST", "/api/v1/events/5/waiting-room/join", b'{"surprise": 1}', JSON),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), ROOM_CASES)
async def test_lean_waiting_room_routes_answer_like_the_fastapi_routes(
    ready_app: FastAPI, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    """Joining and polling take the lean way too: bad ids, methods, media types and bodies get the
    FastAPI routes' answers."""
    async with asgi_client(ready_app) as lean, asgi_client(partial(FastAPI.__call__, ready_app)) as fastapi:
        a = await lean.request(method, path, content=body, headers=headers)
        b = await fastapi.request(method, path, content=body, headers=headers)
    assert a.status_code == b.status_code and a.status_code in (400, 401, 404, 405, 415, 422), a.text
    assert a.json().get("error") == b.json().get("error")
    assert a.json().get("message") == b.json().get("message")


async def test_lean_route_is_gated_until_the_worker_has_started() -> None:
    app = create_app(Settings(database_url="postgresql://unused"))
    async with asgi_client(app) as client:
        response = await client.post(BOOK, json={"seatId": 1, "userId": "u"}, headers={"X-Request-ID": "early-1"})
    assert response.status_code == 503 and response.json()["error"] == "STARTING"
    assert response.headers["retry-after"] == "1" and response.headers["x-request-id"] == "early-1"


def test_openapi_still_documents_the_booking_route() -> None:
    document = create_app(Settings(database_url="postgresql://unused")).openapi()
    post = document["paths"][BOOK]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"seatId", "seatIds", "holdToken", "userId", "strategy"} <= set(schema["properties"])
    assert {"201", "409", "413", "415", "422", "503"} <= set(post["responses"])


async def test_request_ids_and_route_metrics_on_every_outcome(client: httpx.AsyncClient, clean: ServerProcess) -> None:
    before = scrape(clean.base_url)
    cases: list[tuple[int, dict[str, object], dict[str, str]]] = [
        (201, {"json": {"seatId": 21, "userId": "a"}}, {}),
        (409, {"json": {"seatId": 21, "userId": "b"}}, {}),
        (422, {"json": {"seatId": 0, "userId": "b"}}, {}),
        (415, {"content": b"seatId=1"}, {"content-type": "text/plain"}),
        (413, {"content": b"{" + b" " * 5000 + b"}"}, JSON),
    ]
    for status, body, headers in cases:
        response = await client.post(BOOK, headers={**headers, "X-Request-ID": f"lean-{status}"}, **body)  # type: ignore[arg-type]
        assert response.status_code == status, response.text
        assert response.headers["x-request-id"] == f"lean-{status}"
    minted = await client.post(BOOK, json={"seatId": 22, "userId": "a"})
    assert len(minted.headers["x-request-id"]) == 32
    after = scrape(clean.base_url)
    for code in ("201", "409", "422", "415", "413"):
        counted = value(after, "http_requests_total", method="POST", route=BOOK, status=code)
        assert counted - value(before, "http_requests_total", method="POST", route=BOOK, status=code) == (
            2 if code == "201" else 1
        ), code


async def test_idempotency_keys_on_the_lean_route(client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "lean-key-1"}
    first = await client.post(BOOK, json={"seatId": 30, "userId": "ivy"}, headers=key)
    again = await client.post(BOOK, json={"seatId": 30, "userId": "ivy"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    reused = await client.post(BOOK, json={"seatId": 31, "userId": "ivy"}, headers=key)
    assert reused.status_code == 422 and reused.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    bad = await client.post(BOOK, json={"seatId": 31, "userId": "ivy"}, headers={"Idempotency-Key": "has space"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["message"]
