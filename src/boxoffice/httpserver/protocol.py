"""uvicorn's httptools protocol with the HTTP server's bounds (uvicorn+httptools itself bounds none of them).

- Header section: at most `max_header_bytes` (request line and headers) and `max_headers` fields,
  else 431 and close. Bytes of an unfinished head are counted as they arrive, so a header that never
  ends costs at most the limit plus one read, not whatever the client sends.
- The head must arrive within `header_timeout_s` of the connection opening or of its first byte
  after a keep-alive pause (a silent or slow client is closed; 408 if it had sent something).
- The body must arrive within `body_timeout_s` of the head (408 and close).
- Idle keep-alive connections close after uvicorn's `timeout_keep_alive` (`keep_alive_s`).
- A worker keeps at most `max_connections` connections, and at most `max_per_address` HTTP connections
  from one peer address (counted as they open and close; an upgraded WebSocket leaves the count for
  the WebSocket endpoint's own per-address cap): one more is answered 503 and closed.
- While the worker drains (SIGTERM), every response carries `Connection: close`. Once the drain is
  over (`drain.py`), every request is refused with 503 and `Connection: close`; a connection with no
  request being answered is closed `CLOSE_GRACE_S` later (a request on its way is refused, not reset).

It also sends a response of known length in one `send()`: uvicorn writes the head and the body
with a system call each, and on loopback each one costs the sender the receiver's TCP work too.

And it answers `POST /api/v1/bookings` itself (`LeanRoute`, the app's `lean_booking`): no
RequestResponseCycle, no ASGI scope of uvicorn's, no message event, no ASGI layers. When the head
completes it takes a plain request (HTTP/1.1, exactly that path, one `Content-Length` within the
body limit, no `Transfer-Encoding`, no `Expect`, no upgrade, the worker started, not the management
port, no `limit_concurrency`); anything else goes the ASGI way, so every
contract of that way keeps holding. The body is collected as the parser hands it over, then one task
calls the app's booking code and writes the whole answer (status line, headers, body) in one
`transport.write`. The exchange stands where uvicorn keeps its cycle (`self.cycle`), so pipelined
requests queue behind it and are answered in order, graceful shutdown and drain close after it, and
a client gone before the answer is noticed as uvicorn notices it (the answer is dropped, counted).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import logging
import time
from asyncio import TimerHandle
from collections.abc import Awaitable
from functools import cache
from typing import Any, Protocol

from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from boxoffice.httpserver.drain import DRAIN
from boxoffice.httpserver.limits import LINGER_SLOTS, http_limits
from boxoffice.httpserver.shed import shed

LINGER_S = 1.0
"""A refused connection is read (and discarded) this long before closing, so that closing with the
client's request unread does not reset the connection before the 503 reached it."""
CLOSE_GRACE_S = 1.0
"""After the drain, an idle connection stays open this long: a request already on its way (a client
that has just connected, or reuses a kept-alive connection) gets its 503 instead of a reset."""


def _response(status: int, reason: str, message: str) -> bytes:
    body = f'{{"status":{status},"error":"{reason}","message":"{message}"}}'.encode()
    head = (
        f"HTTP/1.1 {status} {reason.replace('_', ' ').title()}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n"
    )
    extra = "retry-after: 1\r\n" if status == 503 else ""
    return (head + extra + "\r\n").encode() + body


