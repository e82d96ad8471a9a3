"""The supervisor in-process: gates, retries with backoff, counts, and shows only error classes."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from boxoffice.observability import metrics  # noqa: F401  (registers the counter read below)
from boxoffice.observability.tasks import Supervisor, TaskState


def errors(task: str) -> float:
    return REGISTRY.get_sample_value("background_task_errors_total", {"task": task}) or 0.0


async def test_a_failing_body_is_retried_until_it_finishes(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor(backoff_min_s=0.01, backoff_max_s=0.05)
    gate = asyncio.Event()
    attempts: list[int] = []
    finished = asyncio.Event()

    async def body() -> None:
        attempts.append(1)
        if len(attempts) <= 3:
            raise ConnectionError(f"secret-host-{len(attempts)}:5432 refused")
        finished.set()

    before = errors("bootstrap")
    with caplog.at_level(logging.WARNING, logger="boxoffice.observability.tasks"):
        status = supervisor.start("bootstrap", body, gate=gate)
        await asyncio.sleep(0.05)
        assert status.state is TaskState.WAITING and not attempts  # nothing runs before its gate opens
        gate.set()
        await asyncio.wait_for(finished.wait(), 10)
        await asyncio.sleep(0)
    try:
        assert len(attempts) == 4
        assert status.json()["state"] == "DONE" and status.errors == 3
        assert errors("bootstrap") - before == 3
        shown = status.json()
        assert shown["lastError"] == "ConnectionError" and "secret-host" not in str(shown)
        failures = [r for r in caplog.records if "background_task_failed" in r.getMessage()]
        assert len(failures) == 3
        assert [r.exc_info is not None for r in failures] == [True, False, False]  # one traceback per kind
    finally:
        await supervisor.stop()


async def test_stop_cancels_running_and_waiting_tasks() -> None:
    supervisor = Supervisor()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    supervisor.start("relay", forever)
    waiting = supervisor.start("sweeper", forever, gate=asyncio.Event())
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.wait_for(supervisor.stop(), 10)
    assert waiting.state is TaskState.WAITING
    assert {s.name for s in supervisor.statuses()} == {"relay", "sweeper"}
