"""Seat inventory from a layout, so nobody inserts seats by hand."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

MAX_SEATS = 100_000


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=40)
    rows: int = Field(ge=1, le=500)
    columns: int = Field(ge=1, le=500)


class Layout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sections: list[SectionSpec] = Field(min_length=1, max_length=50)

    @classmethod
    def grid(cls, rows: int, columns: int) -> Layout:
        return cls(sections=[SectionSpec(name="Main", rows=rows, columns=columns)])

    @classmethod
    def from_file(cls, path: Path) -> Layout:
        return cls.model_validate(json.loads(path.read_text()))

    def seat_count(self) -> int:
        return sum(s.rows * s.columns for s in self.sections)


def row_label(index: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: the spreadsheet convention venues use."""
    label = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        label = chr(ord("A") + rem) + label
    return label


def seat_rows(layout: Layout) -> list[tuple[str, str, int, str, int, int]]:
    prefix = len(layout.sections) > 1
    out = []
    for order, section in enumerate(layout.sections):
        for r in range(1, section.rows + 1):
            label = row_label(r)
            for c in range(1, section.columns + 1):
                number = f"{section.name}-{label}{c}" if prefix else f"{label}{c}"
                out.append((number, section.name, order, label, r, c))
    return out


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
