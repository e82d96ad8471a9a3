"""A small STOMP 1.2 test client over a real WebSocket, plus the resynchronising seat view."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from boxoffice.realtime.stomp import SERVER_COMMANDS, Frame, FrameParser, encode
from tests.helpers import DEADLINE_S


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws"


class ClosedError(Exception):
    """The server closed the session (an ERROR frame, or the socket itself)."""


class StompClient:
    """Reads frames in the background; records server heart-beats and the close code."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.heartbeats: list[float] = []
        self.raw_messages = 0
        self.connected: Frame | None = None
        self._parser = FrameParser(1 << 20, commands=SERVER_COMMANDS)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        subprotocols: Iterable[str] = ("v12.stomp",),
        origin: str | None = None,
        **kwargs: Any,
    ) -> StompClient:
        ws = await connect(
            url,
            subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
            origin=origin,  # type: ignore[arg-type]
            compression=None,
            open_timeout=DEADLINE_S,
            max_size=1 << 22,
            ping_interval=None,
            **kwargs,
        )
        return cls(ws)

    @classmethod
    async def connect(cls, url: str, heartbeat: str = "0,0", **kwargs: Any) -> StompClient:
        client = await cls.open(url, **kwargs)
        await client.send("CONNECT", [("accept-version", "1.2"), ("host", "boxoffice"), ("heart-beat", heartbeat)])
        frame = await client.next_frame()
        assert frame.command == "CONNECTED", frame
        client.connected = frame
        return client

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                data = message.encode() if isinstance(message, str) else message
                self.raw_messages += 1
                if data.strip(b"\r\n") == b"":
                    self.heartbeats.append(time.monotonic())
                for frame in self._parser.feed(data):
                    self.frames.put_nowait(frame)
        except ConnectionClosed:
            pass

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def send(self, command: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> None:
        await self.ws.send(encode(command, headers, body).decode())

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def next_frame(self, wait_s: float = DEADLINE_S) -> Frame:
        get = asyncio.ensure_future(self.frames.get())
        done, _ = await asyncio.wait({get, self._reader}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            return get.result()
        get.cancel()
        if self._reader in done and self.frames.empty():
            raise ClosedError(f"connection closed with code {self.close_code}")
        raise TimeoutError(f"no frame within {wait_s}s")

    async def subscribe(self, sub_id: str = "sub-0", destination: str = "/topic/seats", **headers: str) -> None:
        """Subscribe and wait for the receipt, so nothing published afterwards can be missed."""
        receipt = f"r-{sub_id}"
        extra = [(k.replace("_", "-"), v) for k, v in headers.items()]
        await self.send("SUBSCRIBE", [("id", sub_id), ("destination", destination), ("receipt", receipt), *extra])
        frame = await self.next_frame()
        if frame.command == "ERROR":
            raise ClosedError(f"ERROR instead of a receipt: {frame.headers.get('message')}")
        assert frame.command == "RECEIPT" and frame.headers["receipt-id"] == receipt, frame

    async def messages(self, count: int, wait_s: float = DEADLINE_S) -> list[dict[str, Any]]:
        """The next `count` MESSAGE bodies (fails on any other frame)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_s
        while len(out) < count:
            frame = await self.next_frame(max(0.01, deadline - time.monotonic()))
            assert frame.command == "MESSAGE", frame
            out.append(orjson.loads(frame.body))
        return out

    async def wait_closed(self, wait_s: float = DEADLINE_S) -> None:
        await asyncio.wait_for(asyncio.shield(self._reader), wait_s)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


@dataclass
class SeatView:
    """The client algorithm the UI follows: subscribe, snapshot, apply newer deltas, resync on gaps."""

    base_url: str
    topic: str = "/topic/seats"
    snapshot_path: str = "/api/v1/seats"
    seats: dict[int, dict[str, Any]] = field(default_factory=dict)
    sequence: int = 0
    resyncs: int = 0
    reconnects: int = 0
    applied: int = 0
    gaps: int = 0
    alternates: list[str] = field(default_factory=list)
    _client: StompClient | None = None

    current: str = ""

    async def start(self) -> None:
        """Connect; a session the server ends at once (say, told to resync) is reconnected, as the UI does."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                await self._connect(self.base_url)
                return
            except ClosedError:
                await self._drop()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def _connect(self, base_url: str) -> None:
        self.current = base_url
        self._client = await StompClient.connect(ws_url(base_url))
        await self._client.subscribe(destination=self.topic)
        await self._snapshot()

    async def _snapshot(self) -> None:
        async with httpx.AsyncClient(base_url=self.current, timeout=30) as http:
            inventory = (await http.get(self.snapshot_path)).raise_for_status().json()
        self.seats = {s["seatId"]: s for s in inventory["seats"]}
        self.sequence = inventory["sequence"]
        self.resyncs += 1

    def apply(self, event: dict[str, Any]) -> bool:
        """Returns False on a gap (the caller resynchronises)."""
        seq = event["sequence"]
        if seq <= self.sequence:
            return True
        # A topic carries one event's changes: the previous one must be something already seen.
        if event["prevSequence"] > self.sequence:
            self.gaps += 1
            return False
        self.sequence = seq
        known = self.seats.get(event["seatId"])
        if known is None or event["version"] > known["version"]:
            self.seats[event["seatId"]] = without_sequences(event)
            self.applied += 1
        return True

    async def pump(self, until: float) -> None:
        """Apply events until the deadline, reconnecting (to any known instance) when dropped."""
        targets = [self.base_url, *self.alternates]
        while time.monotonic() < until:
            try:
                if self._client is None:
                    await self._connect(targets[self.reconnects % len(targets)])
                assert self._client is not None
                frame = await self._client.next_frame(min(0.2, max(0.01, until - time.monotonic())))
            except TimeoutError:
                continue
            except (ClosedError, OSError, WebSocketException, httpx.HTTPError):
                await self._drop()
                await asyncio.sleep(0.2)
                continue
            if frame.command != "MESSAGE":
                await self._drop()
                continue
            if not self.apply(orjson.loads(frame.body)):
                try:
                    await self._snapshot()
                except httpx.HTTPError:
                    await self._drop()

    async def pump_until(self, done: Callable[[], bool], timeout_s: float = DEADLINE_S, what: str = "") -> None:
        """Apply events (reconnecting as needed) until `done()` holds; fail after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what or done}"
            await self.pump(min(deadline, time.monotonic() + 0.2))

    async def _drop(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = None
        self.reconnects += 1

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def without_sequences(message: dict[str, Any]) -> dict[str, Any]:
    """A MESSAGE body reduced to the seat it describes (what the snapshot lists)."""
    return {k: v for k, v in message.items() if k not in ("sequence", "prevSequence", "areaAvailable")}


def comparable(seat: dict[str, Any]) -> tuple[Any, ...]:
    return (seat["seatId"], seat["status"], seat["version"])
