"""The lean routes (api/lean.py) are the one way in for their paths, keep every contract of the routes
their schema-only declarations document, and answer alike through the server's two doors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx
import orjson
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import Match

from boxoffice.api import errors, lean
from boxoffice.api.app import ROUTERS, build_app
from boxoffice.api.frontend import mount_frontend
from boxoffice.api.lean import ROOM_JOIN, ROOM_LEAVE, ROOM_POLL, declared_routes
from boxoffice.server import create_app
from boxoffice.settings import Settings
from tests.api.test_bad_input import CASES
from tests.httpserver.helpers import connect, read_all
from tests.observability.helpers import scrape, value
from tests.shared import without_secrets
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
async def test_lean_route_answers_bad_input(
    ready_app: FastAPI, name: str, body: bytes, headers: dict[str, str], status: int, error: str, message: str
) -> None:
    """The table of bad input (tests/api/test_bad_input.py), through the app's ASGI stack in process."""
    # Validation runs before the route needs its services, so none are wired.
    if name == "missing userId":
        pytest.skip("open-mode identification needs the services")
    async with asgi_client(ready_app) as lean:
        a = await lean.post(BOOK, content=body, headers=headers)
    assert (a.status_code, a.json()["error"]) == (status, error)
    assert message in a.json()["message"]
    assert a.json()["path"] == BOOK
    assert len(a.headers["x-request-id"]) == 32, "the lean route runs inside the request-id layer"


@pytest.fixture(scope="module")
def fastapi_routing_the_declarations() -> FastAPI:
    """FastAPI routing every router of the app, the lean routes' schema-only declarations included, as if
    they were served: what FastAPI's own routing answers for the lean paths. A declaration's endpoint
    raises, so a request FastAPI would hand to it is answered 500."""
    app = FastAPI()
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_frontend(app)
    return app


_IDS = ("5", "abc", "0", "-1", "+5", "05", "5.0", "%205", "5_0", "2147483647", "2147483648", "1e3", "\u0661", "")
LEAN_PATHS = [
    BOOK,
    f"{BOOK}/",
    f"{BOOK}//?x=1",
    *(f"/api/v1/events/{i}/waiting-room/{tail}" for tail in ("join", "me", "leave") for i in _IDS),
    *(f"/api/v1/events/{i}/waiting-room/{tail}/?q=2" for tail in ("join", "me", "leave") for i in ("7", "x")),
]
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
ROUTING_REFUSALS = (307, 404, 405)


@pytest.mark.parametrize("path", LEAN_PATHS)
async def test_lean_paths_are_answered_as_fastapi_would_route_their_declarations(
    ready_app: FastAPI, fastapi_routing_the_declarations: FastAPI, path: str
) -> None:
    """Every method on every lean path, bad event ids and trailing slashes included: the lean routes
    refuse what FastAPI's routing of the declarations refuses (405, 307, 422 for the id, 404), with the
    same answer, and take what it would take."""
    transport = httpx.ASGITransport(app=fastapi_routing_the_declarations, raise_app_exceptions=False)
    async with asgi_client(ready_app) as lean, httpx.AsyncClient(transport=transport, base_url="http://t") as fastapi:
        for method in METHODS:
            a = await lean.request(method, path)
            b = await fastapi.request(method, path)
            if b.status_code == 500:  # FastAPI would have called the declaration: the lean route answers
                assert a.status_code not in ROUTING_REFUSALS, (method, path, a.text)
                assert not a.text or "path.event_id" not in a.json()["message"], (method, path, a.text)
                continue
            assert a.status_code == b.status_code, (method, path, a.text, b.text)
            assert a.headers.get("location") == b.headers.get("location"), (method, path)
            assert _without_timestamp(a) == _without_timestamp(b), (method, path)


def _without_timestamp(response: httpx.Response) -> object:
    if not response.content:
        return None
    body = response.json()
    body.pop("timestamp", None)
    return body


async def test_fastapi_itself_routes_nothing_to_the_lean_paths(ready_app: FastAPI) -> None:
    """The served router has no handler for a lean route's method and path: FastAPI alone answers 404,
    and no route of the router matches them."""
    declared = declared_routes()
    assert set(declared) == {BOOK, ROOM_JOIN, ROOM_POLL, ROOM_LEAVE}
    async with asgi_client(partial(FastAPI.__call__, ready_app)) as fastapi:
        for template, route in declared.items():
            path = template.replace("{event_id}", "5")
            for method in route.methods or ():
                answer = await fastapi.request(method, path, json={})
                assert (answer.status_code, answer.json()["error"]) == (404, "NOT_FOUND"), (method, path)
                scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
                assert all(r.matches(scope)[0] is Match.NONE for r in ready_app.router.routes), (method, path)


