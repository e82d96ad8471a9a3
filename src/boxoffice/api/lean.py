"""The lean routes: the one implementation of `POST /api/v1/bookings` and of the waiting room's
join, poll and leave, without per-request framework work.

A FastAPI route costs about 0.3 ms of CPU per request before the endpoint runs (routing over
every route, dependency solving, exception middleware); a booking costs less than that. This
pure-ASGI layer owns these paths: every request for them (any method) is answered here, and
FastAPI never sees it. Their FastAPI declarations (`schema_only` in api/bookings.py and
api/waitroom.py) only document them in OpenAPI: the app never routes to them (api/app.py). What
FastAPI's routing would answer for these paths is answered here the same way: 405 for another
method, 307 to the path without its trailing slash, 422 for an event id that is not an integer in
range (validated with the declaration's own type). The layer sits inside the observability and
body-limit layers, so request ids, metrics by route template, the start-up gate and the body limit
apply unchanged.

The booking route has a second door in the HTTP server itself: `LeanBookingRoute` lets the bounded
protocol (httpserver/protocol.py) answer a plain `POST /api/v1/bookings` without uvicorn's request
cycle and the ASGI layers, through `LeanRoutes.booking_answer`, the same code as here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import URL, Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.api import bookings, errors, waitroom
from boxoffice.api.cors import Cors
from boxoffice.api.deps import Api
from boxoffice.api.http import checked_body
from boxoffice.api.middleware import HEADER as REQUEST_ID
from boxoffice.api.middleware import ObservabilityMiddleware, incoming_id
from boxoffice.api.schemas import BookingRequest
from boxoffice.observability.logs import request_id

log = logging.getLogger(__name__)

SCHEMA_ONLY = (bookings.schema_only, waitroom.schema_only)
"""The declarations of the routes answered here: in the OpenAPI document, never in the router."""
BOOKINGS = "/api/v1/bookings"
EVENTS = "/api/v1/events/"
ROOM_JOIN = "/api/v1/events/{event_id}/waiting-room/join"
ROOM_POLL = "/api/v1/events/{event_id}/waiting-room/me"
ROOM_LEAVE = "/api/v1/events/{event_id}/waiting-room/leave"
_ROOM_TAILS = {"waiting-room/join": ROOM_JOIN, "waiting-room/me": ROOM_POLL, "waiting-room/leave": ROOM_LEAVE}
_EVENT_ID: TypeAdapter[int] = TypeAdapter(waitroom.EventIdPath)
"""The declarations' own path parameter type: the same ids accepted, the same 422 for the others."""

Handler = Callable[[Scope, Receive, Send, str | None], Awaitable[Response]]


def declared_routes() -> dict[str, APIRoute]:
    """Path template -> its schema-only declaration (methods, and the template metrics label it with)."""
    return {route.path: route for router in SCHEMA_ONLY for route in router.routes if isinstance(route, APIRoute)}


