"""The HTTP application, assembled in one place: every router, error handler and ASGI layer, from the
management gate outside to FastAPI inside.

A request passes, outermost first: `ManagementGate` (which paths each port serves),
`ObservabilityMiddleware` (request id, metrics by route template, access log, start-up gate),
`BodyLimitMiddleware`, `LeanRoutes` (answers the lean routes, api/lean.py), `CompressionMiddleware`,
then FastAPI's router. The bounded protocol (httpserver/protocol.py) answers a plain booking itself
through `BoxOffice.lean_booking`. The composition root (`boxoffice.server`) supplies the lifespan
that builds the services, the readiness gate and the WebSocket endpoint; this module only knows HTTP.
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
            self.openapi_schema = wire.add_message_schemas(documented.openapi())
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
    # Observability outside the body limit, so 413s and other early refusals are counted and carry the
    # request id too.
    observability = ObservabilityMiddleware(
        BodyLimitMiddleware(lean, max_bytes=settings.max_body_bytes, admin_max_bytes=settings.admin_max_body_bytes),
        routes=lambda: app.router.routes,
        ready=ready,
        access_log=settings.access_log,
    )
    # Outermost: which paths the public and the management port serve.
    app.asgi_stack = ManagementGate(observability, settings)
    app.lean_booking = LeanBookingRoute(lean, observability, settings.max_body_bytes, settings.management_port)
    return app
