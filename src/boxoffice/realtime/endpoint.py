"""The `/ws` WebSocket endpoint: STOMP 1.2 server side, subscribe-only.

Clients CONNECT (or STOMP), SUBSCRIBE to `/topic/seats` (the default event) or
`/topic/events/{eventId}/seats` and receive one MESSAGE per seat change of that event.
The server is a read-only broker: SEND and transactions are refused with ERROR.

In jwt mode the token comes with the handshake (the `Authorization` header, a `bearer.<token>`
subprotocol, or `?access_token=`): without a valid one the upgrade is refused with HTTP 401, so a
stranger never holds a connection or a session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import orjson
from starlette.types import Receive, Scope, Send

from boxoffice import __version__
from boxoffice.observability.metrics import WS_REFUSED
from boxoffice.realtime.hub import (
    CLOSE_POLICY,
    CLOSE_PROTOCOL,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    Hub,
    Session,
    Subscription,
)
from boxoffice.realtime.stomp import Frame, FrameParser, FrameTooLargeError, ProtocolError, encode
from boxoffice.realtime.topics import DESTINATIONS_HELP, topic_event_id
from boxoffice.tokens import InvalidToken

ACK_MODES = frozenset({"auto", "client", "client-individual"})
MAX_ID_LENGTH = 128
TOKEN_PARAM = "access_token"  # RFC 6750 section 2.3: browsers cannot set headers on a WebSocket
TOKEN_SUBPROTOCOL = "bearer."
"""A browser can offer `bearer.<token>` next to `v12.stomp`: unlike the URL, it stays out of access logs."""
STOMP_SUBPROTOCOL = "v12.stomp"
_CHALLENGE = b'Bearer realm="boxoffice"'

Authenticate = Callable[[str], object]
"""Verifies a bearer token (raises InvalidToken); None when /ws is open to all (open auth mode)."""


class Refused(ProtocolError):
    """A frame the protocol allows but a limit or policy does not: ERROR, then close 1008."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        """The `websocket_refused_total` label."""


def bearer(value: str | None) -> str | None:
    if not value or value[:7].lower() != "bearer ":
        return None
    return value[7:].strip() or None


class StompProtocol:
    """Per-connection protocol state: the handshake, subscriptions and receipts."""

    def __init__(self, hub: Hub, session: Session) -> None:
        self.hub = hub
        self.session = session
        self._sub_numbers = 0

    def handle(self, frame: Frame) -> None:
        receipt = frame.headers.get("receipt")
        if not self.session.connected:
            if frame.command not in ("CONNECT", "STOMP"):
                raise ProtocolError(f"expected CONNECT, got {frame.command}")
            self._connect(frame)
            return
        command = frame.command
        if command == "SUBSCRIBE":
            self._subscribe(frame)
        elif command == "UNSUBSCRIBE":
            sub_id = _required(frame, "id")
            if not self.hub.unsubscribe(self.session, sub_id):
                raise ProtocolError(f"no subscription with id {sub_id[:MAX_ID_LENGTH]!r}")
        elif command in ("ACK", "NACK"):
            # Topic messages are not redelivered; sequence numbers and resync are the reliability layer.
            _required(frame, "id")
        elif command == "DISCONNECT":
            if receipt is not None:
                self.session.offer(encode("RECEIPT", [("receipt-id", receipt)]).decode())
            self.session.finish()
            return
        elif command in ("CONNECT", "STOMP"):
            raise ProtocolError("already connected")
        else:
            raise ProtocolError(f"{command} is not supported: this broker only delivers {DESTINATIONS_HELP}")
        if receipt is not None:
            self.session.offer(encode("RECEIPT", [("receipt-id", receipt)]).decode())

    def _connect(self, frame: Frame) -> None:
        versions = {v.strip() for v in frame.headers.get("accept-version", "1.0").split(",")}
        if "1.2" not in versions:
            raise ProtocolError("supported protocol versions are 1.2")
        cx, cy = _heartbeat(frame.headers.get("heart-beat", "0,0"))
        server_ms = self.hub.heartbeat_ms
        # STOMP 1.2 negotiation: each direction beats at the slower of what one side can do and
        # the other wants; 0 on either side switches that direction off.
        self.session.send_interval = max(server_ms, cy) / 1000 if server_ms and cy else 0.0
        self.session.recv_interval = max(cx, server_ms) / 1000 if server_ms and cx else 0.0
        self.session.connected = True
        headers = [
            ("version", "1.2"),
            ("heart-beat", f"{server_ms},{server_ms}"),
            ("server", f"boxoffice/{__version__}"),
            ("session", self.session.id),
        ]
        self.session.offer(encode("CONNECTED", headers).decode())

    def _subscribe(self, frame: Frame) -> None:
        sub_id = _required(frame, "id")
        destination = _required(frame, "destination")
        ack = frame.headers.get("ack", "auto")
        event_id = topic_event_id(destination)
        if event_id is None:
            raise ProtocolError(
                f"unknown destination {destination[:MAX_ID_LENGTH]!r}: subscribe to {DESTINATIONS_HELP}"
                " (eventId a positive 32-bit integer)"
            )
        if ack not in ACK_MODES:
            raise ProtocolError(f"unknown ack mode {ack[:32]!r}")
        if sub_id in self.session.subscriptions:
            raise ProtocolError(f"subscription id {sub_id[:MAX_ID_LENGTH]!r} is already in use")
        if len(self.session.subscriptions) >= self.hub.max_subscriptions:
            raise ProtocolError(f"at most {self.hub.max_subscriptions} subscriptions per connection")
        # Two subscriptions to one event's changes would deliver every change twice on one socket.
        same = next((s for s in self.session.subscriptions.values() if s.event_id == event_id), None)
        if same is not None:
            raise Refused(
                "duplicate_subscription",
                f"already subscribed to this event's seats as {same.destination!r} (id {same.id[:MAX_ID_LENGTH]!r})",
            )
        self._sub_numbers += 1
        self.hub.subscribe(self.session, Subscription(sub_id, destination, event_id, ack, self._sub_numbers))


def _required(frame: Frame, name: str) -> str:
    value = frame.headers.get(name)
    if not value:
        raise ProtocolError(f"{frame.command} requires a '{name}' header")
    if len(value) > MAX_ID_LENGTH:
        raise ProtocolError(f"'{name}' header longer than {MAX_ID_LENGTH} characters")
    return value


def _heartbeat(value: str) -> tuple[int, int]:
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() and len(p.strip()) <= 9 for p in parts):
        raise ProtocolError("heart-beat header must be two non-negative integers 'cx,cy'")
    return int(parts[0]), int(parts[1])


def origin_allowed(headers: Mapping[str, str], allowed: frozenset[str]) -> bool:
    """Browsers always send Origin: accept same-origin pages and the allowlist ('*' for any).

    Clients that send no Origin (services, CLI tools) are not subject to the browser's
    cross-site rules and are accepted.
    """
    origin = headers.get("origin")
    if origin is None or "*" in allowed or origin in allowed:
        return True
    host = headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc == host


class StompEndpoint:
    """The `/ws` route as a plain ASGI app (not a function taking Starlette's `WebSocket`).

    An idle connection then holds only this coroutine and its session, not the WebSocket wrapper
    and its session frames. The hub is attached when the process starts serving.
    """

    def __init__(self, origins: frozenset[str], max_frame_bytes: int, authenticate: Authenticate | None = None) -> None:
        self.origins = origins
        self.max_frame_bytes = max_frame_bytes
        self.authenticate = authenticate
        self.hub: Hub | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hub is None:
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
            return
        await stomp_endpoint(self.hub, self, scope, receive, send)


def handshake_token(scope: Scope, headers: Mapping[str, str]) -> str | None:
    """The bearer token a handshake carries: `Authorization` header, `bearer.` subprotocol or query."""
    token = bearer(headers.get("authorization"))
    if token:
        return token
    offered: Sequence[str] = scope.get("subprotocols", ())
    token = next((p[len(TOKEN_SUBPROTOCOL) :] for p in offered if p.startswith(TOKEN_SUBPROTOCOL)), None)
    if token:
        return token
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(TOKEN_PARAM)
    return values[0] if values and values[0] else None


def authentication_error(authenticate: Authenticate, token: str | None) -> str | None:
    """Why the handshake's token does not admit it, or None when it does."""
    if token is None:
        return (
            "A bearer token is required: an Authorization header, a "
            f"'{TOKEN_SUBPROTOCOL}<token>' subprotocol or ?{TOKEN_PARAM}= on the URL"
        )
    try:
        authenticate(token)
    except InvalidToken as exc:
        return str(exc) or "Invalid bearer token"
    return None


async def refuse_unauthenticated(send: Send, message: str, has_token: bool) -> None:
    """HTTP 401 instead of the upgrade (RFC 6750 challenge), the REST API's error shape."""
    WS_REFUSED.labels("unauthenticated").inc()
    body = orjson.dumps(
        {
            "timestamp": datetime.now(UTC).isoformat(),
            "status": 401,
            "error": "UNAUTHENTICATED",
            "message": message[:300],
            "path": "/ws",
        }
    )
    challenge = _CHALLENGE + (b', error="invalid_token"' if has_token else b"")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", challenge),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})


async def stomp_endpoint(hub: Hub, config: StompEndpoint, scope: Scope, receive: Receive, asgi_send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    if not origin_allowed(headers, config.origins):
        await asgi_send({"type": "websocket.close", "code": CLOSE_POLICY})  # before accept: HTTP 403
        return
    if config.authenticate is not None:
        token = handshake_token(scope, headers)
        error = authentication_error(config.authenticate, token)
        if error is not None:
            await refuse_unauthenticated(asgi_send, error, token is not None)
            return
    del headers  # nothing in it is needed for the connection's lifetime
    if hub.full:
        await asgi_send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})
        return
    client = scope.get("client")
    address = str(client[0]) if client else ""
    if hub.address_full(address):
        WS_REFUSED.labels("address_cap").inc()
        await asgi_send({"type": "websocket.close", "code": CLOSE_POLICY})  # before accept: HTTP 403
        return
    offered = scope.get("subprotocols", [])
    subprotocol = STOMP_SUBPROTOCOL if STOMP_SUBPROTOCOL in offered else None
    await asgi_send({"type": "websocket.accept", "subprotocol": subprotocol})

    async def send(text: str) -> None:
        await asgi_send({"type": "websocket.send", "text": text})

    async def close(code: int) -> None:
        await asgi_send({"type": "websocket.close", "code": code})

    session = hub.open(send, close, address)
    reader = asyncio.current_task()
    reading = False
    aborted = False

    def abort() -> None:
        # The writer gave up on the peer (or closed): stop waiting for input that may never come.
        nonlocal aborted
        aborted = True
        if reading and reader is not None:
            reader.cancel()

    session.on_abort = abort
    protocol = StompProtocol(hub, session)
    parser = FrameParser(config.max_frame_bytes)
    loop = asyncio.get_running_loop()
    try:
        while not session.closing:
            reading = True
            message = await receive()
            reading = False
            if message["type"] == "websocket.disconnect":
                break
            data: bytes | None = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode()
            now = session.last_recv = loop.time()
            receipt: str | None = None
            try:
                frames = parser.feed(data)
                acks = sum(1 for f in frames if f.command in ("ACK", "NACK"))
                if not session.spend(len(frames), acks, now):
                    raise Refused("frame_rate", f"too many frames: at most {hub.frames_per_s} per second")
                for frame in frames:
                    receipt = frame.headers.get("receipt")
                    protocol.handle(frame)
                    receipt = None
                    if session.closing:
                        break
            except FrameTooLargeError as exc:
                session.fail(str(exc), CLOSE_TOO_BIG)
            except Refused as exc:
                WS_REFUSED.labels(exc.reason).inc()
                session.fail(str(exc), CLOSE_POLICY, receipt_id=receipt)
            except ProtocolError as exc:
                session.fail(str(exc), CLOSE_PROTOCOL, receipt_id=receipt)
        reading = False
        if session.closing and not aborted:
            # Let the writer flush ERROR / RECEIPT and close the socket.
            await session.writer
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not aborted or task is None:
            raise
        task.uncancel()
    finally:
        session.on_abort = None
        hub.discard(session)
        if not session.writer.done():
            session.writer.cancel()
