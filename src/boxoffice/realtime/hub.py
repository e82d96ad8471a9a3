"""Sessions, subscriptions and bounded per-client send queues.

`Hub.publish` runs on the relay's task and never awaits: it appends pre-encoded frames to each
subscriber's bounded queue and each session's own writer task drains it. A client that cannot
keep up overflows its queue and is disconnected (it resynchronises on reconnect) instead of
slowing the relay, the booking path or other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from boxoffice.observability.metrics import WS_MESSAGES_DROPPED, WS_MESSAGES_SENT, WS_REFUSED, WS_SESSIONS
from boxoffice.realtime.stomp import error_frame, escape

log = logging.getLogger("boxoffice.realtime")

# Close codes (RFC 6455): protocol error, policy violation, message too big, try again later.
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL = 1002
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013

SendText = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox row, encoded once and shared by every subscriber's MESSAGE frame."""

    seq: int
    event_id: int
    tail: str
    """`\\ncontent-length:N\\n\\n<json>\\0`: everything after the per-subscription headers."""

    @classmethod
    def from_json(cls, seq: int, event_id: int, body: bytes) -> Event:
        return cls(seq, event_id, f"\ncontent-length:{len(body)}\n\n{body.decode()}\x00")


class Subscription:
    __slots__ = ("_head", "_mid_suffix", "ack", "destination", "event_id", "id")

    def __init__(self, sub_id: str, destination: str, event_id: int, ack: str, number: int) -> None:
        self.id = sub_id
        self.destination = destination
        self.event_id = event_id
        self.ack = ack
        self._head = (
            f"MESSAGE\nsubscription:{escape(sub_id)}\ndestination:{escape(destination)}"
            "\ncontent-type:application/json\nmessage-id:"
        )
        self._mid_suffix = f"-{number}"

    def message(self, event: Event) -> str:
        mid = f"{event.seq}{self._mid_suffix}"
        if self.ack == "auto":
            return self._head + mid + event.tail
        return self._head + mid + "\nack:" + mid + event.tail


