"""The hold sweeper: lapsed holds become AVAILABLE rows and outbox events, so subscribers see them lapse."""

from __future__ import annotations

import httpx

from tests.helpers import assert_consistent, rows, wait_for
from tests.shared import CHECKOUT_SEATS
from tests.support import ServerFactory

SWEEP = {**CHECKOUT_SEATS, "hold_ttl_s": 1, "hold_sweep_interval_s": 0.2}


def hold_then_wait_for_the_sweep(base_url: str, database_url: str, seat_ids: list[int]) -> None:
    """Hold the seats and wait (generously) until the sweeper has released them."""
    r = httpx.post(f"{base_url}/api/v1/holds", json={"seatIds": seat_ids, "userId": "sweep"}, timeout=30)
    assert r.status_code == 201, r.text
    wait_for(
        lambda: (
            {s["status"] for s in rows(database_url, "SELECT status FROM seats WHERE id = ANY(%s)", seat_ids)}
            == {"AVAILABLE"}
        ),
        what="the sweeper to release the lapsed hold",
    )


def test_sweeper_releases_lapsed_holds_into_the_outbox(server_factory: ServerFactory) -> None:
    url = server_factory.database("bo_sweep")
    server = server_factory(database_url=url, settings=SWEEP)
    hold_then_wait_for_the_sweep(server.base_url, url, [60, 61])
    state = rows(url, "SELECT status, version FROM seats WHERE id IN (60, 61)")
    assert [s["version"] for s in state] == [2, 2]
    # The release reached the outbox, so the realtime relay broadcasts it.
    events = rows(url, "SELECT seat_id, version FROM seat_events WHERE seat_id IN (60, 61) ORDER BY seq")
    assert sorted((e["seat_id"], e["version"]) for e in events) == [(60, 1), (60, 2), (61, 1), (61, 2)]
    assert_consistent(url)
