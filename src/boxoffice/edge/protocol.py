"""uvicorn's httptools protocol with the edge's bounds (uvicorn+httptools itself bounds none of them).

- Header section: at most `max_header_bytes` (request line and headers) and `max_headers` fields,
  else 431 and close. Bytes of an unfinished head are counted as they arrive, so a header that never
  ends costs at most the limit plus one read, not whatever the client sends.
- The head must arrive within `header_timeout_s` of the connection opening or of its first byte
  after a keep-alive pause (a silent or slow client is closed; 408 if it had sent something).
- The body must arrive within `body_timeout_s` of the head (408 and close).
- Idle keep-alive connections close after uvicorn's `timeout_keep_alive` (`keep_alive_s`).
- A worker keeps at most `max_connections` connections: one more is answered 503 and closed.
- While the worker drains (SIGTERM), every response carries `Connection: close`.

It also sends a response of known length in one `send()`: uvicorn writes the head and the body
with a system call each, and on loopback each one costs the sender the receiver's TCP work too.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import TimerHandle
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from boxoffice.edge.drain import DRAIN
from boxoffice.edge.limits import LINGER_SLOTS, edge_limits
from boxoffice.edge.shed import shed

LINGER_S = 1.0
"""A refused connection is read (and discarded) this long before closing, so that closing with the
client's request unread does not reset the connection before the 503 reached it."""


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


class _QuietInvalidRequests(logging.Filter):
    """uvicorn logs a WARNING for every unparsable request: anyone could flood the log. The edge
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


class EdgeProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = edge_limits()
        self._in_head = True
        self._head_bytes = 0
        self._exact_bytes = 0
        self._refused = False
        self._upgraded = False
        self._refusal: _Refused | None = None
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None

    # Connection lifetime

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        open_now = len(self.connections)
        if open_now > self.limits.max_connections:
            self._refuse("connections", OVERLOADED, f"{open_now} connections open")
            return
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        cycle = self.cycle
        if cycle is not None and isinstance(cycle.transport, _OneWrite):
            cycle.transport.forget()  # gone before its response started
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self._cancel_timers()
        super().handle_websocket_upgrade()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

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
        existing = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not existing:
            cycle.transport = _OneWrite(self.transport, cycle)  # type: ignore[assignment]
        if DRAIN.active and not (self.parser.should_upgrade() and self._should_upgrade()):
            self.cycle.keep_alive = False

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

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
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            shed("body_timeout", self.client, "body incomplete after the response started")
            self.transport.close()
            return
        # The app may still be waiting for the body: it sees a disconnect, and its answer is dropped.
        cycle.disconnected = True
        cycle.message_event.set()
        self._refuse("body_timeout", REQUEST_TIMEOUT, "body incomplete")

    def _refuse(self, reason: str, response: bytes, detail: str) -> None:
        """Answer, then close once the answer is out: input is read and discarded for LINGER_S
        (closing with unread input would reset the connection and could destroy the answer), unless
        so many connections are open that the descriptor must go at once."""
        self._refused = True
        self._cancel_timers()
        shed(reason, self.client, detail)
        transport = self.transport
        transport.write(response)
        if len(self.connections) <= self.limits.max_connections + LINGER_SLOTS and transport.can_write_eof():
            self.flow.resume_reading()
            transport.write_eof()
            self.loop.call_later(LINGER_S, transport.close)
        else:
            transport.close()