class Session:
    """One WebSocket connection's outbound side: a bounded FIFO and the task that drains it."""

    __slots__ = (
        "_close",
        "_closing",
        "_hub",
        "_queue",
        "_send",
        "_wake",
        "ack_credit",
        "address",
        "budget",
        "budget_at",
        "connected",
        "created",
        "id",
        "last_recv",
        "last_send",
        "on_abort",
        "recv_interval",
        "send_interval",
        "sending_since",
        "stalled",
        "subscriptions",
        "writer",
    )

    def __init__(self, hub: Hub, session_id: str, send: SendText, close: CloseSocket, address: str) -> None:
        loop = asyncio.get_running_loop()
        self._hub = hub
        self.id = session_id
        self.address = address
        # Inbound frame budget (a token bucket) and the ACKs owed for messages delivered in client ack modes.
        self.budget = float(hub.frame_burst)
        self.budget_at = loop.time()
        self.ack_credit = 0
        self._send = send
        self._close = close
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._closing: int | None = None
        self.connected = False
        self.created = self.last_recv = self.last_send = loop.time()
        self.send_interval = 0.0
        self.recv_interval = 0.0
        self.subscriptions: dict[str, Subscription] = {}
        self.on_abort: Callable[[], None] | None = None
        self.sending_since = 0.0
        self.stalled = False
        self.writer = loop.create_task(self._write_loop())

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def offer(self, frame: str) -> None:
        """Queue a frame without waiting; a full queue disconnects the slow consumer."""
        if self._closing is not None:
            return
        if len(self._queue) >= self._hub.queue_size:
            WS_MESSAGES_DROPPED.labels(reason="slow_consumer").inc(len(self._queue) + 1)
            log.info("ws session=%s slow consumer: queue full, disconnecting", self.id)
            self.fail("slow consumer: send queue overflowed; reconnect and resynchronise", CLOSE_TRY_AGAIN)
            return
        self._queue.append(frame)
        self._wake.set()

    def spend(self, frames: int, acks: int, now: float) -> bool:
        """Charge one inbound WebSocket message carrying `frames` frames, `acks` of them ACK/NACK.

        ACKs of messages this session was sent are free (a client-ack subscriber on a busy event
        acknowledges every message); everything else draws on a bucket refilled at the hub's rate.
        False once the client sends faster than that.
        """
        free = min(acks, self.ack_credit)
        self.ack_credit -= free
        rate = self._hub.frames_per_s
        self.budget = min(float(self._hub.frame_burst), self.budget + (now - self.budget_at) * rate)
        self.budget_at = now
        # A message without a frame (heart-beat EOLs, a partial frame) still costs one.
        self.budget -= frames - free if frames else 1
        return self.budget >= 0

    def heartbeat(self) -> None:
        if not self._queue and self._closing is None:
            self._queue.append("\n")
            self._wake.set()

    def fail(self, message: str, code: int, detail: str = "", receipt_id: str | None = None) -> None:
        """Drop what is queued, send ERROR, then close (STOMP: ERROR is always followed by close)."""
        if self._closing is not None:
            return
        self._queue.clear()
        self._queue.append(error_frame(message, detail, receipt_id).decode())
        self._closing = code
        self._hub.unsubscribe_all(self)
        self._wake.set()

    def finish(self) -> None:
        """Close once everything queued so far (e.g. the DISCONNECT receipt) has been sent."""
        if self._closing is None:
            self._closing = CLOSE_NORMAL
            self._hub.unsubscribe_all(self)
            self._wake.set()

    def stall(self) -> None:
        """Called by the hub's watchdog when one send has been blocked for too long."""
        if not self.writer.done():
            self.stalled = True
            self.writer.cancel()

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        try:
            while True:
                if not queue:
                    if self._closing is not None:
                        break
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                sent = 0
                while queue:
                    frame = queue.popleft()
                    # No per-send timer: the hub's tick watches `sending_since` for every session.
                    self.sending_since = loop.time()
                    await self._send(frame)
                    sent += frame.startswith("MESSAGE")
                self.sending_since = 0.0
                self.last_send = loop.time()
                if sent:
                    WS_MESSAGES_SENT.inc(sent)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.stalled or task is None:
                raise
            task.uncancel()
            # The peer stopped reading and the transport's buffer stayed full.
            log.info("ws session=%s send blocked too long; dropping the connection", self.id)
            WS_MESSAGES_DROPPED.labels(reason="send_timeout").inc(len(queue) + 1)
            self._closing = CLOSE_TRY_AGAIN
            queue.clear()
        except Exception:  # the peer is gone: nothing left to tell it
            self._closing = self._closing or CLOSE_NORMAL
            queue.clear()
        self.sending_since = 0.0
        self._hub.unsubscribe_all(self)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._hub.send_timeout_s):
                await self._close(self._closing or CLOSE_NORMAL)
        if self.on_abort is not None:
            self.on_abort()


