"""The bounded protocol's own path for `POST /api/v1/bookings` (httpserver/protocol.py, `LeanRoute`): what it
takes, what it leaves to the ASGI way, and that pipelining, drain, shutdown, disconnects and timeouts
behave as on the ASGI way. A fake transport records the writes, so no server is needed; the last
tests compare it byte for byte with the ASGI way on the real app, and pipeline over a real socket."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Scope
from uvicorn.config import Config
from uvicorn.server import ServerState

from boxoffice.api.app import BoxOffice, build_app
from boxoffice.api.lean import LeanBookingRoute
from boxoffice.httpserver.drain import DRAIN
from boxoffice.httpserver.protocol import BoundedHttpProtocol
from boxoffice.settings import Settings
from tests.api.test_bad_input import CASES
from tests.api.test_lean import no_services
from tests.helpers import until
from tests.httpserver import protocol_cost
from tests.httpserver.helpers import connect, read_all
from tests.support import ServerProcess

BOOK = b"/api/v1/bookings"
ANSWER = b'{"id":1}'


class Transport(protocol_cost.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.reading = True

    def write(self, data: Any) -> None:
        assert not self.closing, "written after close"
        self.writes.append(bytes(data))

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass


class Route:
    """A LeanRoute whose answers the test releases one by one (`gate`), recording what it was asked."""

    path = BOOK
    max_body_bytes = 4096
    management_port: int | None = None

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.records: list[int] = []
        self.gate: asyncio.Event | None = None
        self.is_ready = True

    def ready(self) -> bool:
        return self.is_ready

    async def answer(self, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert scope["path"] == "/api/v1/bookings" and scope["method"] == "POST"
        self.bodies.append(body)
        if self.gate is not None:
            await self.gate.wait()
        headers = [(b"content-length", b"%d" % len(ANSWER)), (b"content-type", b"application/json")]
        return 201, [*headers, (b"x-request-id", b"rid-%d" % len(self.bodies))], ANSWER

    def record(self, status: int, elapsed: float, scope: dict[str, Any]) -> None:
        self.records.append(status)


class App:
    """The ASGI way: answers 200 with the path it saw, after `gate` when set."""

    def __init__(self, route: Route) -> None:
        self.lean_booking = route
        self.seen: list[str] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(f"{scope['method']} {scope['path']}")
        while (await receive()).get("more_body"):
            pass
        if self.gate is not None:
            await self.gate.wait()
        body = scope["path"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})


def booking(body: bytes = b'{"seatId":1}', extra: bytes = b"", path: bytes = BOOK, version: bytes = b"1.1") -> bytes:
    head = b"POST %s HTTP/%s\r\nHost: t\r\nContent-Type: application/json\r\n" % (path, version)
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


GET = b"GET /other HTTP/1.1\r\nHost: t\r\n\r\n"


def connection(
    app: Any, state: ServerState | None = None, proxies: str | None = None
) -> tuple[BoundedHttpProtocol, Transport, ServerState]:
    config = Config(
        app,
        http=BoundedHttpProtocol,
        lifespan="off",
        log_config=None,
        access_log=False,
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
    )
    config.load()
    state = state or ServerState()
    protocol = BoundedHttpProtocol(config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop())
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport, state


async def settle(state: ServerState) -> None:
    while state.tasks:
        await asyncio.gather(*state.tasks)


@pytest.fixture
def drain_state() -> Iterator[None]:
    yield
    DRAIN.started_at = None


async def test_a_booking_is_answered_in_one_write_without_the_asgi_app() -> None:
    route = Route()
    app = App(route)
    protocol, transport, state = connection(app)
    protocol.data_received(booking() + booking(b'{"seatId":2}'))
    await settle(state)
    assert app.seen == [] and route.bodies == [b'{"seatId":1}', b'{"seatId":2}'] and route.records == [201, 201]
    assert transport.writes == [
        b"HTTP/1.1 201 Created\r\ncontent-length: 8\r\ncontent-type: application/json\r\n"
        b"x-request-id: rid-%d\r\n\r\n" % n + ANSWER
        for n in (1, 2)
    ]
    assert not transport.closing and state.total_requests == 2


async def test_a_body_in_pieces_is_collected() -> None:
    route = Route()
    protocol, transport, state = connection(App(route))
    data = booking(b'{"seatId": 12345}')
    for i in range(0, len(data), 7):
        protocol.data_received(data[i : i + 7])
    await settle(state)
    assert route.bodies == [b'{"seatId": 12345}'] and len(transport.writes) == 1


@pytest.mark.parametrize(
    "request_bytes",
    [
        booking(path=BOOK + b"?x=1"),
        booking(path=b"/api/v1/bookings/"),
        booking(version=b"1.0"),
        booking(extra=b"Expect: 100-continue\r\n"),
        booking(extra=b"Connection: Upgrade\r\nUpgrade: h2c\r\n"),
        booking(b"{" + b" " * 5000 + b"}"),
        b"POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        b"POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\n\r\n",
        b"HEAD /api/v1/bookings HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /api/v1/bookings HTTP/1.1\r\nHost: t\r\n\r\n",
        b"PUT /api/v1/bookings HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=[
        "query",
        "trailing-slash",
        "http10",
        "expect",
        "upgrade",
        "over-limit",
        "chunked",
        "no-length",
        "head",
        "get",
        "put",
    ],
)
async def test_anything_unusual_takes_the_asgi_way(request_bytes: bytes) -> None:
    route = Route()
    app = App(route)
    protocol, transport, state = connection(app)
    protocol.data_received(request_bytes)
    await settle(state)
    assert route.bodies == [] and len(app.seen) == 1
    assert b"".join(transport.writes).removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n").startswith(b"HTTP/1.1 200 ")


async def test_while_starting_and_on_the_management_port_the_asgi_way_answers() -> None:
    route = Route()
    route.is_ready = False
    app = App(route)
    protocol, _, state = connection(app)
    protocol.data_received(booking())
    await settle(state)
    route.is_ready = True
    route.management_port = 8080  # the fake transport's local port
    protocol, _, state = connection(app)
    protocol.data_received(booking())
    await settle(state)
    assert route.bodies == [] and app.seen == ["POST /api/v1/bookings"] * 2


@pytest.mark.parametrize(
    ("proxies", "client"), [("127.0.0.1", ("203.0.113.9", 0)), ("10.0.0.0/8", ("127.0.0.1", 5555))]
)
async def test_the_lean_route_sees_the_client_a_trusted_proxy_forwards(proxies: str, client: tuple[str, int]) -> None:
    """Behind trusted proxies uvicorn's proxy-header layer wraps the app: the lean route still answers,
    and sees the forwarded client (the rate limiter's address) only when the peer is a trusted proxy."""
    seen: list[Any] = []
    route = Route()
    answer = route.answer

    async def spy(scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        seen.append(scope["client"])
        return await answer(scope, body)

    route.answer = spy  # type: ignore[method-assign]
    app = App(route)
    protocol, transport, state = connection(app, proxies=proxies)
    protocol.data_received(booking(extra=b"X-Forwarded-For: 203.0.113.9\r\n"))
    await settle(state)
    assert app.seen == [] and seen == [client] and transport.writes[0].startswith(b"HTTP/1.1 201 ")


async def test_pipelined_requests_are_answered_in_order() -> None:
    """A lean booking held up, then a GET and another booking sent behind it on the same connection:
    nothing behind it starts before it is answered, reading pauses meanwhile, and the answers leave in
    request order; then a GET held up with a booking behind it."""
    route = Route()
    route.gate = asyncio.Event()
    app = App(route)
    protocol, transport, state = connection(app)
    protocol.data_received(booking() + GET + booking(b'{"seatId":3}'))
    await until(lambda: route.bodies, what="the first booking to be asked")
    assert app.seen == [] and transport.writes == [] and not transport.reading
    route.gate.set()
    await settle(state)
    firsts = [w.split(b"\r\n", 1)[0] for w in transport.writes]
    assert firsts == [b"HTTP/1.1 201 Created", b"HTTP/1.1 200 OK", b"HTTP/1.1 201 Created"]
    assert route.bodies == [b'{"seatId":1}', b'{"seatId":3}'] and transport.reading

    app.gate = asyncio.Event()
    transport.writes.clear()
    protocol.data_received(GET + booking(b'{"seatId":4}'))
    await until(lambda: len(app.seen) == 2, what="the GET to reach the app")
    await asyncio.sleep(0)
    assert len(route.bodies) == 2 and transport.writes == []
    app.gate.set()
    await settle(state)
    assert [w.split(b"\r\n", 1)[0] for w in transport.writes] == [b"HTTP/1.1 200 OK", b"HTTP/1.1 201 Created"]
    assert route.bodies[-1] == b'{"seatId":4}' and state.total_requests == 5


async def test_draining_and_shutdown_close_after_the_answer(drain_state: None) -> None:
    route = Route()
    protocol, transport, state = connection(App(route))
    DRAIN.begin()
    protocol.data_received(booking())
    await settle(state)
    assert transport.writes[0].endswith(b"connection: close\r\n\r\n" + ANSWER) and transport.closing
    DRAIN.started_at = None

    route.gate = asyncio.Event()
    protocol, transport, state = connection(App(route))
    protocol.data_received(booking())
    await until(lambda: len(route.bodies) == 2, what="the booking to be asked")
    protocol.shutdown()  # graceful shutdown with the answer pending: answered, then closed
    assert not transport.closing
    route.gate.set()
    await settle(state)
    assert b"connection: close\r\n" in transport.writes[0] and transport.closing


async def test_a_client_gone_before_its_answer_is_counted_and_nothing_is_written() -> None:
    route = Route()
    route.gate = asyncio.Event()
    protocol, transport, state = connection(App(route))
    protocol.data_received(booking())
    await until(lambda: route.bodies, what="the booking to be asked")
    protocol.connection_lost(None)
    route.gate.set()
    await settle(state)
    assert transport.writes == [] and route.records == [201]  # the decision stands, as on the ASGI way

    route = Route()
    protocol, transport, state = connection(App(route))
    protocol.data_received(booking(b'{"seatId": 1}')[:-3])
    protocol.connection_lost(None)
    await settle(state)
    assert route.bodies == [] and transport.writes == [] and route.records == [499]


async def test_a_body_that_never_completes_times_out() -> None:
    route = Route()
    protocol, transport, state = connection(App(route))
    protocol.limits = dataclasses.replace(protocol.limits, body_timeout_s=0.05)
    protocol.data_received(booking(b'{"seatId": 1}')[:-3])
    await until(lambda: transport.writes, what="the 408")
    assert transport.writes[0].startswith(b"HTTP/1.1 408 ") and route.bodies == [] and route.records == [499]
    protocol.connection_lost(None)
    await settle(state)
    assert route.records == [499]


# The real app: the same bytes as the ASGI way.

_DATE = re.compile(rb'"timestamp":"[^"]*"')


@pytest.mark.parametrize(("name", "body", "headers", "status", "error", "message"), CASES, ids=[c[0] for c in CASES])
async def test_error_answers_are_the_asgi_ways_bytes(
    name: str, body: bytes, headers: dict[str, str], status: int, error: str, message: str
) -> None:
    """Each bad input of the table, sent once the lean way (Content-Length) and once the ASGI way
    (chunked, which the lean path leaves alone): the same bytes, but for the body's timestamp."""
    if name == "missing userId":
        pytest.skip("open-mode identification needs the services")
    app = build_app(Settings(database_url="postgresql://unused"), lifespan=no_services, ready=lambda: True)
    app.state.api = None
    taken: list[bytes] = []
    assert isinstance(app, BoxOffice) and app.lean_booking is not None
    answer = app.lean_booking.answer

    async def spy(scope: Scope, data: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        taken.append(data)
        return await answer(scope, data)

    app.lean_booking.answer = spy  # type: ignore[method-assign,assignment]
    head = b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in headers.items())
    head = b"POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\nX-Request-ID: same-id\r\n" + head
    lean = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    chunked = head + b"Transfer-Encoding: chunked\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"")
    chunked += b"0\r\n\r\n"
    answers = []
    for data in (lean, chunked):
        protocol, transport, state = connection(app)
        protocol.data_received(data)
        await settle(state)
        answers.append(_DATE.sub(b"", b"".join(transport.writes)))
    if status == 413:
        assert taken == []  # over the limit by its declared length: the ASGI way answers it
    else:
        assert taken == [body]
    assert answers[0] == answers[1]
    assert answers[0].startswith(b"HTTP/1.1 %d " % status) and b'"error":"%s"' % error.encode() in answers[0]
    assert b"x-request-id: same-id\r\n" in answers[0]


async def test_the_start_up_gate_answers_while_starting() -> None:
    app = build_app(Settings(database_url="postgresql://unused"), lifespan=no_services, ready=lambda: False)
    protocol, transport, state = connection(app)
    protocol.data_received(booking(extra=b"X-Request-ID: early-1\r\n"))
    await settle(state)
    answer = b"".join(transport.writes)
    assert answer.startswith(b"HTTP/1.1 503 ") and b'"error":"STARTING"' in answer
    assert b"retry-after: 1\r\n" in answer and b"x-request-id: early-1\r\n" in answer


def test_pipelined_bookings_on_a_real_server(clean: ServerProcess) -> None:
    """Two bookings of one seat and a read, sent in one packet: three answers, in order."""
    sock = connect(clean)
    one = b'{"seatId": 41, "userId": "pipe-a"}'
    two = b'{"seatId": 41, "userId": "pipe-b"}'
    last = b"GET /api/v1/bookings/999999 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    sock.sendall(booking(one, b"X-Request-ID: pipe-1\r\n") + booking(two, b"X-Request-ID: pipe-2\r\n") + last)
    answers = read_all(sock)
    heads = [a.split(b"\r\n", 1)[0] for a in re.split(rb"(?=HTTP/1\.1 \d{3} )", answers) if a]
    assert heads == [b"HTTP/1.1 201 Created", b"HTTP/1.1 409 Conflict", b"HTTP/1.1 404 Not Found"], answers
    assert answers.index(b"x-request-id: pipe-1") < answers.index(b"x-request-id: pipe-2")


@pytest.mark.parametrize("proxies", [None, "127.0.0.1"])
async def test_the_served_app_is_answered_by_the_lean_path(proxies: str | None) -> None:
    """What `boxoffice serve` hands uvicorn (the app factory, with or without trusted proxies) gives the
    protocol its lean route; on the management port it gives none."""
    config = Config(
        "boxoffice.server:create_app",
        factory=True,
        http=BoundedHttpProtocol,
        lifespan="off",
        log_config=None,
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
    )
    config.load()
    protocol = BoundedHttpProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    protocol.connection_made(Transport())
    lean = protocol._lean
    assert lean is not None and lean.path == BOOK
    assert isinstance(lean, LeanBookingRoute)
    lean.management_port = 8080  # the fake transport's local port
    protocol = BoundedHttpProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    protocol.connection_made(Transport())
    assert protocol._lean is None
