"""The HTTP application: every router, error handler and middleware, assembled in one place.

The composition root (`boxoffice.server`) supplies the lifespan that builds the services, the
readiness gate and the WebSocket endpoint; this module only knows HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice import __version__, wire
from boxoffice.api import actuator, admin, bookings, errors, events, holds, me, seats, sessions, waitroom
from boxoffice.api.compression import CompressionMiddleware
from boxoffice.api.deps import Api
from boxoffice.api.fast import BOOKINGS, ROOM_JOIN, ROOM_LEAVE, ROOM_POLL, EdgeBooking, LeanRoutes
from boxoffice.api.frontend import mount_frontend
from boxoffice.api.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from boxoffice.settings import Settings

ROUTERS = (
    actuator.router,
    sessions.router,
    bookings.router,
    holds.router,
    me.router,
    seats.router,
    events.router,
    admin.router,
    waitroom.router,
)


class BoxOffice(FastAPI):
    """FastAPI behind the app's own pure-ASGI edge: request ids and metrics, the body limit and the
    lean booking route wrap it from outside, so a lean request never enters FastAPI's stack."""

    edge: ASGIApp | None = None
    lean_booking: EdgeBooking | None = None
    """`POST /api/v1/bookings` for the edge protocol's own path (edge/protocol.py), which finds it here."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.edge is None:
            await super().__call__(scope, receive, send)
        else:
            await self.edge(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """The routes' document plus the STOMP message bodies (`wire.MESSAGES`), for the UI's generated types."""
        if self.openapi_schema is None:
            self.openapi_schema = wire.add_message_schemas(super().openapi())
        return self.openapi_schema


def build_app(
    settings: Settings,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    ready: Callable[[], bool],
    websocket: ASGIApp | None = None,
) -> FastAPI:
    app = BoxOffice(
        title="Box Office",
        version=__version__,
        description="High-concurrency seat booking: exactly one winner per seat.",
        lifespan=lifespan,
    )
    errors.install(app)
    for router in ROUTERS:
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
        # Inside the lean route: booking answers (a few hundred bytes) skip it entirely.
        fastapi = CompressionMiddleware(fastapi, minimum_size=settings.compress_min_bytes)
    lean = LeanRoutes(
        fastapi,
        app_object=app,
        api=api,
        routes={
            BOOKINGS: _route(bookings.router.routes, "POST", BOOKINGS),
            ROOM_JOIN: _route(waitroom.router.routes, "POST", ROOM_JOIN),
            ROOM_POLL: _route(waitroom.router.routes, "GET", ROOM_POLL),
            ROOM_LEAVE: _route(waitroom.router.routes, "POST", ROOM_LEAVE),
        },
    )
    # Observability outermost, so 413s and other early refusals are counted and carry the request id too.
    observability = ObservabilityMiddleware(
        BodyLimitMiddleware(lean, max_bytes=settings.max_body_bytes),
        routes=lambda: app.router.routes,
        ready=ready,
        access_log=settings.access_log,
    )
    app.edge = observability
    app.lean_booking = EdgeBooking(lean, observability, settings.max_body_bytes, settings.management_port)
    return app


def _route(routes: list[BaseRoute], method: str, path: str) -> APIRoute:
    return next(r for r in routes if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ()))