def test_a_declaration_without_its_lean_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A route added to a schema-only router would be documented and answered by nobody: the app refuses
    to build."""
    extra = APIRouter(prefix="/api/v1")

    @extra.post("/bookings/batch")
    def batch() -> None:
        """Documented, answered by nobody."""

    monkeypatch.setattr(lean, "SCHEMA_ONLY", (*lean.SCHEMA_ONLY, extra))
    with pytest.raises(RuntimeError, match="/api/v1/bookings/batch"):
        build_app(Settings(database_url="postgresql://unused"), lifespan=no_services, ready=lambda: True)


async def test_lean_route_is_gated_until_the_worker_has_started() -> None:
    app = create_app(Settings(database_url="postgresql://unused"))
    async with asgi_client(app) as client:
        response = await client.post(BOOK, json={"seatId": 1, "userId": "u"}, headers={"X-Request-ID": "early-1"})
    assert response.status_code == 503 and response.json()["error"] == "STARTING"
    assert response.headers["retry-after"] == "1" and response.headers["x-request-id"] == "early-1"


def test_openapi_still_documents_the_lean_routes() -> None:
    """Served by api/lean.py, documented by their schema-only declarations: request bodies, answers,
    the event id parameter and the error answers."""
    document = create_app(Settings(database_url="postgresql://unused")).openapi()
    post = document["paths"][BOOK]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"seatId", "seatIds", "holdToken", "userId", "strategy"} <= set(schema["properties"])
    assert {"201", "409", "413", "415", "422", "503"} <= set(post["responses"])
    answers = post["responses"]["201"]["content"]["application/json"]["schema"]["anyOf"]
    assert {a["$ref"] for a in answers} == {"#/components/schemas/BookingOut", "#/components/schemas/BookingsOut"}
    assert post["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    visitor = {"$ref": "#/components/schemas/VisitorOut"}
    for template, method, ok, refusals in (
        (ROOM_JOIN, "post", ("200", "201"), {"400", "401", "404", "415", "422", "429", "503"}),
        (ROOM_POLL, "get", ("200",), {"401", "404", "422", "503"}),
        (ROOM_LEAVE, "post", ("200",), {"401", "404", "422", "503"}),
    ):
        operation = document["paths"][template][method]
        assert [
            (p["name"], p["in"], p["schema"]["minimum"], p["schema"]["maximum"]) for p in operation["parameters"]
        ] == [("event_id", "path", 1, 2**31 - 1)]
        for status in ok:
            assert operation["responses"][status]["content"]["application/json"]["schema"] == visitor
        assert refusals <= set(operation["responses"])
    join = document["paths"][ROOM_JOIN]["post"]["requestBody"]
    assert not join["required"] and "challenge" in join["content"]["application/json"]["schema"]["properties"]


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
    assert again.json() == without_secrets(first.json()) and again.headers["idempotent-replayed"] == "true"
    reused = await client.post(BOOK, json={"seatId": 31, "userId": "ivy"}, headers=key)
    assert reused.status_code == 422 and reused.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    bad = await client.post(BOOK, json={"seatId": 31, "userId": "ivy"}, headers={"Idempotency-Key": "has space"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["message"]


def _both_doors(server: ServerProcess, body: bytes, extra: bytes = b"") -> list[bytes]:
    """The same booking through the real server's two doors: the bounded protocol's own path (a plain
    Content-Length request) and the ASGI stack (chunked, which the protocol leaves to it)."""
    head = b"POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
    answers = []
    for framing in (
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
    ):
        sock = connect(server)
        sock.sendall(head + extra + framing)
        answers.append(_UNSTABLE.sub(b"", read_all(sock)))
        sock.close()
    return answers


_UNSTABLE = re.compile(rb'date: [^\r]*\r\n|"timestamp":"[^"]*"')


async def test_the_real_server_answers_alike_through_both_doors(
    client: httpx.AsyncClient, clean: ServerProcess
) -> None:
    """A conflict, a validation failure and an idempotent replay, each sent both ways to `boxoffice serve`:
    the same bytes (but the date), counted under the same route template."""
    before = scrape(clean.base_url)
    assert (await client.post(BOOK, json={"seatId": 60, "userId": "door-a"})).status_code == 201
    conflict = _both_doors(clean, b'{"seatId": 60, "userId": "door-b"}', b"X-Request-ID: door-1\r\n")
    assert conflict[0].startswith(b"HTTP/1.1 409 ") and b'"error":"SEAT_OCCUPIED"' in conflict[0]
    assert conflict[0] == conflict[1]
    invalid = _both_doors(clean, b'{"seatId": 0, "userId": "door-b"}', b"X-Request-ID: door-2\r\n")
    assert invalid[0].startswith(b"HTTP/1.1 422 ") and invalid[0] == invalid[1]
    key = b"X-Request-ID: door-3\r\nIdempotency-Key: door-key-1\r\n"
    first, replay = _both_doors(clean, b'{"seatId": 61, "userId": "door-a"}', key)
    assert first.startswith(b"HTTP/1.1 201 ") and replay.startswith(b"HTTP/1.1 201 ")
    # The replay to a bare name: the first answer without its manage token.
    first_body, replay_body = (orjson.loads(answer.split(b"\r\n\r\n", 1)[1]) for answer in (first, replay))
    assert replay_body == without_secrets(first_body) and first_body["manageToken"]
    assert b"idempotent-replayed: true\r\n" in replay
    after = scrape(clean.base_url)
    for status, count in (("201", 3), ("409", 2), ("422", 2)):
        counted = value(after, "http_requests_total", method="POST", route=BOOK, status=status)
        assert counted - value(before, "http_requests_total", method="POST", route=BOOK, status=status) == count
