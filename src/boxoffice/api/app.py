"""The HTTP application: every router, error handler and middleware, assembled in one place.

The composition root (`boxoffice.server`) supplies the lifespan that builds the services, the
readiness gate and the WebSocket endpoint; this module only knows HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp

from boxoffice import __version__
from boxoffice.api import actuator, admin, bookings, errors, events, holds, seats
from boxoffice.api.fast import BOOKINGS, LeanRoutes
from boxoffice.api.frontend import mount_frontend
from boxoffice.api.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from boxoffice.settings import Settings

ROUTERS = (actuator.router, bookings.router, holds.router, seats.router, events.router, admin.router)


def build_app(
    settings: Settings,
    *,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    ready: Callable[[], bool],
    websocket: ASGIApp | None = None,
) -> FastAPI:
    app = FastAPI(
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
    # Innermost of ours: the booking route answered without FastAPI's per-request work.
    app.add_middleware(LeanRoutes, route=_route(bookings.router.routes, "POST", BOOKINGS))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outermost, so 413s and other early refusals are counted and carry the request id too.
    app.add_middleware(
        ObservabilityMiddleware, routes=lambda: app.router.routes, ready=ready, access_log=settings.access_log
    )
    # Keep last: the UI is mounted at "/" and must not shadow any route added above.
    mount_frontend(app)
    return app


def _route(routes: list[BaseRoute], method: str, path: str) -> APIRoute:
    return next(r for r in routes if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ()))
