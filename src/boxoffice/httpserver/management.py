"""The management port: metrics and API docs off the public port.

With `management_port` set, every worker also listens there (SO_REUSEPORT: the kernel spreads
scrapes over the workers; each answers for all of them) and the gate serves `/actuator/prometheus`,
`/docs`, `/redoc` and `/openapi.json` on that port only; health answers on both. Without it,
`public_metrics` / `public_docs` = false remove them from the public port.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.server import ServerState

from boxoffice.httpserver.protocol import BoundedHttpProtocol
from boxoffice.settings import Settings

METRICS = frozenset({"/actuator/prometheus"})
DOCS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
HEALTH_PREFIX = "/actuator/health"
_NOT_FOUND = b'{"status":404,"error":"NOT_FOUND","message":"Not found"}'


class ManagementGate:
    """Outermost ASGI layer: which paths each port serves (the local port is in `scope["server"]`)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.port = settings.management_port
        self.public = (METRICS if settings.public_metrics else frozenset()) | (
            DOCS if settings.public_docs else frozenset()
        )

    def _allowed(self, scope: Scope) -> bool:
        path: str = scope["path"]
        managed = path in METRICS or path in DOCS
        server = scope.get("server")
        on_management = self.port is not None and server is not None and server[1] == self.port
        if on_management:
            return managed or path.startswith(HEALTH_PREFIX)
        return not managed or (self.port is None and path in self.public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_NOT_FOUND)).encode())]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": _NOT_FOUND})


async def listen(app: ASGIApp, host: str, port: int) -> asyncio.Server:
    """Serve `app` on host:port from this worker (sharing the port with its siblings)."""
    config = uvicorn.Config(
        app, http=BoundedHttpProtocol, lifespan="off", log_config=None, access_log=False, proxy_headers=False, ws="none"
    )
    config.load()
    state = ServerState()
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(128)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: BoundedHttpProtocol(config=config, server_state=state, app_state={}, _loop=loop), sock=sock
    )
