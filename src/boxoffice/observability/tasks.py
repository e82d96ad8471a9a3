"""Supervised background tasks: each survives any exception, backs off, and can be seen doing so.

A task's body is a coroutine function that runs until cancelled (a loop) or returns once its work
is done (bootstrap). When it raises, the supervisor logs it (with the traceback the first time a
kind of failure appears in a row), counts it in `background_task_errors_total{task}`, waits
(capped exponential backoff, reset once a run lasted longer than the cap) and runs it again. A
body may wait for a gate first, e.g. the schema being migrated. `statuses()` is what health shows:
each task's state, how often it failed and the class of its last error, never the error's text
(which can name hosts and addresses).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boxoffice.observability import metrics

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0

Body = Callable[[], Awaitable[None]]


class TaskState(enum.StrEnum):
    WAITING = "WAITING"
    """For its gate (e.g. the schema)."""
    RUNNING = "RUNNING"
    BACKOFF = "BACKOFF"
    """Failed; runs again after a pause."""
    DONE = "DONE"
    """Its work is finished (bootstrap)."""


@dataclass
class TaskStatus:
    name: str
    state: TaskState = TaskState.WAITING
    errors: int = 0
    last_error: str | None = None
    """Exception class only."""
    last_error_at: datetime | None = None
    _last_kind: type[BaseException] | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state.value, "errors": self.errors}
        if self.last_error is not None:
            out["lastError"] = self.last_error
            out["lastErrorAt"] = self.last_error_at
        return out


class Supervisor:
    """Starts, restarts and stops this process's background tasks; one place for their failure policy."""

    def __init__(self, *, backoff_min_s: float = BACKOFF_MIN_S, backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._statuses: dict[str, TaskStatus] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(
        self, name: str, body: Body, *, gate: asyncio.Event | None = None, backoff_max_s: float | None = None
    ) -> TaskStatus:
        """Run `body` under supervision once `gate` is set; `name` must be one of `metrics.BACKGROUND_TASKS`
        (a label value). `backoff_max_s` caps this task's pause between attempts (default: the supervisor's)."""
        assert name in metrics.BACKGROUND_TASKS, name
        assert name not in self._statuses, f"task {name} already started"
        status = self._statuses[name] = TaskStatus(name)
        cap = self._backoff_max_s if backoff_max_s is None else backoff_max_s
        supervised = self._supervise(status, body, gate, cap)
        task = asyncio.get_running_loop().create_task(supervised, name=f"boxoffice-{name}")
        self._tasks.append(task)
        return status

    def statuses(self) -> list[TaskStatus]:
        return list(self._statuses.values())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _supervise(self, status: TaskStatus, body: Body, gate: asyncio.Event | None, cap: float) -> None:
        if gate is not None:
            await gate.wait()
        delay = self._backoff_min_s
        while True:
            status.state = TaskState.RUNNING
            started = time.monotonic()
            try:
                await body()
            except Exception as exc:
                if time.monotonic() - started >= cap:
                    # It had been working: a fresh failure, not a crash loop.
                    delay = self._backoff_min_s
                    status._last_kind = None
                self._failed(status, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)
                continue
            status.state = TaskState.DONE
            return

    def _failed(self, status: TaskStatus, exc: Exception, delay: float) -> None:
        new_kind = type(exc) is not status._last_kind
        status.state = TaskState.BACKOFF
        status.errors += 1
        status.last_error = type(exc).__name__
        status.last_error_at = datetime.now(UTC)
        status._last_kind = type(exc)
        metrics.BACKGROUND_TASK_ERRORS.labels(status.name).inc()
        log.warning(
            "background_task_failed task=%s errors=%s retry_in_s=%.2f error=%s",
            status.name,
            status.errors,
            delay,
            _describe(exc),
            exc_info=exc if new_kind else None,
        )


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:300]
