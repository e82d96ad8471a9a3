"""The lean routes: `POST /api/v1/bookings` and the waiting room's join, poll and leave, without
per-request framework work.

A FastAPI route costs about 0.3 ms of CPU per request before the endpoint runs (routing over
every route, dependency solving, exception middleware); a booking costs less than that. This
pure-ASGI layer answers the booking route itself with the same code as the FastAPI route
(`bookings.book`: identify, rate limits, idempotency keys, the claim), the same body checks and
the same error answers; every other request goes on to FastAPI, whose route declaration stays
the documented fallback and keeps the OpenAPI document. It sits inside the observability and
body-limit layers, so request ids, metrics by route template, the start-up gate and the body
limit apply unchanged.

The waiting room's `POST .../waiting-room/join`, `GET .../waiting-room/me` and `POST .../leave`
take the same way: an on-sale's crowd calls them many times a second while admitted buyers book,
and their framework cost would be most of the server's CPU. A path whose event id FastAPI would
refuse (not a canonical integer in range) goes on to FastAPI for its 422.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.api import bookings, errors, waitroom
from boxoffice.api.deps import Api
from boxoffice.api.http import checked_body
from boxoffice.api.middleware import HEADER as REQUEST_ID
from boxoffice.api.middleware import ObservabilityMiddleware, incoming_id
from boxoffice.api.schemas import BookingRequest
from boxoffice.observability.logs import request_id

log = logging.getLogger(__name__)

BOOKINGS = "/api/v1/bookings"
EVENTS = "/api/v1/events/"
ROOM_JOIN = "/api/v1/events/{event_id}/waiting-room/join"
ROOM_POLL = "/api/v1/events/{event_id}/waiting-room/me"
ROOM_LEAVE = "/api/v1/events/{event_id}/waiting-room/leave"
_ROOM_TAILS = {
    ("POST", "waiting-room/join"): ROOM_JOIN,
    ("GET", "waiting-room/me"): ROOM_POLL,
    ("POST", "waiting-room/leave"): ROOM_LEAVE,
}
MAX_EVENT_ID = 2**31 - 1


class LeanRoutes:
    def __init__(
        self, app: ASGIApp, *, app_object: object, api: Callable[[], Api], routes: dict[str, BaseRoute]
    ) -> None:
        self.app = app
        self._app_object = app_object
        self._api = api
        self._routes = routes
        """Path template -> the FastAPI route the lean path stands in for: metrics label it with its template."""
        self._room_handlers = {ROOM_JOIN: self._join, ROOM_POLL: self._poll, ROOM_LEAVE: self._leave}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == BOOKINGS and scope["method"] == "POST":
                await self._answer(scope, receive, send, BOOKINGS, self._book)
                return
            if path.startswith(EVENTS):
                room = _room_path(path, scope["method"])
                if room is not None:
                    event_id, template = room
                    handle = self._room_handlers[template]
                    await self._answer(scope, receive, send, template, partial(handle, event_id))
                    return
        await self.app(scope, receive, send)

    async def _book(self, scope: Scope, receive: Receive, send: Send) -> Response:
        return await self._booking(scope, await _body(receive), Request(scope, receive, send))

    async def _booking(self, scope: Scope, body: bytes, request: Request) -> Response:
        payload = BookingRequest.model_validate_json(checked_body(body, _content_type(scope)))
        return await bookings.book(self._api(), request, payload)

    async def booking_answer(self, scope: Scope, body: bytes) -> Response:
        """The answer to a booking whose whole body is read (the edge protocol's own path): the same
        code, checks and error answers as the ASGI path above."""
        scope["route"] = self._routes[BOOKINGS]
        scope["app"] = self._app_object
        try:
            return await self._booking(scope, body, Request(scope))
        except Exception as exc:
            return _failure(scope["path"], exc)

    async def _join(self, event_id: int, scope: Scope, receive: Receive, send: Send) -> Response:
        body = checked_body(await _body(receive), _content_type(scope), required=False)
        return await waitroom.join_answer(self._api(), Request(scope, receive, send), event_id, body)

    async def _poll(self, event_id: int, scope: Scope, receive: Receive, send: Send) -> Response:
        return await waitroom.poll_answer(self._api(), Request(scope, receive, send), event_id)

    async def _leave(self, event_id: int, scope: Scope, receive: Receive, send: Send) -> Response:
        return await waitroom.leave_answer(self._api(), Request(scope, receive, send), event_id)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        template: str,
        handle: Callable[[Scope, Receive, Send], Awaitable[Response]],
    ) -> None:
        scope["route"] = self._routes[template]
        scope["app"] = self._app_object
        path: str = scope["path"]
        try:
            response = await handle(scope, receive, send)
        except ClientDisconnect:
            raise  # gone before sending its request: nobody to answer; the edge counts it (499)
        except Exception as exc:
            response = _failure(path, exc)
        await response(scope, receive, send)


class EdgeBooking:
    """`POST /api/v1/bookings` for the edge protocol (edge/protocol.py, `LeanRoute`), which answers
    it without uvicorn's request cycle and without the ASGI layers: the request id, the metrics by
    route template and the start-up gate are the observability layer's own (`incoming_id`,
    `ObservabilityMiddleware.record` and `ready`), the body limit the body-limit layer's, and the
    answer `LeanRoutes.booking_answer`, the code the ASGI path runs."""

    path = BOOKINGS.encode()

    def __init__(
        self, lean: LeanRoutes, observability: ObservabilityMiddleware, max_body_bytes: int, management_port: int | None
    ) -> None:
        self._lean = lean
        self._observability = observability
        self.max_body_bytes = max_body_bytes
        self.management_port = management_port
        """The management port serves no API (edge/management.py): a booking there takes the ASGI path."""
        self.ready = observability.ready

    async def answer(self, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """(status, headers, body); the request id is set for the logs and echoed last, as the
        observability layer does."""
        rid = incoming_id(scope["headers"])
        request_id.set(rid)  # this request's own task: its context dies with it
        response = await self._lean.booking_answer(scope, body)
        return response.status_code, [*response.raw_headers, (REQUEST_ID, rid.encode())], bytes(response.body)

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


def _room_path(path: str, method: str) -> tuple[int, str] | None:
    """(event id, route template) of a waiting-room join, poll or leave FastAPI would accept, else None."""
    ident, _, tail = path[len(EVENTS) :].partition("/")
    template = _ROOM_TAILS.get((method, tail))
    if template is None or not (ident.isascii() and ident.isdigit()) or ident[0] == "0" or len(ident) > 10:
        return None
    event_id = int(ident)
    return (event_id, template) if event_id <= MAX_EVENT_ID else None


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
