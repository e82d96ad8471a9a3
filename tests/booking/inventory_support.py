"""Shared by the inventory suites: a server with the admin API, events made from layouts, checks on rows."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers import rows
from tests.shared import ADMIN_TOKEN
from tests.support import LOAD_LIMITS_OFF, Setting

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PRESALE_KEY = "presale-key-" + "p" * 12
INVENTORY: dict[str, Setting] = {
    **LOAD_LIMITS_OFF,
    "admin_token": ADMIN_TOKEN,
    "seed_rows": 2,
    "seed_cols": 2,
    "db_pool_max": 10,
    "db_acquire_timeout_s": 20,
    "hold_ttl_s": 60,
    "hold_sweep_interval_s": 0,
}


def event_spec(sections: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "slug": f"inv-{uuid.uuid4().hex[:10]}",
        "name": "Inventory test",
        "venue": "Hall",
        "categories": {"STD": {"priceCents": 1000}, "VIP": {"priceCents": 5000}, "GA": {"priceCents": 500}},
        "channels": {"presale": {"key": PRESALE_KEY}},
        "sections": sections,
    }
    spec.update(overrides)
    return spec


async def create_event(client: httpx.AsyncClient, sections: list[dict[str, Any]], **overrides: Any) -> int:
    r = await client.post("/api/v1/admin/events", json=event_spec(sections, **overrides), headers=ADMIN)
    assert r.status_code == 201, r.text
    event_id: int = r.json()["eventId"]
    return event_id


def seat_ids(database_url: str, event_id: int) -> dict[str, int]:
    """Seat number -> id."""
    return {
        r["seat_number"]: r["id"]
        for r in rows(database_url, "SELECT id, seat_number FROM seats WHERE event_id = %s", event_id)
    }


def positions(database_url: str, ids: list[int]) -> list[tuple[str, int, int]]:
    found = rows(database_url, "SELECT section, row_idx, col_idx FROM seats WHERE id = ANY(%s) ORDER BY col_idx", ids)
    return [(r["section"], r["row_idx"], r["col_idx"]) for r in found]


def adjacent(database_url: str, ids: list[int]) -> bool:
    """One row, consecutive columns."""
    pos = positions(database_url, ids)
    return len({(s, r) for s, r, _ in pos}) == 1 and [c for _, _, c in pos] == list(
        range(pos[0][2], pos[0][2] + len(pos))
    )


def orphans(database_url: str, event_id: int) -> list[str]:
    """Free seats whose both neighbours in the row are taken (booked, live hold or blocked)."""
    found = rows(
        database_url,
        """
        WITH st AS (
            SELECT id, seat_number, section, row_idx, col_idx,
                   NOT (blocked IS NULL AND (status = 'AVAILABLE'
                        OR (status = 'HELD' AND held_until < clock_timestamp()))) AS taken
              FROM seats WHERE event_id = %s AND kind = 'SEAT'
        )
        SELECT s.seat_number FROM st s
          JOIN st l ON l.section = s.section AND l.row_idx = s.row_idx AND l.col_idx = s.col_idx - 1
          JOIN st r ON r.section = s.section AND r.row_idx = s.row_idx AND r.col_idx = s.col_idx + 1
         WHERE NOT s.taken AND l.taken AND r.taken
        """,
        event_id,
    )
    return [r["seat_number"] for r in found]
