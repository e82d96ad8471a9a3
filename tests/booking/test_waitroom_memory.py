"""What a process remembers of its waiting visitors stays bounded by the live crowd."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from boxoffice.booking import waitroom
from boxoffice.booking.admission import AdmissionTokens, Aimd
from boxoffice.storage.db import Database


def _row(**fields: Any) -> asyncpg.Record:
    return cast(asyncpg.Record, fields)


def test_visitors_who_stopped_polling_are_forgotten() -> None:
    room = waitroom._Room(
        _row(
            event_id=1,
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
            frontier=-1,
        )
    )
    wr = waitroom.WaitingRoom(cast(Database, object()), lambda: AdmissionTokens(b"k" * 32), tick_s=1.0, aimd=Aimd())
    wr._rooms = {1: room}
    for visitor_id, user in ((1, "gone"), (2, "here")):
        wr._remember(room, _row(id=visitor_id, user_id=user, state="WAITING", rank=10 + visitor_id, joined_at=None))
    assert set(wr._waiting) == {(1, "gone"), (1, "here")}
    wr._waiting[(1, "gone")].present_at = time.monotonic() - 11  # due 11 s ago, never polled since
    wr._prune()
    assert set(wr._waiting) == {(1, "gone"), (1, "here")}, "not yet: at most every PRUNE_EVERY_S"
    wr._pruned_at -= waitroom.PRUNE_EVERY_S
    wr._prune()
    assert set(wr._waiting) == {(1, "here")} and set(wr._by_id) == {2}
