"""The HTTP application, assembled in one place: every router, error handler and ASGI layer, from the
management gate outside to FastAPI inside.

A request passes, outermost first: `ManagementGate` (which paths each port serves),
`ObservabilityMiddleware` (request id, metrics by route template, access log, start-up gate),
`Cors` (only with `BOXOFFICE_CORS_ORIGINS`), `BodyLimitMiddleware`, `LeanRoutes` (answers the lean
routes, api/lean.py), `CompressionMiddleware`, then FastAPI's router. The bounded protocol
(httpserver/protocol.py) answers a plain booking itself through `BoxOffice.lean_booking`. The
composition root (`boxoffice.server`) supplies the lifespan that builds the services, the readiness
gate and the WebSocket endpoint; this module only knows HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice import __version__, wire
from boxoffice.api import actuator, admin, bookings, errors, events, holds, me, seats, sessions, waitroom
from boxoffice.api.compression import CompressionMiddleware
from boxoffice.api.cors import Cors
from boxoffice.api.deps import Api
from boxoffice.api.frontend import mount_frontend
from boxoffice.api.lean import SCHEMA_ONLY, LeanBookingRoute, LeanRoutes
from boxoffice.api.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from boxoffice.httpserver.management import ManagementGate
from boxoffice.settings import Settings

ROUTERS = (
    actuator.router,
    sessions.router,
    bookings.schema_only,
    bookings.router,
    holds.router,
    me.router,
    seats.router,
    events.router,
    admin.router,
    waitroom.router,
    waitroom.schema_only,
    waitroom.admin_router,
)
"""In the OpenAPI document's order; the app routes to all but the lean routes' `SCHEMA_ONLY` declarations."""

BOOKING_ID = {"booking_id": "$response.body#/bookingId"}
HOLD_TOKEN = {"token": "$response.body#/holdToken"}
EVENT_ID = {"event_id": "$response.body#/eventId"}
LINKS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("POST /api/v1/bookings", "201", "ReadBooking", "GET /api/v1/bookings/{booking_id}", {"parameters": BOOKING_ID}),
    (
        "POST /api/v1/bookings",
        "201",
        "CancelBooking",
        "POST /api/v1/bookings/{booking_id}/cancel",
        {"parameters": BOOKING_ID},
    ),
    ("POST /api/v1/holds", "201", "ReadHold", "GET /api/v1/holds/{token}", {"parameters": HOLD_TOKEN}),
    ("POST /api/v1/holds", "201", "ExtendHold", "POST /api/v1/holds/{token}/extend", {"parameters": HOLD_TOKEN}),
    ("POST /api/v1/holds", "201", "ReleaseHold", "POST /api/v1/holds/{token}/release", {"parameters": HOLD_TOKEN}),
    (
        "POST /api/v1/holds",
        "201",
        "ConfirmHold",
        "POST /api/v1/bookings",
        {"requestBody": {"holdToken": "$response.body#/holdToken"}},
    ),
    *(
        ("POST /api/v1/admin/events", "201", name, target, {"parameters": EVENT_ID})
        for name, target in (
            ("ReadEvent", "GET /api/v1/events/{event_id}"),
            ("EventSeats", "GET /api/v1/events/{event_id}/seats"),
            ("AdminEventSeats", "GET /api/v1/admin/events/{event_id}/seats"),
            ("EditEvent", "PATCH /api/v1/admin/events/{event_id}"),
            ("AllocateSeats", "POST /api/v1/admin/events/{event_id}/allocations"),
            ("WaitingRoom", "GET /api/v1/events/{event_id}/waiting-room"),
            ("ConfigureWaitingRoom", "PUT /api/v1/admin/events/{event_id}/waiting-room"),
            ("WaitingRoomFigures", "GET /api/v1/admin/events/{event_id}/waiting-room"),
            ("RevokeAdmissions", "POST /api/v1/admin/events/{event_id}/waiting-room/revoke"),
            ("JoinWaitingRoom", "POST /api/v1/events/{event_id}/waiting-room/join"),
        )
    ),
)
"""OpenAPI links (operation, status, name, target operation, how the answer fills it): what a client,
or a fuzzer's stateful phase, does next with an answer's id or token."""


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Write `LINKS` into the document's answers, naming each target by its operationId."""
    paths = document["paths"]

    def operation(name: str) -> dict[str, Any]:
        method, path = name.split(" ", 1)
        found: dict[str, Any] = paths[path][method.lower()]
        return found

    for source, status, name, target, fill in LINKS:
        answer = operation(source)["responses"][status]
        answer.setdefault("links", {})[name] = {"operationId": operation(target)["operationId"], **fill}
    return document


