"""The management surface (metrics and API docs) is private by default.

With `management_port` set, every worker also listens there (SO_REUSEPORT: the kernel spreads
scrapes over the workers; each answers for all of them) and the gate serves `/actuator/prometheus`,
`/docs`, `/redoc` and `/openapi.json` on that port only; health answers on both. Without it, the
public port serves them to direct connections from this machine only (a loopback peer that no
proxy relays), unless `public_metrics` / `public_docs` open them to every client. Health stays
public: load balancers probe it.
"""

from __future__ import annotations

import asyncio
import ipaddress
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
FORWARDING = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})
"""Headers a proxy adds: a loopback peer that sends one relays somebody else."""


def local_client(scope: Scope) -> bool:
    """A direct connection from this machine: a loopback peer and no forwarding header (a reverse
    proxy on the same machine connects from loopback on behalf of anyone)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_loopback:
        return False
    return not any(name.lower() in FORWARDING for name, _ in scope.get("headers", ()))


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
        if not managed:
            return True
        return self.port is None and (path in self.public or local_client(scope))

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
