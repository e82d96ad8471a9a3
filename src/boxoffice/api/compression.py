"""Compressed answers: content negotiation (`Accept-Encoding`) and a middleware for API JSON.

Seat snapshots and the UI's files carry their own precompressed bodies (booking/snapshots.py,
api/frontend.py); `CompressionMiddleware` compresses the other answers of the FastAPI app from
`BOXOFFICE_COMPRESS_MIN_BYTES` up. The lean booking route (api/lean.py) sits outside it: its
answers are a few hundred bytes, below one packet, where compression saves nothing.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.api.http import JSON
from boxoffice.booking.snapshots import CODINGS, Coding, Snapshot, encode

VARY = "Accept-Encoding"
COMPRESSIBLE = ("application/json", "text/", "application/javascript", "image/svg+xml", "application/manifest+json")
THREAD_MIN_BYTES = 128 * 1024
"""Bodies from this size are compressed in a worker thread, not in the event loop."""


def negotiate(accept_encoding: str | None) -> Coding:
    """The best coding the client accepts (RFC 9110 12.5.3: q-values, `*`, `identity`), br before gzip."""
    if not accept_encoding:
        return "identity"
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(",")[:32]:
        name, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.strip()] = q
    best: Coding = "identity"
    best_q = 0.0
    for coding in CODINGS:
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


def add_vary(headers: MutableHeaders) -> None:
    """`Vary: Accept-Encoding` once, whatever else the header already lists."""
    present = {v.strip().lower() for value in headers.getlist("vary") for v in value.split(",")}
    if VARY.lower() not in present and "*" not in present:
        headers.add_vary_header(VARY)


def compressible(media_type: str) -> bool:
    return media_type.split(";")[0].strip().lower().startswith(COMPRESSIBLE)


async def compress(body: bytes, coding: Coding) -> bytes:
    if len(body) >= THREAD_MIN_BYTES:
        return await asyncio.to_thread(encode, body, coding)
    return encode(body, coding)


async def snapshot_response(request: Request, snapshot: Snapshot) -> Response:
    """A cached seat snapshot in the coding the client prefers; never stored by browsers or proxies
    (a stale copy would break the snapshot-then-deltas protocol)."""
    coding = negotiate(request.headers.get("accept-encoding"))
    headers = {"Vary": VARY, "Cache-Control": "no-store"}
    if coding != "identity":
        headers["Content-Encoding"] = coding
    return Response(await snapshot.encoded(coding), media_type=JSON, headers=headers)


class CompressionMiddleware:
    """gzip or br for whole (non-streamed) text/JSON answers of at least `minimum_size` bytes.

    Answers that already have a `Content-Encoding`, partial content and streamed bodies pass
    through unchanged; every compressible answer of that size says `Vary: Accept-Encoding`.
    """

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = negotiate(Headers(scope=scope).get("accept-encoding"))
        start: Message | None = None
        passthrough = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if (
                    "content-encoding" in headers
                    or message["status"] in (204, 206, 304)
                    or not compressible(headers.get("content-type", ""))
                ):
                    passthrough = True
                    await send(message)
                else:
                    start = message  # held until the first body part says whether to compress
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body: bytes = message.get("body", b"")
            response_start, start = start, None
            if message.get("more_body", False) or len(body) < self.minimum_size:
                passthrough = True
                await send(response_start)
                await send(message)
                return
            response_start["headers"] = list(response_start.get("headers", []))
            headers = MutableHeaders(raw=response_start["headers"])
            add_vary(headers)
            if coding != "identity":
                body = await compress(body, coding)
                headers["content-encoding"] = coding
                headers["content-length"] = str(len(body))
            passthrough = True
            await send(response_start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)
