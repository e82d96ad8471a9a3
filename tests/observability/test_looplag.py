"""A blocked event loop shows in the lag histogram, and the watchdog logs where it was stuck."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from boxoffice.observability import looplag
from tests.helpers import until


def _lag() -> tuple[float, float]:
    """(count, sum) of the lag histogram so far."""
    count = total = 0.0
    for metric in looplag.LOOP_LAG.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
    return count, total


def hold_the_loop_for(seconds: float) -> None:
    time.sleep(seconds)  # what a synchronous call on the request path does to every other request


@contextlib.asynccontextmanager
async def watching(watch: looplag.LoopWatch, caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    with caplog.at_level(logging.WARNING, logger="boxoffice.observability.looplag"):
        watch.start()
        try:
            yield
        finally:
            await watch.stop()


async def test_a_blocked_loop_is_measured_and_its_stack_logged(caplog: pytest.LogCaptureFixture) -> None:
    count, total = _lag()
    async with watching(looplag.LoopWatch(interval_s=0.01, stall_s=0.1), caplog):
        await asyncio.sleep(0.05)
        hold_the_loop_for(0.4)
        await until(lambda: _lag()[1] - total >= 0.3, what="the stall in the histogram", interval_s=0.01)
    assert _lag()[0] > count
    stalls = [r.getMessage() for r in caplog.records if "event_loop_stall" in r.getMessage()]
    # One stall, logged once however many watchdog checks it lasted (a busy machine may add others).
    assert len([s for s in stalls if "hold_the_loop_for" in s]) == 1, stalls


async def test_a_free_loop_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    count, _ = _lag()
    async with watching(looplag.LoopWatch(interval_s=0.01, stall_s=2.0), caplog):
        await until(lambda: _lag()[0] >= count + 5, what="the sampler running", interval_s=0.01)
    assert not [r for r in caplog.records if "event_loop_stall" in r.getMessage()]