HEADERS_TOO_LARGE = _response(431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Request header section too large")
TOO_MANY_HEADERS = _response(431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "Too many request header fields")
REQUEST_TIMEOUT = _response(408, "REQUEST_TIMEOUT", "The request was not received in time")
OVERLOADED = _response(503, "SERVICE_UNAVAILABLE", "Too many connections; retry shortly")
ADDRESS_OVERLOADED = _response(503, "SERVICE_UNAVAILABLE", "Too many connections from this address; retry shortly")
CLOSING = _response(503, "SERVICE_UNAVAILABLE", "The server is shutting down; retry on a new connection")

_PER_ADDRESS: dict[str, int] = {}
"""Open HTTP connections per peer address in this worker (addresses with none are removed)."""


class _QuietInvalidRequests(logging.Filter):
    """uvicorn logs a WARNING for every unparsable request: anyone could flood the log. The server
    counts them (`bad_request`) and logs them at most once per interval instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != INVALID_REQUEST


INVALID_REQUEST = "Invalid HTTP request received."
logging.getLogger("uvicorn.error").addFilter(_QuietInvalidRequests())


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; `data_received` answers with `response`."""

    def __init__(self, reason: str, response: bytes, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.response = response


class _OneWrite:
    """A request's transport that holds the response head until the body's first write, then sends
    both at once, when the head declares a body (`Content-Length` above 0, not chunked, not HEAD):
    an answer of known length leaves in one `send()`, not two. Everything else passes through; the
    head is never held past the body, and a close sends it first.

    It refers to its cycle only until the head is written (`forget` otherwise): the cycle refers to
    it, and a reference cycle per request would leave garbage for the collector.
    """

    __slots__ = ("_cycle", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle: RequestResponseCycle | None = cycle
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
            return
        cycle = self._cycle
        if cycle is not None and cycle.response_started:
            # The head: uvicorn has read its Content-Length (or chosen chunked) before writing it.
            self._cycle = None
            sized = cycle.chunked_encoding is False and cycle.expected_content_length > 0
            if sized and cycle.scope["method"] != "HEAD":
                self._head = data
                return
        self._transport.write(data)

    def close(self) -> None:
        head, self._head, self._cycle = self._head, None, None
        if head is not None:
            self._transport.write(head)
        self._transport.close()

    def forget(self) -> None:
        self._cycle = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


Headers = list[tuple[bytes, bytes]]

CLIENT_CLOSED_REQUEST = 499
"""Recorded (never sent) for a lean request whose client left before its body was read, as the
observability layer records it on the ASGI path."""
_SERVER_ERROR = (
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)


class LeanRoute(Protocol):
    """A route the protocol answers itself (`api/lean.py`, `LeanBookingRoute`). Typed structurally: this
    module must not import the app (the supervisor process imports it and must not load the metrics)."""

    path: bytes
    max_body_bytes: int
    management_port: int | None

    def ready(self) -> bool: ...

    def answer(self, scope: dict[str, Any], body: bytes) -> Awaitable[tuple[int, Headers, bytes]]: ...

    def record(self, status: int, elapsed: float, scope: dict[str, Any]) -> None: ...


class _NoEvent:
    """uvicorn sets its cycle's message event when the connection is lost; a lean exchange waits on none."""

    __slots__ = ()

    def set(self) -> None:
        pass


_NO_EVENT = _NoEvent()


class _Exchange:
    """One lean request, standing where uvicorn keeps its RequestResponseCycle (`self.cycle`): uvicorn
    reads `response_complete` (queue a pipelined request behind it, or start it), `keep_alive`
    (graceful shutdown), `disconnected` and `message_event` (connection lost) from it."""

    __slots__ = (
        "body",
        "disconnected",
        "keep_alive",
        "more_body",
        "response_complete",
        "response_started",
        "scope",
        "since",
        "started",
        "turn",
    )

    message_event = _NO_EVENT

    def __init__(self, scope: dict[str, Any], keep_alive: bool, turn: bool) -> None:
        self.scope = scope
        self.keep_alive = keep_alive
        self.turn = turn
        """Its answer may be written: every earlier request on the connection is answered."""
        self.since = time.perf_counter()
        self.body = bytearray()
        self.more_body = True
        self.started = False
        self.response_started = False
        self.response_complete = False
        self.disconnected = False


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    return None


@cache
def _proxy_rewrite(proxy: ProxyHeadersMiddleware) -> ProxyHeadersMiddleware:
    """uvicorn's proxy-header layer (trusted proxies: `X-Forwarded-For`/`-Proto` rewrite the client and
    scheme) in front of nothing: the lean route runs it on its scope, so it sees the client the ASGI
    way would see, by uvicorn's own code."""
    rewrite = copy.copy(proxy)
    rewrite.app = _nothing
    return rewrite


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = http_limits()
        self._in_head = True
        self._head_bytes = 0
        self._exact_bytes = 0
        self._refused = False
        self._upgraded = False
        self._refusal: _Refused | None = None
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._idle_timer: TimerHandle | None = None
        self._address: str | None = None
        app = self.app
        self._rewrite: ProxyHeadersMiddleware | None = None
        if isinstance(app, ProxyHeadersMiddleware):
            self._rewrite = _proxy_rewrite(app)
            app = app.app
        lean: LeanRoute | None = getattr(app, "lean_booking", None)
        if self.root_path or self.limit_concurrency is not None:
            lean = None  # a prefixed path or uvicorn's concurrency 503: the ASGI way handles them
        self._lean = lean

    # Connection lifetime

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        lean = self._lean
        if lean is not None and self.server is not None and self.server[1] == lean.management_port:
            self._lean = None
        held = 0
        client = self.client
        if client is not None:  # None on a Unix socket
            # The peer: behind a proxy, the proxy (X-Forwarded-For is not read yet, and the proxy
            # holds the socket).
            self._address = address = client[0]
            held = _PER_ADDRESS.get(address, 0) + 1
            _PER_ADDRESS[address] = held
        open_now = len(self.connections)
        if open_now > self.limits.max_connections:
            self._refuse("connections", OVERLOADED, f"{open_now} connections open")
            return
        if 0 < self.limits.max_per_address < held:
            self._refuse("address_cap", ADDRESS_OVERLOADED, f"{held} connections from this address")
            return
        if DRAIN.closing:
            self._idle_timer = self.loop.call_later(CLOSE_GRACE_S, self._close_idle)
            return
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._release_address()
        self._cancel_timers()
        exchange: object = self.cycle
        cycle = self.cycle
        if type(exchange) is _Exchange:
            self._abandon(exchange)
        elif cycle is not None and isinstance(cycle.transport, _OneWrite):
            cycle.transport.forget()  # gone before its response started
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self._refused:
            return  # closes when its lingering ends: closing now could reset its answer
        cycle: object = self.cycle
        if type(cycle) is _Exchange and cycle.started and not cycle.response_complete:
            cycle.keep_alive = False
            return  # answered, then closed
        if DRAIN.closing and (self.cycle is None or self.cycle.response_complete):
            # Idle: a request may be on its way. It is refused (CLOSING), then the connection closes.
            if self._idle_timer is None:
                self._idle_timer = self.loop.call_later(CLOSE_GRACE_S, self._close_idle)
            return
        super().shutdown()

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self._cancel_timers()
        self._release_address()  # the transport leaves this protocol: connection_lost goes to the WebSocket's
        super().handle_websocket_upgrade()

    def _release_address(self) -> None:
        address = self._address
        if address is not None:
            self._address = None
            held = _PER_ADDRESS[address] - 1
            if held:
                _PER_ADDRESS[address] = held
            else:
                del _PER_ADDRESS[address]

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._idle_timer = None

    # Reading

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # a refused connection's input is discarded until it closes
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._refused or self._upgraded:
            return
        # Timers only for what is left unfinished: a request that arrives whole arms none.
        if self._in_head:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse("header_too_large", HEADERS_TOO_LARGE, f"{self._head_bytes} bytes and unfinished")
            elif self._head_bytes and self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timeout)
        elif self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timeout)

    def send_400_response(self, msg: str) -> None:
        refusal = self._refusal
        if refusal is not None:
            self._refuse(refusal.reason, refusal.response, str(refusal))
        else:
            self._refused = True
            self._cancel_timers()
            shed("bad_request", self.client, msg)
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        self._exact_bytes = 0
        self._refusal = None
        super().on_message_begin()

    # uvicorn's own on_url/on_header, inlined with the counting: they run for every header of every request.

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._exact_bytes += len(url)
        if self._exact_bytes > self.limits.max_header_bytes:
            self._too_large()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._exact_bytes += len(name) + len(value) + 4
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        headers = self.headers
        headers.append((name, value))
        if self._exact_bytes > self.limits.max_header_bytes:
            self._too_large()
        if len(headers) > self.limits.max_headers:
            self._stop(_Refused("too_many_headers", TOO_MANY_HEADERS, f"more than {self.limits.max_headers} fields"))

    def _too_large(self) -> None:
        self._stop(_Refused("header_too_large", HEADERS_TOO_LARGE, f"over {self.limits.max_header_bytes} bytes"))

    def _stop(self, refusal: _Refused) -> None:
        """Abort parsing: httptools turns the exception into HttpParserCallbackError, which uvicorn
        answers through `send_400_response` (overridden above)."""
        self._refusal = refusal
        raise refusal

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if DRAIN.closing and (self.cycle is None or self.cycle.response_complete):
            # (One pipelined behind an answer still being written waits in uvicorn's pipeline: that
            # answer carries `Connection: close`, which tells the client it was not processed.)
            self._stop(_Refused("closing", CLOSING, "request after the drain"))
        lean = self._lean
        if lean is not None and self.url == lean.path and self._lean_exchange(lean):
            return
        existing = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not existing:
            cycle.transport = _OneWrite(self.transport, cycle)  # type: ignore[assignment]
        if DRAIN.active and not (self.parser.should_upgrade() and self._should_upgrade()):
            self.cycle.keep_alive = False

    def on_body(self, body: bytes) -> None:
        cycle: object = self.cycle
        if type(cycle) is _Exchange:
            cycle.body += body
            return  # at most the declared length, within the body limit
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._in_head = True
        self._head_bytes = 0
        cycle: object = self.cycle
        if type(cycle) is _Exchange:
            cycle.more_body = False
            if cycle.turn:
                self._start(cycle)
            return
        super().on_message_complete()

    # The lean route

    def _lean_exchange(self, lean: LeanRoute) -> bool:
        """Take a plain `POST` of the lean route; False leaves the request to the ASGI way."""
        parser = self.parser
        if parser.get_method() != b"POST" or parser.get_http_version() != "1.1" or parser.should_upgrade():
            return False
        length: bytes | None = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return False
                length = value
            elif name == b"transfer-encoding" or name == b"expect":
                return False
        if length is None or not length.isdigit() or int(length) > lean.max_body_bytes or not lean.ready():
            return False
        scope = self.scope  # uvicorn's, begun in on_message_begin: only the request line's part is left
        scope["method"] = "POST"
        scope["path"] = lean.path.decode("ascii")
        scope["raw_path"] = lean.path
        scope["query_string"] = b""
        existing = self.cycle
        turn = existing is None or existing.response_complete
        exchange = _Exchange(scope, parser.should_keep_alive() and not DRAIN.active, turn)  # type: ignore[arg-type]
        self.cycle = exchange  # type: ignore[assignment]
        if not turn:
            # Pipelined behind a request still being answered: its turn comes in order (uvicorn pops
            # its pipeline into `_start_asgi_task`), and reading waits, as uvicorn's does.
            self.flow.pause_reading()
            self.pipeline.appendleft((exchange, self.app))  # type: ignore[arg-type]
        return True

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        exchange: object = cycle
        if type(exchange) is _Exchange:
            exchange.turn = True
            if not exchange.more_body:
                self._start(exchange)
            return  # the rest of its body starts it (reading resumed with its turn)
        super()._start_asgi_task(cycle, app)

    def _start(self, exchange: _Exchange) -> None:
        exchange.started = True
        coro = self._answer(exchange)
        if self.config.reset_contextvars:
            task = self.loop.create_task(coro, context=contextvars.Context())
        else:
            task = self.loop.create_task(coro)
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    async def _answer(self, exchange: _Exchange) -> None:
        lean = self._lean
        assert lean is not None
        try:
            if self._rewrite is not None:
                await self._rewrite(exchange.scope, _nothing, _nothing)  # type: ignore[arg-type]
            status, headers, body = await lean.answer(exchange.scope, bytes(exchange.body))
        except Exception:
            # The route answers every failure it expects; this is a bug. uvicorn's answer to it.
            self.logger.exception("Exception in the lean route")
            lean.record(500, time.perf_counter() - exchange.since, exchange.scope)
            exchange.keep_alive = False
            self._write(exchange, STATUS_LINE[500] + _SERVER_ERROR)
            return
        if self.flow.write_paused and not exchange.disconnected:
            await self.flow.drain()  # a client that reads nothing gets nothing more
        keep_alive = exchange.keep_alive and not DRAIN.active
        parts = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            parts += (name, b": ", value, b"\r\n")
        for name, value in headers:
            # The route's own headers (lower-case names, no client text but the checked request id):
            # uvicorn's per-header validation is not needed here.
            parts += (name, b": ", value, b"\r\n")
        if not keep_alive:
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", body)
        exchange.keep_alive = keep_alive
        self._write(exchange, b"".join(parts))
        lean.record(status, time.perf_counter() - exchange.since, exchange.scope)

    def _write(self, exchange: _Exchange, data: bytes) -> None:
        """Write an exchange's whole answer, then go on as uvicorn does after a response."""
        exchange.response_started = True
        exchange.response_complete = True
        transport = self.transport
        if exchange.disconnected or self._refused or transport.is_closing():
            return  # gone before its answer: nothing to write (uvicorn's `send` drops it too)
        transport.write(data)
        if not exchange.keep_alive:
            transport.close()
        self.on_response_complete()

    def _abandon(self, exchange: _Exchange) -> None:
        """The connection ended (lost, or its body timed out) before the exchange was answered."""
        if exchange.response_complete or exchange.disconnected:
            return  # answered, or already abandoned (a body timeout, then the close)
        exchange.disconnected = True
        lean = self._lean
        if exchange.turn and not exchange.started and lean is not None:
            # Its body never came: the ASGI way's app saw a disconnect while reading it (499).
            lean.record(CLIENT_CLOSED_REQUEST, time.perf_counter() - exchange.since, exchange.scope)

    # Refusals

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes:
            self._refuse("header_timeout", REQUEST_TIMEOUT, f"{self._head_bytes} bytes of head received")
        else:
            shed("header_timeout", self.client, "no request sent")
            self.transport.close()

    def _body_timeout(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        exchange: object = self.cycle
        if type(exchange) is _Exchange:
            self._abandon(exchange)
            self._refuse("body_timeout", REQUEST_TIMEOUT, "body incomplete")
            return
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            shed("body_timeout", self.client, "body incomplete after the response started")
            self.transport.close()
            return
        # The app may still be waiting for the body: it sees a disconnect, and its answer is dropped.
        cycle.disconnected = True
        cycle.message_event.set()
        self._refuse("body_timeout", REQUEST_TIMEOUT, "body incomplete")

    def _close_idle(self) -> None:
        """The grace after the drain is over: close, unless a request is being answered (it closes
        after its answer); part of a head means a request was coming, which is refused."""
        self._idle_timer = None
        if self._refused or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return
        if self._head_bytes:
            self._refuse("closing", CLOSING, f"{self._head_bytes} bytes of head when closing")
        else:
            self._close_gently()

    def _refuse(self, reason: str, response: bytes, detail: str) -> None:
        """Answer, then close once the answer is out (`_close_gently`)."""
        shed(reason, self.client, detail)
        self.transport.write(response)
        self._close_gently()

    def _close_gently(self) -> None:
        """Close without a reset: half-close, then read and discard input for LINGER_S (closing with
        unread input would reset the connection and could destroy an answer written before), unless
        so many connections are open that the descriptor must go at once."""
        self._refused = True
        self._cancel_timers()
        transport = self.transport
        if len(self.connections) <= self.limits.max_connections + LINGER_SLOTS and transport.can_write_eof():
            self.flow.resume_reading()
            transport.write_eof()
            self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()
