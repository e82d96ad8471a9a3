"""Serve the built seat-map UI (`frontend/dist`) at `/`, behind every API and WebSocket route."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

# src/boxoffice/api/frontend.py -> repository root -> frontend/dist
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"


class FrontendFiles(StaticFiles):
    """Static files that leave WebSocket handshakes alone and let browsers cache hashed assets forever."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Same answer as the router's "no such route", instead of StaticFiles' assertion error.
            await WebSocketClose()(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # Vite names assets by content hash; index.html must be revalidated to pick up new builds.
        immutable = Path(full_path).parent.name == "assets"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return response


# Paths the UI never answers: they fall through to the router, whose 404/405 use the API's error body.
RESERVED_PREFIXES = ("/api/", "/actuator/", "/ws", "/docs", "/openapi.json")


class FrontendMount(Mount):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith(RESERVED_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)


def frontend_dir() -> Path:
    """`BOXOFFICE_FRONTEND_DIST` when set (installed deployments), else the repository's build output."""
    configured = os.environ.get("BOXOFFICE_FRONTEND_DIST")
    return Path(configured) if configured else DEFAULT_DIST


def mount_frontend(app: FastAPI, directory: Path | None = None) -> bool:
    """Mount the UI if it has been built; call after every other route so `/api`, `/actuator`, `/ws` win."""
    directory = directory or frontend_dir()
    if not (directory / "index.html").is_file():
        return False
    app.router.routes.append(FrontendMount("/", app=FrontendFiles(directory=directory, html=True), name="frontend"))
    return True
