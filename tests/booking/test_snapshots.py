"""`Fresh`: shared calls that always started after the caller arrived (no database needed)."""

from __future__ import annotations

import asyncio

import pytest

from boxoffice.booking.snapshots import Fresh, Tickets, encode


class Source:
    """Counts calls; each call returns its number and ends when released."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.called = asyncio.Event()

    async def call(self) -> int:
        self.calls += 1
        self.called.set()
        number = self.calls
        await self.release.wait()
        return number


async def test_callers_that_arrive_before_a_call_starts_share_it() -> None:
    tickets = Tickets()
    fresh: Fresh[int] = Fresh(tickets)
    source = Source()
    arrival = tickets.now()
    tasks = [asyncio.create_task(fresh.run(arrival, source.call)) for _ in range(20)]
    await asyncio.sleep(0)
    source.release.set()
    results = await asyncio.gather(*tasks)
    assert source.calls == 1
    assert [value for value, _ in results] == [1] * 20
    assert sum(started for _, started in results) == 1


async def test_a_caller_arriving_during_a_call_gets_the_next_one() -> None:
    tickets = Tickets()
    fresh: Fresh[int] = Fresh(tickets)
    source = Source()
    first = asyncio.create_task(fresh.run(tickets.now(), source.call))
    await source.called.wait()
    assert source.calls == 1 and fresh.busy_before(tickets.now())
    late = [asyncio.create_task(fresh.run(tickets.now(), source.call)) for _ in range(5)]
    await asyncio.sleep(0)
    source.release.set()
    assert (await first)[0] == 1
    late_results = await asyncio.gather(*late)
    # All latecomers share one new call, which started after they arrived.
    assert source.calls == 2 and {value for value, _ in late_results} == {2}
    assert fresh.idle


async def test_a_failed_call_fails_its_sharers_and_the_next_caller_starts_afresh() -> None:
    tickets = Tickets()
    fresh: Fresh[int] = Fresh(tickets)

    async def boom() -> int:
        await asyncio.sleep(0)
        raise RuntimeError("database down")

    arrival = tickets.now()
    results = await asyncio.gather(*(fresh.run(arrival, boom) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    source = Source()
    source.release.set()
    assert await fresh.run(tickets.now(), source.call) == (1, True)


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_call() -> None:
    tickets = Tickets()
    fresh: Fresh[int] = Fresh(tickets)
    source = Source()
    arrival = tickets.now()
    quitter = asyncio.create_task(fresh.run(arrival, source.call))
    stayer = asyncio.create_task(fresh.run(arrival, source.call))
    await asyncio.sleep(0)
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    source.release.set()
    assert (await stayer)[0] == 1 and source.calls == 1


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
def test_encodings_round_trip(coding: str) -> None:
    import gzip

    import brotli

    body = b'{"seats":[' + b'{"status":"AVAILABLE"},' * 1000 + b"{}]}"
    packed = encode(body, coding)  # type: ignore[arg-type]
    decoded = brotli.decompress(packed) if coding == "br" else gzip.decompress(packed) if coding == "gzip" else packed
    assert decoded == body
