"""A response of known length leaves in one `send()` (httpserver/protocol.py, `_OneWrite`); everything else
is written as uvicorn writes it. A fake transport records the writes, so no server is needed."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from boxoffice.httpserver.protocol import BoundedHttpProtocol
from tests.httpserver import protocol_cost


class Transport(protocol_cost.Transport):
    """The cost measurement's fake transport, keeping what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))


def request(method: str = "POST", body: bytes = b"{}") -> bytes:
    return f"{method} /x HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


async def serve(app: Any, *requests: bytes) -> Transport:
    config = Config(
        app, http=BoundedHttpProtocol, lifespan="off", log_config=None, access_log=False, proxy_headers=False
    )
    config.load()
    state = ServerState()
    protocol = BoundedHttpProtocol(config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop())
    transport = Transport()
    protocol.connection_made(transport)
    for data in requests:
        protocol.data_received(data)
        await asyncio.gather(*state.tasks)
    return transport


def sized(body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 409, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_a_response_of_known_length_is_one_write() -> None:
    transport = await serve(sized(b'{"status":409}'), request(), request())
    assert len(transport.writes) == 2  # one per response, head and body together
    for write in transport.writes:
        assert write.startswith(b"HTTP/1.1 409 ") and write.endswith(b'\r\n\r\n{"status":409}')


async def test_head_requests_empty_and_streamed_bodies_are_written_as_before() -> None:
    async def streamed(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    head = await serve(sized(b"abc"), request("HEAD", b""))
    assert head.writes[0].startswith(b"HTTP/1.1 409 ") and head.writes[0].endswith(b"\r\n\r\n")  # not held
    empty = await serve(sized(b""), request())
    assert len(empty.writes) == 2 and empty.writes[1] == b""
    chunked = await serve(streamed, request())
    assert b"transfer-encoding: chunked" in chunked.writes[0] and chunked.writes[0].endswith(b"\r\n\r\n")
    assert chunked.writes[1:] == [b"1\r\na\r\n", b"1\r\nb\r\n0\r\n\r\n"]


async def test_a_head_left_without_its_body_is_sent_before_the_close() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})

    transport = await serve(broken, request())
    assert transport.closing
    assert transport.writes and transport.writes[0].startswith(b"HTTP/1.1 200 ")


async def test_no_reference_cycle_per_request() -> None:
    gc.collect()
    gc.disable()
    try:
        await serve(sized(b"{}"), *[request() for _ in range(50)])
        assert gc.collect() < 50
    finally:
        gc.enable()
