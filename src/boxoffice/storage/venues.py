"""Events and their seat maps, created from a layout (file or admin API) in one transaction."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from boxoffice.storage.seed import MAX_SEATS, row_label

Label = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")]
MAX_PRICE_CENTS = 100_000_000


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priceCents: int = Field(ge=0, le=MAX_PRICE_CENTS)


class Section(BaseModel):
    """A rectangular block; rows are lettered A, B, ... and seats numbered 1..columns."""

    model_config = ConfigDict(extra="forbid")
    name: Label
    rows: int = Field(ge=1, le=500)
    columns: int = Field(ge=1, le=500)
    category: Label | None = None
    rowCategories: dict[Label, Label] = Field(default_factory=dict, max_length=500)
    """Row label -> category, overriding the section's (e.g. the first rows are premium)."""


class EventSpec(BaseModel):
    """The layout file / admin API body: one event at one venue with its seat map."""

    model_config = ConfigDict(extra="forbid")
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    venue: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    startsAt: datetime | None = None
    categories: dict[Label, Category] = Field(default_factory=dict, max_length=50)
    sections: list[Section] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> EventSpec:
        names = [s.name for s in self.sections]
        if len(set(names)) != len(names):
            raise ValueError("section names must be unique")
        seats = sum(s.rows * s.columns for s in self.sections)
        if seats > MAX_SEATS:
            raise ValueError(f"layout has {seats} seats; the limit is {MAX_SEATS}")
        for section in self.sections:
            used = {c for c in (section.category, *section.rowCategories.values()) if c is not None}
            unknown = sorted(c for c in used if c not in self.categories)
            if unknown:
                raise ValueError(f"section {section.name}: unknown categories {unknown}")
            labels = {row_label(r) for r in range(1, section.rows + 1)}
            stray = sorted(set(section.rowCategories) - labels)
            if stray:
                raise ValueError(f"section {section.name}: rowCategories names rows it does not have {stray}")
        return self

    @classmethod
    def from_file(cls, path: Path) -> EventSpec:
        return cls.model_validate(json.loads(path.read_text()))

    def seat_rows(self, event_id: int) -> list[tuple[Any, ...]]:
        prefix = len(self.sections) > 1
        out: list[tuple[Any, ...]] = []
        for order, section in enumerate(self.sections):
            for r in range(1, section.rows + 1):
                label = row_label(r)
                category = section.rowCategories.get(label, section.category)
                price = self.categories[category].priceCents if category else None
                for c in range(1, section.columns + 1):
                    number = f"{section.name}-{label}{c}" if prefix else f"{label}{c}"
                    out.append((event_id, number, section.name, order, label, r, c, category, price))
        return out


class EventExists(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(f"An event with slug {slug!r} already exists")


_EVENT_COLUMNS = """
e.id, e.slug, e.name, e.venue, e.starts_at, e.created_at,
(SELECT count(*) FROM seats s WHERE s.event_id = e.id) AS seat_count
"""


async def create_event(conn: asyncpg.Connection, spec: EventSpec) -> dict[str, Any]:
    """Insert the event and every seat of its map atomically; a duplicate slug raises EventExists."""
    async with conn.transaction():
        event_id = await conn.fetchval(
            "INSERT INTO events (slug, name, venue, starts_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (slug) DO NOTHING RETURNING id",
            spec.slug,
            spec.name,
            spec.venue,
            spec.startsAt,
        )
        if event_id is None:
            raise EventExists(spec.slug)
        await conn.copy_records_to_table(
            "seats",
            records=spec.seat_rows(event_id),
            columns=[
                "event_id", "seat_number", "section", "section_order", "row_label", "row_idx", "col_idx",
                "category", "price_cents",
            ],
        )
        event = await get_event(conn, event_id)
    assert event is not None
    return event


async def get_event(conn: asyncpg.Connection, event_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM events e WHERE e.id = $1", event_id)
    return dict(row) if row else None


async def list_events(conn: asyncpg.Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_EVENT_COLUMNS} FROM events e ORDER BY e.id LIMIT $1", limit)
    return [dict(r) for r in rows]
