"""Seat-map layouts: the grid seeded at start-up and the event layout file / admin API body.

Pure models and the seat rows they expand to; storage writes the rows, the API and CLI parse the files.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_SEATS = 100_000
MAX_PRICE_CENTS = 100_000_000
Label = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")]


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
