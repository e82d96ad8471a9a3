"""An admission step holds its room's row for its whole transaction; nothing on a visitor's path may
wait for it (a join's foreign-key check locks the same row: with `FOR UPDATE` every join of an
on-sale stalled behind each step, and with them the pool the bookings use)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from boxoffice.domain import WaitingRoomConfig
from boxoffice.storage import waitroom as store
from boxoffice.storage.migrate import upgrade
from tests.support import fresh_database


async def test_a_step_in_progress_holds_up_no_join_and_no_other_leader() -> None:
    with fresh_database("bo_wrlock") as url:
        upgrade(url)
        leader, other = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            started = datetime.now(UTC) - timedelta(minutes=1)
            await store.configure(leader, WaitingRoomConfig(1, True, started, 10, 60, 6, True, 60, 60))
            await store.join(leader, [(1, "early", False)])
            # Without the fix a join waits until the step commits: here it would fail after 2 s.
            await other.execute("SET lock_timeout = '2s'")
            step = leader.transaction()
            await step.start()
            try:
                assert await store.lock_due(leader, 1, 0.0) is not None
                assert len(await store.admit(leader, 1, 1, 60)) == 1
                async with other.transaction():
                    assert await store.lock_due(other, 1, 0.0) is None, "a second leader took the same step"
                joined = await store.join(other, [(1, "during", False)])
                assert [(r["user_id"], r["created"]) for r in joined] == [("during", True)]
            finally:
                await step.commit()
            found = await other.fetch("SELECT user_id, state FROM waitroom_visitors")
            states = {r["user_id"]: r["state"] for r in found}
            assert states == {"early": "ADMITTED", "during": "WAITING"}
        finally:
            await leader.close()
            await other.close()
