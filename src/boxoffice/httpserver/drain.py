"""Draining: on SIGTERM a worker leaves the load balancer's pool before it stops serving.

uvicorn installs its own SIGTERM handler before the app's lifespan starts; `install` wraps it. The
first SIGTERM starts the drain at once (readiness answers 503, every response carries
`Connection: close`, new connections are still served) and hands the signal to uvicorn only
`drain_s` later, which then shuts down gracefully. A repeated SIGTERM does not cut the drain short
(a service manager may signal every process of the group, and uvicorn's supervisor forwards the
signal to each worker as well); SIGINT stops at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("boxoffice.httpserver")


class Drain:
    """This worker's drain state, read by readiness and by the HTTP protocol on every request."""

    def __init__(self) -> None:
        self.started_at: float | None = None

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
    if drain_s <= 0 or not callable(original):
        return

    def stop(sig: int, frame: FrameType | None) -> None:
        log.info("drain_finished drain_s=%s", drain_s)
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
