"""Seat inventory from a layout, so nobody inserts seats by hand."""

from __future__ import annotations

import asyncpg

from boxoffice.layouts import MAX_SEATS, Layout, seat_rows


async def seed(conn: asyncpg.Connection, layout: Layout, *, reset: bool = False) -> int:
    """Insert the layout's seats if there are none (or after `reset`); returns seats inserted."""
    if layout.seat_count() > MAX_SEATS:
        raise ValueError(f"layout has {layout.seat_count()} seats; the limit is {MAX_SEATS}")
    async with conn.transaction():
        # Serialise concurrent seeders (several instances starting at once).
        await conn.execute("LOCK TABLE seats IN EXCLUSIVE MODE")
        if reset:
            await conn.execute("TRUNCATE seat_events, bookings, seats RESTART IDENTITY")
        elif await conn.fetchval("SELECT EXISTS (SELECT 1 FROM seats WHERE event_id = 1)"):
            return 0
        rows = seat_rows(layout)
        await conn.copy_records_to_table(
            "seats",
            records=rows,
            columns=["seat_number", "section", "section_order", "row_label", "row_idx", "col_idx"],
        )
        return len(rows)
