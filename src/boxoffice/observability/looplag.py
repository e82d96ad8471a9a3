"""How late a worker's event loop runs: every request in flight waits that long.

One worker serves thousands of connections on one thread, so anything that holds the thread (a
slow callback, a large synchronous computation, the process starved of CPU) delays every answer at
once; from outside it is a latency spike nobody can place. `event_loop_lag_seconds` samples the
lateness of a timer every `INTERVAL_S`. A watchdog thread notices a loop that has not come back for
`BOXOFFICE_LOOP_STALL_MS` (150 ms; 0 = off) and logs the loop thread's Python stack while the stall
lasts: a stack inside request code names the culprit; one that ends in `run_until_complete` means the
thread was not running Python at all (starved of CPU, or in a system call).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
import traceback

from prometheus_client import Histogram

log = logging.getLogger(__name__)

INTERVAL_S = 0.05
STALL_S = 0.15
STACK_FRAMES = 12

LOOP_LAG = Histogram(
    "event_loop_lag_seconds",
    "How late this worker's event loop ran a timer: the time every request in flight waited behind other work.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class LoopWatch:
    """The sampling task plus the watchdog thread of one event loop."""

    def __init__(self, interval_s: float = INTERVAL_S, stall_s: float = STALL_S) -> None:
        self.interval_s = interval_s
        self.stall_s = stall_s
        self._beat = time.monotonic()
        self._thread_id = 0
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: threading.Thread | None = None

    def start(self) -> None:
        """Start on the running loop (idempotent)."""
        if self._task is not None:
            return
        self._thread_id = threading.get_ident()
        self._beat = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._sample(), name="loop-lag")
        if self.stall_s > 0:
            self._watchdog = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
            self._watchdog.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._watchdog is not None:
            await asyncio.to_thread(self._watchdog.join)

    async def _sample(self) -> None:
        while True:
            due = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self._beat = now
            LOOP_LAG.observe(max(0.0, now - due))

    def _watch(self) -> None:
        """Log each stall once, with the stack it was stuck in when first noticed."""
        reported = 0.0
        while not self._stop.wait(self.stall_s / 3):
            beat = self._beat
            late = time.monotonic() - beat - self.interval_s
            if late < self.stall_s or beat == reported:
                continue
            reported = beat
            frame = sys._current_frames().get(self._thread_id)
            stack = "".join(traceback.format_stack(frame, limit=STACK_FRAMES)) if frame is not None else "(none)\n"
            log.warning("event_loop_stall late_ms=%.0f stack:\n%s", late * 1000, stack.rstrip())
