"""Pure-ASGI layers: request ids, HTTP metrics, the optional access log and the start-up gate; the body limit.

Pure ASGI (not BaseHTTPMiddleware) keeps the per-request cost to a few microseconds; it sits
outermost so 413s and other early refusals are counted and carry the request id too.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable

from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.api import errors
from boxoffice.observability import metrics
from boxoffice.observability.logs import request_id

log = logging.getLogger("boxoffice.access")

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
# The method is client-controlled text: anything unusual collapses into one label value.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"
CLIENT_CLOSED_REQUEST = 499
"""Recorded (never sent) when the client hangs up before its request was read (nginx's code)."""
# Until this worker has migrated and seeded, the API and WebSockets answer "starting";
# health, metrics and the static UI (which retries its API calls) are served regardless.
GATED_PREFIX = "/api"


def route_template(routes: list[BaseRoute], scope: Scope, status: int) -> str:
    """`/api/v1/seats/{seat_id}` rather than the raw path, so label values stay bounded."""
    route = scope.get("route")
    if route is None:
        route = next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    if not path:
        # The UI's static files are mounted at the root and catch every other path: their 404s
        # are unknown paths like any other.
        return UNMATCHED if status == 404 else "/"
    return path


class ObservabilityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], list[BaseRoute]],
        ready: Callable[[], bool],
        access_log: bool,
    ) -> None:
        self.app = app
        self._routes = routes
        self._ready = ready
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        try:
            if scope["type"] == "websocket":
                if not self._ready():
                    await send({"type": "websocket.close", "code": 1013, "reason": "starting"})
                    return
                await self.app(scope, receive, send)
                return
            await self._http(scope, receive, send, rid)
        finally:
            request_id.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        start = time.perf_counter()
        status = 500
        header = (HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            if not self._ready() and scope["path"].startswith(GATED_PREFIX):
                await _starting(scope, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # Gone while sending its body: nobody to answer, and not a server error (a client must not
            # be able to drive the 5xx rate or the error log by hanging up).
            status = CLIENT_CLOSED_REQUEST
        finally:
            elapsed = time.perf_counter() - start
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.record(method, route_template(self._routes(), scope, status), status, elapsed, scope)

    def ready(self) -> bool:
        return self._ready()

    def record(self, method: str, route: str, status: int, elapsed: float, scope: Scope) -> None:
        """Count one answered (or abandoned) request: the ASGI path above and the bounded protocol's own
        booking path (httpserver/protocol.py) record through here, so both give the same series."""
        requests, latency = metrics.http_children(method, route, str(status))
        requests.inc()
        latency.observe(elapsed)
        if self._access_log:
            client = scope.get("client")
            log.info(
                "http_request method=%s route=%s path=%s status=%s duration_ms=%.2f client=%s",
                method,
                route,
                scope["path"],
                status,
                elapsed * 1000,
                client[0] if client else "-",
            )
        elif log.isEnabledFor(logging.DEBUG):
            log.debug(
                "http_request method=%s route=%s status=%s duration_ms=%.2f", method, route, status, elapsed * 1000
            )


def _incoming_id(scope: Scope) -> str:
    return incoming_id(scope["headers"])


def incoming_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """Reuse a well-formed X-Request-ID from the caller (tracing across hops), else mint one."""
    name: bytes
    value: bytes
    for name, value in headers:
        if name == HEADER:
            if _VALID_ID.match(value):
                return value.decode()
            break
    return _mint()


# 32 hex characters like a UUID, unique without a random draw per request: a random prefix per
# process and a counter (uuid4 costs a system call and object construction on every request).
_PREFIX = uuid.uuid4().hex[:16]
_COUNTER = itertools.count()


def _mint() -> str:
    return f"{_PREFIX}{next(_COUNTER):016x}"


def _reseed() -> None:
    """A forked worker must not repeat its parent's ids."""
    global _PREFIX, _COUNTER
    _PREFIX, _COUNTER = uuid.uuid4().hex[:16], itertools.count()


os.register_at_fork(after_in_child=_reseed)


async def _starting(scope: Scope, send: Send) -> None:
    """503 in the API's error shape until this worker has migrated and seeded."""
    message = "The service is starting (database migrations or connection pending); retry shortly"
    body = errors.error_body(scope["path"], errors.STARTING, message)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", b"1"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


ADMIN_PREFIX = "/api/v1/admin/"
"""The operator's routes (behind the admin token): their bodies are event layouts, larger than a buyer's."""


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes` (`admin_max_bytes` under `ADMIN_PREFIX`), by declared
    Content-Length or by counting chunked input.

    The error is raised when the endpoint reads the body, so the app's error handler answers it. An
    admin route checks the admin token before it reads the body, so a stranger's large body is
    refused (401) unread.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, admin_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.admin_max_bytes = max_bytes if admin_max_bytes is None else admin_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.admin_max_bytes if scope["path"].startswith(ADMIN_PREFIX) else self.max_bytes
        declared: bytes | None = None
        framed = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if declared is None:
                    declared = value
            elif name == b"transfer-encoding":
                framed = True
        if declared is not None and not framed and declared.isdigit() and int(declared) <= limit:
            # The parser hands the app at most the declared length: nothing to count (the usual case).
            await self.app(scope, receive, send)
            return
        declared_too_large = declared is not None and (not declared.isdigit() or int(declared) > limit)
        received = 0
        too_large = f"Request body exceeds {limit} bytes"

        async def limited_receive() -> Message:
            nonlocal received
            if declared_too_large:
                raise errors.ApiError(errors.PAYLOAD_TOO_LARGE, too_large)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise errors.ApiError(errors.PAYLOAD_TOO_LARGE, too_large)
            return message

        await self.app(scope, limited_receive, send)