class LeanRoutes:
    def __init__(self, app: ASGIApp, *, app_object: object, api: Callable[[], Api]) -> None:
        self.app = app
        self._app_object = app_object
        self._api = api
        self._routes = declared_routes()
        self._handlers: dict[str, Handler] = {
            BOOKINGS: self._book,
            ROOM_JOIN: self._join,
            ROOM_POLL: self._poll,
            ROOM_LEAVE: self._leave,
        }
        if self._routes.keys() != self._handlers.keys():
            # A declaration without its answer here would be documented and answered by nobody.
            raise RuntimeError(f"lean routes {sorted(self._handlers)} != declared {sorted(self._routes)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = _route_path(scope)
            found = _match(path)
            if found is not None:
                await self._answer(scope, receive, send, *found)
                return
            if path.endswith("/") and path != "/" and _match(path.rstrip("/")) is not None:
                # FastAPI's router would redirect (no other route matches a lean path plus slashes).
                redirect = dict(scope)
                redirect["path"] = scope["path"].rstrip("/")
                await RedirectResponse(url=str(URL(scope=redirect)))(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _book(self, scope: Scope, receive: Receive, send: Send, ident: str | None) -> Response:
        return await self._booking(scope, await _body(receive), Request(scope, receive, send))

    async def _booking(self, scope: Scope, body: bytes, request: Request) -> Response:
        payload = BookingRequest.model_validate_json(checked_body(body, _content_type(scope)))
        return await bookings.book(self._api(), request, payload)

    async def booking_answer(self, scope: Scope, body: bytes) -> Response:
        """The answer to a booking whose whole body is read (the bounded protocol's own path): the same
        code, checks and error answers as the ASGI path above."""
        scope["route"] = self._routes[BOOKINGS]
        scope["app"] = self._app_object
        try:
            return await self._booking(scope, body, Request(scope))
        except Exception as exc:
            return _failure(scope["path"], exc)

    async def _join(self, scope: Scope, receive: Receive, send: Send, ident: str | None) -> Response:
        event_id = _event_id(ident)
        body = checked_body(await _body(receive), _content_type(scope), required=False)
        return await waitroom.join_answer(self._api(), Request(scope, receive, send), event_id, body)

    async def _poll(self, scope: Scope, receive: Receive, send: Send, ident: str | None) -> Response:
        event_id = _event_id(ident)
        return await waitroom.poll_answer(self._api(), Request(scope, receive, send), event_id)

    async def _leave(self, scope: Scope, receive: Receive, send: Send, ident: str | None) -> Response:
        event_id = _event_id(ident)
        return await waitroom.leave_answer(self._api(), Request(scope, receive, send), event_id)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, template: str, ident: str | None) -> None:
        route = self._routes[template]
        scope["route"] = route
        scope["app"] = self._app_object
        path: str = scope["path"]
        try:
            if scope["method"] in (route.methods or ()):
                response = await self._handlers[template](scope, receive, send, ident)
            else:
                # FastAPI's answer: its 405 error body, with the Allow header RFC 9110 requires.
                response = errors.error_response(
                    path, errors.METHOD_NOT_ALLOWED, "Method Not Allowed", errors.allow_header(route.methods or ())
                )
        except ClientDisconnect:
            raise  # gone before sending its request: nobody to answer; the observability layer counts it (499)
        except Exception as exc:
            response = _failure(path, exc)
        await response(scope, receive, send)


class LeanBookingRoute:
    """`POST /api/v1/bookings` for the bounded protocol (httpserver/protocol.py, `LeanRoute`), which
    answers it without uvicorn's request cycle and without the ASGI layers: the request id, the
    metrics by route template and the start-up gate are the observability layer's own (`incoming_id`,
    `ObservabilityMiddleware.record` and `ready`), the body limit the body-limit layer's, and the
    answer `LeanRoutes.booking_answer`, the code the ASGI path runs."""

    path = BOOKINGS.encode()

    def __init__(
        self,
        lean: LeanRoutes,
        observability: ObservabilityMiddleware,
        max_body_bytes: int,
        management_port: int | None,
        cors: Cors | None = None,
    ) -> None:
        self._lean = lean
        self._observability = observability
        self._cors = cors
        """The CORS layer's headers, added here as that layer adds them on the ASGI path (api/cors.py)."""
        self.max_body_bytes = max_body_bytes
        self.management_port = management_port
        """The management port serves no API (httpserver/management.py): a booking there takes the ASGI path."""
        self.ready = observability.ready

    async def answer(self, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """(status, headers, body); the request id is set for the logs and echoed last, as the
        observability layer does."""
        rid = incoming_id(scope["headers"])
        request_id.set(rid)  # this request's own task: its context dies with it
        response = await self._lean.booking_answer(scope, body)
        headers = [*response.raw_headers, (REQUEST_ID, rid.encode())]
        if self._cors is not None:
            headers = await self._cors.headers(response.status_code, headers, Headers(raw=scope["headers"]))
        return response.status_code, headers, bytes(response.body)

    def record(self, status: int, elapsed: float, scope: Scope) -> None:
        self._observability.record("POST", BOOKINGS, status, elapsed, scope)


def _failure(path: str, exc: Exception) -> Response:
    """The error answer to a failed lean request (a bug: 500, logged)."""
    answer = errors.response_for(path, exc)
    if answer is None:
        log.exception("unhandled error on %s", path)
        answer = errors.error_response(path, errors.INTERNAL_ERROR, "Internal server error")
    _forget_tracebacks(exc)
    return answer


def _route_path(scope: Scope) -> str:
    """The path routes match: without the root path the app is mounted at (as FastAPI's router sees it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _match(path: str) -> tuple[str, str | None] | None:
    """(template, event id as sent) of a lean path, any method; None for every other path."""
    if path == BOOKINGS:
        return BOOKINGS, None
    if path.startswith(EVENTS):
        ident, _, tail = path[len(EVENTS) :].partition("/")
        template = _ROOM_TAILS.get(tail)
        if template is not None and ident:
            return template, ident
    return None


def _event_id(ident: str | None) -> int:
    """The path's event id as FastAPI would validate `EventIdPath` (422 naming `path.event_id`)."""
    try:
        return _EVENT_ID.validate_python(ident)
    except ValidationError as exc:
        problems = [{**problem, "loc": ("path", "event_id", *problem["loc"])} for problem in exc.errors()]
        raise RequestValidationError(problems) from None


async def _body(receive: Receive) -> bytes:
    """The whole request body (the body-limit layer outside refuses an oversized one)."""
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnect()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def _forget_tracebacks(exc: BaseException | None) -> None:
    """Drop an answered failure's tracebacks (and its causes').

    A traceback holds the frames it passed through, and a frame that awaited a future holds the
    future, which holds the exception: a reference cycle that only the garbage collector frees.
    Every 409 left one, and collecting them cost about as much CPU as the rest of the request.
    """
    seen = 0
    while exc is not None and seen < 8:
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
        seen += 1
