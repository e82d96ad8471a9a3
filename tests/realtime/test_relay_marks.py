"""A relay with nobody subscribed reads only each outbox row's place and event (no seat decoded, no
message encoded); what it skips so must not cost a later subscriber a message or a true
`prevSequence`, even when the subscription arrives while such a read is in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import orjson
import pytest

from boxoffice.domain import Strategy
from boxoffice.layouts import Layout
from boxoffice.realtime.hub import Hub, Subscription
from boxoffice.realtime.relay import OutboxRelay
from boxoffice.storage import migrate, outbox, seats
from boxoffice.storage.seed import seed
from tests.helpers import until
from tests.support import fresh_database


class Relayed:
    """A hub and its relay on a fresh database, with a subscriber that records what it is sent."""

    def __init__(self, url: str, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.hub = Hub(queue_size=100, max_subscriptions=5, max_connections=5, heartbeat_ms=0, send_timeout_s=5)
        self.relay = OutboxRelay(url, self.hub, poll_s=0.05, batch=100, hole_grace_s=0.05)
        self.sent: list[dict[str, Any]] = []

    async def book(self, seat_id: int) -> int:
        booking = await seats.claim(self.conn, seat_id, f"buyer-{seat_id}", Strategy.ATOMIC)
        self.relay.wake()
        assert booking.sequence is not None
        return booking.sequence

    def subscribe(self) -> None:
        async def send(text: str) -> None:
            self.sent.append(orjson.loads(text.split("\n\n", 1)[1].rstrip("\x00")))

        async def close(code: int) -> None:
            return None

        session = self.hub.open(send, close)
        self.hub.subscribe(session, Subscription("0", "/topic/seats", 1, "auto", 1))

    async def delivered(self, seq: int) -> None:
        await until(lambda: self.relay.cursor >= seq, what=f"the relay past {seq}")


@pytest.fixture
async def relayed() -> AsyncIterator[Relayed]:
    with fresh_database("bo_marks") as url:
        migrate.upgrade(url)
        conn = await asyncpg.connect(url)
        try:
            await seed(conn, Layout.grid(2, 5))
            setup = Relayed(url, conn)
            running = asyncio.create_task(setup.relay.run())
            await until(lambda: setup.relay.ready, what="the relay positioned")
            try:
                yield setup
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                await setup.relay.stop()
                await setup.hub.stop()
        finally:
            await conn.close()


def counting(
    monkeypatch: pytest.MonkeyPatch, name: str, after: Callable[[list[Any]], None] = lambda rows: None
) -> list[int]:
    """Count the rows each call of `outbox.<name>` returns (and pass them to `after`)."""
    calls: list[int] = []
    real = getattr(outbox, name)

    async def wrapped(*args: Any) -> Any:
        rows = await real(*args)
        calls.append(len(rows))
        after(rows)
        return rows

    monkeypatch.setattr(outbox, name, wrapped)
    return calls


async def test_unwatched_changes_are_read_as_marks_and_still_chain_prev_sequence(
    relayed: Relayed, monkeypatch: pytest.MonkeyPatch
) -> None:
    full, marks = counting(monkeypatch, "read_after"), counting(monkeypatch, "marks_after")
    first = await relayed.book(1)
    second = await relayed.book(2)
    await relayed.delivered(second)
    assert sum(marks) == 2 and not any(full), (marks, full)

    relayed.subscribe()
    third = await relayed.book(3)
    await until(lambda: relayed.sent, what="the subscriber's message")
    ((message,),) = [relayed.sent]
    # The subscriber's first message points at the change read as a mark before it subscribed.
    assert (message["seatId"], message["sequence"], message["prevSequence"]) == (3, third, second)
    assert first < second < third and full


async def test_a_subscription_made_during_a_marks_read_gets_those_rows_in_full(
    relayed: Relayed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def subscribe_once_rows_are_read(rows: list[Any]) -> None:
        if rows and not relayed.hub.watching:
            relayed.subscribe()

    marks = counting(monkeypatch, "marks_after", after=subscribe_once_rows_are_read)
    booked = [await relayed.book(seat) for seat in (4, 5, 6)]
    await until(lambda: len(relayed.sent) == 3, what="the three changes")
    assert [(m["seatId"], m["sequence"]) for m in relayed.sent] == list(zip((4, 5, 6), booked, strict=True))
    assert any(marks) and relayed.hub.watching
