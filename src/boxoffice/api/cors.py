"""Cross-origin requests (CORS) for browser clients served from another origin, e.g. a seed client's
UI on its own dev server: off unless `BOXOFFICE_CORS_ORIGINS` names origins.

Starlette's `CORSMiddleware` answers preflights and adds the headers to every answer of the ASGI
way; `Cors.headers` adds the same headers to the answers the bounded protocol's lean booking path
writes itself (api/lean.py, `LeanBookingRoute`), which never passes the ASGI layers. No credentials:
the API's callers prove who they are with bearer tokens, never cookies.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message

EXPOSED = ("Retry-After", "X-Request-Id", "WWW-Authenticate", "Allow")
"""Answer headers a cross-origin page may read besides the CORS-safelisted ones."""
MAX_AGE_S = 600


class Cors(CORSMiddleware):
    """`CORSMiddleware` for the allow-listed origins (`*`: any), every method and request header."""

    def __init__(self, app: ASGIApp, origins: frozenset[str]) -> None:
        super().__init__(
            app,
            allow_origins=sorted(origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=list(EXPOSED),
            max_age=MAX_AGE_S,
        )

    async def headers(
        self, status: int, headers: list[tuple[bytes, bytes]], request_headers: Headers
    ) -> list[tuple[bytes, bytes]]:
        """An answer's headers with what `CORSMiddleware` adds to it for this request (none without Origin)."""
        if "origin" not in request_headers:
            return headers
        sent: list[Message] = []

        async def keep(message: Message) -> None:
            sent.append(message)

        await self.send(
            {"type": "http.response.start", "status": status, "headers": list(headers)}, keep, request_headers
        )
        added: list[tuple[bytes, bytes]] = sent[0]["headers"]
        return added
