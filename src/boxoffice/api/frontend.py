"""Serve the built seat-map UI (`frontend/dist`) at `/`, behind every API and WebSocket route.

Text assets (JS, CSS, HTML, SVG, JSON) go out br- or gzip-compressed by `Accept-Encoding`,
compressed once per process and file version (in a worker thread) and kept in memory; each coding
has its own ETag, and Vite's content-hashed assets are cacheable forever.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from boxoffice.api.compression import add_vary, compressible, negotiate
from boxoffice.booking.snapshots import Coding, encode

# src/boxoffice/api/frontend.py -> repository root -> frontend/dist
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"

COMPRESS_MIN_BYTES = 1024
COMPRESS_MAX_BYTES = 16 * 1024 * 1024
"""Larger files are served as they are (a UI bundle is a few hundred KB)."""
MAX_COMPRESSED_BYTES = 64 * 1024 * 1024
"""Compressed copies kept per process; beyond it the cache starts over (old builds' files go)."""


class FrontendFiles(StaticFiles):
    """Static files that leave WebSocket handshakes alone and let browsers cache hashed assets forever."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Same answer as the router's "no such route", instead of StaticFiles' assertion error.
            await WebSocketClose()(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def __init__(self, *, directory: Path, html: bool = False) -> None:
        super().__init__(directory=directory, html=html)
        self._compressed: dict[tuple[str, int, int, Coding], asyncio.Future[bytes]] = {}
        self._compressed_bytes = 0

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # Vite names assets by content hash; index.html must be revalidated to pick up new builds.
        immutable = Path(full_path).parent.name == "assets"
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        if _compressible_file(full_path, stat_result):
            add_vary(response.headers)
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        stat_result = response.stat_result
        if stat_result is None or not _compressible_file(response.path, stat_result):
            return response
        request_headers = Headers(scope=scope)
        coding = negotiate(request_headers.get("accept-encoding"))
        if coding == "identity":
            return response
        headers = MutableHeaders(headers=dict(response.headers))
        headers["etag"] = f'{response.headers["etag"].rstrip(chr(34))}-{coding}"'
        headers["content-encoding"] = coding
        del headers["content-length"]
        if self.is_not_modified(headers, request_headers):
            del headers["content-encoding"]
            return Response(status_code=304, headers=dict(headers))
        body = await self._compress(str(response.path), stat_result, coding)
        return Response(body, status_code=200, headers=dict(headers))

    async def _compress(self, path: str, stat_result: os.stat_result, coding: Coding) -> bytes:
        key = (path, stat_result.st_mtime_ns, stat_result.st_size, coding)
        future = self._compressed.get(key)
        if future is None:
            if self._compressed_bytes > MAX_COMPRESSED_BYTES:
                self._compressed.clear()
                self._compressed_bytes = 0
            future = self._compressed[key] = asyncio.ensure_future(asyncio.to_thread(_read_encoded, path, coding))
            future.add_done_callback(self._account)
        try:
            return await asyncio.shield(future)
        except Exception:
            if self._compressed.get(key) is future:
                del self._compressed[key]
            raise

    def _account(self, future: asyncio.Future[bytes]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._compressed_bytes += len(future.result())


def _compressible_file(path: str | os.PathLike[str], stat_result: os.stat_result) -> bool:
    media_type = mimetypes.guess_type(str(path))[0] or ""
    return compressible(media_type) and COMPRESS_MIN_BYTES <= stat_result.st_size <= COMPRESS_MAX_BYTES


def _read_encoded(path: str, coding: Coding) -> bytes:
    return encode(Path(path).read_bytes(), coding)


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
