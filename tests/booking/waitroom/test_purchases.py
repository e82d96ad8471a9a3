"""Ending admissions after purchases: a store that fails never reaches the buyer's answer; the failure
is counted, retried at the next ticks and given up after a few attempts (the slot then frees when
the admission expires). The success path runs against a real server in tests/api/test_waiting_room.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from prometheus_client import REGISTRY

from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.booking.waitroom.memory import VisitorMemory
from boxoffice.booking.waitroom.purchases import ATTEMPTS, Purchases
from boxoffice.domain import DatabaseUnavailable
from boxoffice.storage.db import Database
from tests.helpers import until


class _Down:
    """A store that cannot be reached."""

    def __init__(self) -> None:
        self.calls = 0

    @asynccontextmanager
    async def connection(self, *, writes: bool = False) -> AsyncIterator[Any]:
        self.calls += 1
        raise DatabaseUnavailable("the store is down")
        yield  # pragma: no cover


def _failures() -> float:
    return REGISTRY.get_sample_value("waitroom_purchase_end_failures_total") or 0.0


async def test_a_failed_end_is_counted_retried_then_given_up() -> None:
    down = _Down()
    db = cast(Database, down)
    cache = RoomCache(db, VisitorMemory())
    cache.gated = frozenset({7})
    purchases = Purchases(db, cache)
    before = _failures()
    purchases.bought([(7, "alice"), (8, "bob")])  # event 8 is not gated: nothing to end
    # Until written, this process already refuses alice's token for event 7.
    assert purchases.ending(7, "alice") and not purchases.ending(8, "bob")
    await until(lambda: _failures() == before + 1, what="the background write to fail")
    assert down.calls == 1 and purchases.ending(7, "alice")  # kept for the next tick
    for _ in range(ATTEMPTS - 2):
        assert not await purchases.flush()
        assert purchases.ending(7, "alice")
    assert not await purchases.flush()
    assert not purchases.ending(7, "alice") and purchases.pending == 0  # given up: it expires as before
    assert _failures() == before + ATTEMPTS and down.calls == ATTEMPTS
    assert await purchases.flush()  # nothing left to write