class Hub:
    """Every session of this process, and the fan-out of seat events to subscribers."""

    def __init__(
        self,
        *,
        queue_size: int,
        max_subscriptions: int,
        max_connections: int,
        heartbeat_ms: int,
        send_timeout_s: float,
        connect_timeout_s: float = 10.0,
        max_per_address: int = 0,
        frames_per_s: int = 50,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self.queue_size = queue_size
        self.max_subscriptions = max_subscriptions
        self.max_connections = max_connections
        self.max_per_address = max_per_address
        self.frames_per_s = frames_per_s
        self.frame_burst = 2 * frames_per_s
        self.idle_timeout_s = idle_timeout_s
        self._per_address: dict[str, int] = {}
        self.heartbeat_ms = heartbeat_ms
        self.send_timeout_s = send_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.sessions: set[Session] = set()
        # Insertion-ordered set of sessions holding at least one subscription.
        self._subscribers: dict[Session, None] = {}
        # Event id -> sessions subscribed to it: a change is offered only to its event's subscribers.
        self._by_event: dict[int, dict[Session, None]] = {}
        self.token = secrets.token_hex(4)
        self._ids = itertools.count(1)
        self._ticker: asyncio.Task[None] | None = None

    @property
    def full(self) -> bool:
        return len(self.sessions) >= self.max_connections

    def address_full(self, address: str) -> bool:
        """This client address already has its share of this process's connections."""
        return bool(self.max_per_address) and self._per_address.get(address, 0) >= self.max_per_address

    def open(self, send: SendText, close: CloseSocket, address: str = "") -> Session:
        session = Session(self, f"{self.token}-{next(self._ids)}", send, close, address)
        self.sessions.add(session)
        self._per_address[address] = self._per_address.get(address, 0) + 1
        WS_SESSIONS.inc()
        return session

    def discard(self, session: Session) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
            WS_SESSIONS.dec()
            left = self._per_address[session.address] - 1
            if left:
                self._per_address[session.address] = left
            else:
                del self._per_address[session.address]
        self.unsubscribe_all(session)

    def subscribe(self, session: Session, sub: Subscription) -> None:
        session.subscriptions[sub.id] = sub
        self._subscribers[session] = None
        self._by_event.setdefault(sub.event_id, {})[session] = None

    def unsubscribe(self, session: Session, sub_id: str) -> bool:
        sub = session.subscriptions.pop(sub_id, None)
        if sub is None:
            return False
        if not any(s.event_id == sub.event_id for s in session.subscriptions.values()):
            self._forget(session, sub.event_id)
        if not session.subscriptions:
            self._subscribers.pop(session, None)
        return True

    def unsubscribe_all(self, session: Session) -> None:
        for event_id in {s.event_id for s in session.subscriptions.values()}:
            self._forget(session, event_id)
        session.subscriptions.clear()
        self._subscribers.pop(session, None)

    def _forget(self, session: Session, event_id: int) -> None:
        sessions = self._by_event.get(event_id)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self._by_event[event_id]

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def watching(self) -> bool:
        """Someone in this process is subscribed to some event's changes."""
        return bool(self._by_event)

    def watches(self, event_id: int) -> bool:
        return event_id in self._by_event

    def publish(self, events: Iterable[Event]) -> None:
        """Fan out in sequence order; never awaits, so no client can stall the caller."""
        by_event: dict[int, list[Event]] = {}
        for event in events:
            by_event.setdefault(event.event_id, []).append(event)
        for event_id, batch in by_event.items():
            for session in list(self._by_event.get(event_id, ())):
                for sub in list(session.subscriptions.values()):
                    if sub.event_id == event_id:
                        if sub.ack != "auto":
                            session.ack_credit += len(batch)
                        for event in batch:
                            session.offer(sub.message(event))

    def reset(self) -> None:
        """The outbox was reset: sequence numbers restart, so every subscriber must resnapshot."""
        for session in list(self._subscribers):
            session.fail("seat data was reset; reconnect and resynchronise", CLOSE_TRY_AGAIN)

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for session in list(self.sessions):
            session.fail("server shutting down", CLOSE_TRY_AGAIN)

    async def _tick_loop(self) -> None:
        """One timer for all sessions: idle connections cost no per-connection timers."""
        loop = asyncio.get_running_loop()
        base = self.heartbeat_ms / 1000 if self.heartbeat_ms else 10.0
        interval = max(0.02, min(base / 4, self.send_timeout_s / 4, 1.0))
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for session in list(self.sessions):
                if session.sending_since and now - session.sending_since > self.send_timeout_s:
                    session.stall()
                if session.closing:
                    continue
                if not session.connected:
                    if now - session.created > self.connect_timeout_s:
                        session.fail("no CONNECT frame in time", CLOSE_POLICY)
                    continue
                # Heart-beats may be off (0): a connection that listens to nothing and says nothing
                # is still closed, so idle sockets cannot pile up.
                if not session.subscriptions and now - session.last_recv > self.idle_timeout_s:
                    WS_REFUSED.labels("idle").inc()
                    session.fail(
                        f"idle: no subscription and nothing received for {self.idle_timeout_s:g}s", CLOSE_POLICY
                    )
                    continue
                if session.send_interval and now - session.last_send >= session.send_interval:
                    session.heartbeat()
                # Tolerate one missed beat plus scheduling noise before calling the peer dead.
                if session.recv_interval and now - session.last_recv > 2 * session.recv_interval + interval:
                    session.fail("heart-beat timeout: nothing received from the client", CLOSE_POLICY)
