"""Draining: on SIGTERM a worker leaves the load balancer's pool before it stops serving, and every
request that still reaches it gets an answer, never a reset.

uvicorn installs its own SIGTERM handler before the app's lifespan starts; `install` wraps it. The
first SIGTERM starts the drain at once (readiness answers 503, every response carries
`Connection: close`, new connections are still served). `drain_s` later the drain closes: the worker
stops listening (`stop_listening`), every request from then on is refused with 503 and
`Connection: close` until its connection closes (`protocol.py`), and uvicorn's handler runs, which
shuts down gracefully. `drain_s = 0` closes at once. A repeated SIGTERM does not cut the drain short
(a service manager may signal every process of the group, and uvicorn's supervisor forwards the
signal to each worker as well); SIGINT stops at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

log = logging.getLogger("boxoffice.httpserver")


class Drain:
    """This worker's drain state, read by readiness and by the HTTP protocol on every request."""

    def __init__(self) -> None:
        self.started_at: float | None = None
        self.closing = False
        """The drain is over: the worker no longer listens, and refuses every request (503) until
        the request's connection closes."""

    @property
    def active(self) -> bool:
        return self.started_at is not None

    def begin(self) -> None:
        if self.started_at is None:
            self.started_at = time.monotonic()


DRAIN = Drain()


def install(drain_s: float, loop: asyncio.AbstractEventLoop, on_begin: Callable[[], None]) -> None:
    """Wrap the current SIGTERM handler (uvicorn's) so that it runs `drain_s` after the signal;
    `on_begin` runs on the loop when the drain starts."""
    original = signal.getsignal(signal.SIGTERM)
    if not callable(original):
        return
    server = getattr(original, "__self__", None)  # the uvicorn.Server whose `handle_exit` it is

    def stop(sig: int, frame: FrameType | None) -> None:
        DRAIN.closing = True
        taken = stop_listening(server, loop) if isinstance(server, uvicorn.Server) else 0
        log.info("drain_finished drain_s=%s queued_connections_taken=%d", drain_s, taken)
        original(sig, frame)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if DRAIN.active:
            return  # already draining (e.g. the supervisor forwarding the same SIGTERM)
        DRAIN.begin()
        # A signal handler may interrupt the loop anywhere: only hand work to it thread-safely.
        loop.call_soon_threadsafe(_start, loop, drain_s, stop, sig, on_begin, context=contextvars.Context())

    signal.signal(signal.SIGTERM, on_sigterm)


def _start(
    loop: asyncio.AbstractEventLoop,
    drain_s: float,
    stop: Callable[[int, FrameType | None], None],
    sig: int,
    on_begin: Callable[[], None],
) -> None:
    log.info("drain_started drain_s=%s", drain_s)
    on_begin()
    loop.call_later(drain_s, stop, sig, None, context=contextvars.Context())


_ADOPTING: set[asyncio.Task[None]] = set()


def stop_listening(server: uvicorn.Server, loop: asyncio.AbstractEventLoop) -> int:
    """Close this worker's listening sockets, first taking every connection the kernel already queued
    on them; returns how many it took.

    The kernel completes a client's handshake before the server accepts it, and when the last
    descriptor of a listening socket closes it resets every connection still queued: a client that
    sent its request gets a reset instead of an answer. So each socket is held open by a duplicate
    descriptor while uvicorn's server stops accepting, then the queue is emptied and the duplicate
    closed in one step of the loop: only a handshake completing in the microseconds between the last
    accept and the close can still be reset. Each connection taken is served
    by the HTTP protocol, which refuses its request with 503 now that the drain is over. A socket
    other workers still hold stays open for them until they close it the same way; the supervisor
    lets go of its own when it stops the workers (`run.py`).
    """
    config = server.config

    def protocol() -> asyncio.Protocol:
        return config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=server.server_state, app_state=server.lifespan.state, _loop=loop
        )

    taken = 0
    for listener in getattr(server, "servers", ()):
        spares = [socket.socket(fileno=os.dup(sock.fileno())) for sock in listener.sockets]
        listener.close()
        for spare in spares:
            with spare:
                spare.setblocking(False)
                while True:
                    try:
                        connection, _ = spare.accept()
                    except OSError:  # none left (EAGAIN), or no descriptor for it: the kernel resets the rest
                        break
                    taken += 1
                    task = loop.create_task(_adopt(loop, protocol, connection), context=contextvars.Context())
                    _ADOPTING.add(task)
                    task.add_done_callback(_ADOPTING.discard)
    return taken


async def _adopt(
    loop: asyncio.AbstractEventLoop, protocol: Callable[[], asyncio.Protocol], connection: socket.socket
) -> None:
    connection.setblocking(False)
    try:
        await loop.connect_accepted_socket(protocol, connection)
    except OSError:
        connection.close()  # gone already