BODY_ERRORS = (errors.MALFORMED_JSON, errors.PAYLOAD_TOO_LARGE, errors.UNSUPPORTED_MEDIA_TYPE)
"""What every operation with a request body may answer before its own checks (api/http.py `checked_body`,
the body-limit layer): documented on each, so no answer the API gives is missing from the document."""


def add_body_errors(document: dict[str, Any]) -> dict[str, Any]:
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            if "requestBody" not in operation:
                continue
            answers = operation["responses"]
            for code in BODY_ERRORS:
                answers.setdefault(str(code.status), {"description": f"{code.error}: {code.meaning}", "content": ref})
    return document


TITLE = "Box Office"
DESCRIPTION = "High-concurrency seat booking: exactly one winner per seat."


class BoxOffice(FastAPI):
    """FastAPI inside the app's own pure-ASGI layers (`asgi_stack`): the management gate, request ids
    and metrics, the body limit and the lean routes wrap it from outside, so a lean request never
    enters FastAPI's stack."""

    asgi_stack: ASGIApp
    """Every ASGI layer, FastAPI innermost: what the server calls (set by `build_app`)."""
    lean_booking: LeanBookingRoute | None = None
    """`POST /api/v1/bookings` for the bounded protocol's own path (httpserver/protocol.py), which finds it
    here; None sends every booking the ASGI way."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi_stack(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """Every router of `ROUTERS` in order, the lean routes' schema-only declarations included, plus the
        STOMP message bodies (`wire.MESSAGES`), for the UI's generated types. The routes' part comes from
        a FastAPI app that includes them all and is never served."""
        if self.openapi_schema is None:
            documented = FastAPI(title=self.title, version=self.version, description=self.description)
            for router in ROUTERS:
                documented.include_router(router)
            self.openapi_schema = add_links(add_body_errors(wire.add_message_schemas(documented.openapi())))
        return self.openapi_schema


def build_app(
    settings: Settings,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    ready: Callable[[], bool],
    websocket: ASGIApp | None = None,
) -> BoxOffice:
    app = BoxOffice(title=TITLE, version=__version__, description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)
    for router in ROUTERS:
        if router not in SCHEMA_ONLY:
            app.include_router(router)
    if websocket is not None:
        app.router.routes.append(WebSocketRoute("/ws", websocket))  # STOMP over WebSocket, raw ASGI
    # Keep last: the UI is mounted at "/" and must not shadow any route added above.
    mount_frontend(app)

    def api() -> Api:
        built: Api = app.state.api
        return built

    fastapi: ASGIApp = partial(FastAPI.__call__, app)
    if settings.compress_min_bytes:
        # Inside the lean routes: booking answers (a few hundred bytes) skip it entirely.
        fastapi = CompressionMiddleware(fastapi, minimum_size=settings.compress_min_bytes)
    lean = LeanRoutes(fastapi, app_object=app, api=api)
    limited: ASGIApp = BodyLimitMiddleware(
        lean, max_bytes=settings.max_body_bytes, admin_max_bytes=settings.admin_max_body_bytes
    )
    # Outside the body limit and the lean routes, so preflights and every refusal carry CORS headers.
    cors = Cors(limited, settings.cors_origin_set) if settings.cors_origin_set else None
    # Observability outside the body limit, so 413s and other early refusals are counted and carry the
    # request id too.
    observability = ObservabilityMiddleware(
        cors or limited,
        routes=lambda: app.router.routes,
        ready=ready,
        access_log=settings.access_log,
    )
    # Outermost: which paths the public and the management port serve.
    app.asgi_stack = ManagementGate(observability, settings)
    app.lean_booking = LeanBookingRoute(lean, observability, settings.max_body_bytes, settings.management_port, cors)
    return app
