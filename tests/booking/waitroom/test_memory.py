"""What a process remembers of its waiting visitors stays bounded by the live crowd."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from boxoffice.booking.waitroom.memory import PRUNE_EVERY_S, VisitorMemory
from boxoffice.booking.waitroom.rooms import Room


def _row(**fields: Any) -> asyncpg.Record:
    return cast(asyncpg.Record, fields)


def _room(event_id: int, frontier: int = -1) -> Room:
    return Room(
        _row(
            event_id=event_id,
            enabled=True,
            starts_at=datetime.now(UTC),
            max_active=10,
            per_minute=60,
            min_per_minute=6,
            adaptive=False,
            hold_s=10,
            admission_ttl_s=60,
            rate_per_minute=60.0,
            waiting=2,
            active=0,
            admitted_total=0,
            revoked_before=None,
            frontier=frontier,
        )
    )


def _waiting(visitor_id: int, user: str, rank: int) -> asyncpg.Record:
    return _row(id=visitor_id, user_id=user, state="WAITING", rank=rank, joined_at=None)


def test_visitors_who_stopped_polling_are_forgotten() -> None:
    room = _room(1)
    memory = VisitorMemory()
    for visitor_id, user in ((1, "gone"), (2, "here")):
        memory.remember(room, _waiting(visitor_id, user, 10 + visitor_id))
    assert set(memory._waiting) == {(1, "gone"), (1, "here")}
    memory._waiting[(1, "gone")].present_at = time.monotonic() - 11  # due 11 s ago, never polled since
    memory.prune({1: room})
    assert set(memory._waiting) == {(1, "gone"), (1, "here")}, "not yet: at most every PRUNE_EVERY_S"
    memory._pruned_at -= PRUNE_EVERY_S
    memory.prune({1: room})
    assert set(memory._waiting) == {(1, "here")} and set(memory._by_id) == {2}


def test_a_visitor_is_answered_from_memory_only_above_the_frontier_and_while_waiting() -> None:
    memory = VisitorMemory()
    memory.remember(_room(1), _waiting(7, "u", rank=50))
    waiting = memory.recall(_room(1, frontier=49), "u")
    assert waiting is not None and not memory._present, "its presence is not due yet"
    waiting.present_at = time.monotonic() - 1
    assert memory.recall(_room(1, frontier=49), "u") is not None and memory._present == {7}
    assert memory.recall(_room(1, frontier=50), "u") is None, "ranked at the frontier: may have been admitted"
    memory.remember(_room(1), _row(id=7, user_id="u", state="ADMITTED", rank=50, joined_at=None))
    assert memory.recall(_room(1), "u") is None and not memory._by_id and not memory._present
