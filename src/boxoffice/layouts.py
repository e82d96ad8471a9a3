"""Seat-map layouts: the grid seeded at start-up and the event layout file / admin API body.

Pure models and the seat rows they expand to; storage writes the rows, the API and CLI parse the files.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

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


BlockReason = Literal["SPONSOR", "PRODUCTION", "PRESS", "HOUSE"]
BLOCK_REASONS: tuple[str, ...] = ("SPONSOR", "PRODUCTION", "PRESS", "HOUSE")
SeatRef = Annotated[str, StringConstraints(min_length=2, max_length=12, pattern=r"^[A-Z]{1,3}[0-9]{1,3}$")]
"""A seat of a seated section by row label and column: `A1`, `AB12`."""
SeatRefs = Annotated[list[SeatRef], Field(max_length=MAX_SEATS)]
MAX_GA_CAPACITY = 100_000
ROW_WEIGHT = 2.0
"""Best available: one row further from the focus costs as much as this many seats sideways."""


class Focus(BaseModel):
    """The point best available ranks a section's seats by (distance to it); rows and columns count from 1."""

    model_config = ConfigDict(extra="forbid")
    row: float = Field(ge=0, le=501)
    column: float = Field(ge=0, le=501)


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class Section(BaseModel):
    """A rectangular block (`rows` x `columns`; rows lettered A, B, ..., seats numbered 1..columns),
    or a general-admission area (`capacity`)."""

    model_config = ConfigDict(extra="forbid")
    name: Label
    rows: int | None = Field(default=None, ge=1, le=500)
    columns: int | None = Field(default=None, ge=1, le=500)
    capacity: int | None = Field(default=None, ge=1, le=MAX_GA_CAPACITY)
    category: Label | None = None
    rowCategories: dict[Label, Label] = Field(default_factory=dict, max_length=500)
    """Row label -> category, overriding the section's (e.g. the first rows are premium)."""
    focus: Focus | None = None
    accessible: SeatRefs = Field(default_factory=list)
    """Wheelchair spaces."""
    companion: SeatRefs = Field(default_factory=list)
    blocked: dict[BlockReason, SeatRefs | Annotated[int, Field(ge=1, le=MAX_GA_CAPACITY)]] = Field(default_factory=dict)
    """Reason -> seats (seated) or a number of tickets (GA)."""
    channels: dict[Label, SeatRefs | Annotated[int, Field(ge=1, le=MAX_GA_CAPACITY)]] = Field(
        default_factory=dict, max_length=20
    )
    """Channel -> seats (seated) or a number of tickets (GA)."""

    @property
    def is_ga(self) -> bool:
        return self.capacity is not None

    @property
    def size(self) -> int:
        if self.capacity is not None:
            return self.capacity
        return (self.rows or 0) * (self.columns or 0)

    def focal(self) -> tuple[float, float]:
        if self.focus is not None:
            return self.focus.row, self.focus.column
        return 1.0, ((self.columns or 1) + 1) / 2


def parse_ref(ref: str) -> tuple[int, int]:
    """`AB12` -> (row index 28, column 12)."""
    letters = ref.rstrip("0123456789")
    row = 0
    for ch in letters:
        row = row * 26 + (ord(ch) - ord("A") + 1)
    return row, int(ref[len(letters) :])


class EventSpec(BaseModel):
    """The layout file / admin API body: one event at one venue with its seat map."""

    model_config = ConfigDict(extra="forbid")
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    venue: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    startsAt: datetime | None = None
    salesStart: AwareDatetime | None = None
    """When sales open; default: at creation."""
    salesEnd: AwareDatetime | None = None
    """When sales close; default: at `startsAt` (never, without a date)."""
    noOrphans: bool = False
    """Refuse a hold or booking that would leave a single free seat between taken seats."""
    orphanRowEnds: bool = False
    """With noOrphans: a single free seat at a row end next to a taken seat counts as an orphan too."""
    categories: dict[Label, Category] = Field(default_factory=dict, max_length=50)
    channels: dict[Label, ChannelSpec] = Field(default_factory=dict, max_length=20)
    sections: list[Section] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> EventSpec:
        names = [s.name for s in self.sections]
        if len(set(names)) != len(names):
            raise ValueError("section names must be unique")
        seats = sum(s.size for s in self.sections)
        if seats > MAX_SEATS:
            raise ValueError(f"layout has {seats} seats and tickets; the limit is {MAX_SEATS}")
        closes = self.salesEnd or self.startsAt
        if closes is not None and closes.tzinfo is None:
            closes = closes.replace(tzinfo=UTC)  # a date without a zone is stored as UTC
        if self.salesStart is not None and closes is not None and self.salesStart >= closes:
            raise ValueError("salesStart must be before salesEnd (by default the event's startsAt)")
        keys = [c.key for c in self.channels.values()]
        if len(set(keys)) != len(keys):
            raise ValueError("channels: every channel needs its own key")
        for i, section in enumerate(self.sections):
            _check_section(f"sections[{i}]", section, self)
        return self

    @classmethod
    def from_file(cls, path: Path) -> EventSpec:
        return cls.model_validate(json.loads(path.read_text()))

    def seat_rows(self, event_id: int) -> list[tuple[Any, ...]]:
        """One row per seat and per GA ticket, in the column order of `SEAT_COLUMNS` (storage/venues.py)."""
        prefix = len(self.sections) > 1
        out: list[tuple[Any, ...]] = []
        plain_event = not self.noOrphans
        for order, section in enumerate(self.sections):
            if section.capacity is not None:
                out.extend(self._tickets(event_id, order, section))
                continue
            assert section.rows is not None and section.columns is not None
            marks = _marks(section)
            focus_row, focus_col = section.focal()
            for r in range(1, section.rows + 1):
                label = row_label(r)
                category = section.rowCategories.get(label, section.category)
                price = self.categories[category].priceCents if category else None
                for c in range(1, section.columns + 1):
                    number = f"{section.name}-{label}{c}" if prefix else f"{label}{c}"
                    access, channel, blocked = marks.get((r, c), (None, None, None))
                    rank = math.hypot(ROW_WEIGHT * (r - focus_row), c - focus_col) + order * 1e-3
                    plain = plain_event and access is None and channel is None and blocked is None
                    out.append(
                        (
                            event_id,
                            number,
                            section.name,
                            order,
                            label,
                            r,
                            c,
                            category,
                            price,
                            "SEAT",
                            access,
                            channel,
                            blocked,
                            rank,
                            plain,
                        )
                    )
        return out

    def _tickets(self, event_id: int, order: int, section: Section) -> list[tuple[Any, ...]]:
        assert section.capacity is not None
        category = section.category
        price = self.categories[category].priceCents if category else None
        pools: list[tuple[str | None, str | None]] = []
        for reason, count in section.blocked.items():
            assert isinstance(count, int)
            pools.extend([(None, reason)] * count)
        for channel, count in section.channels.items():
            assert isinstance(count, int)
            pools.extend([(channel, None)] * count)
        pools.extend([(None, None)] * (section.capacity - len(pools)))
        return [
            (
                event_id,
                f"{section.name}-{i}",
                section.name,
                order,
                "GA",
                1,
                i,
                category,
                price,
                "GA",
                None,
                channel,
                blocked,
                0.0,
                False,
            )
            for i, (channel, blocked) in enumerate(pools, start=1)
        ]

    def sections_rows(self, event_id: int) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for order, s in enumerate(self.sections):
            price = self.categories[s.category].priceCents if s.category else None
            out.append((event_id, s.name, order, "GA" if s.is_ga else "SEATED", s.capacity, s.category, price))
        return out


def _check_section(where: str, section: Section, spec: EventSpec) -> None:
    """Precise refusals: each names the section and the seat or field at fault."""
    if section.capacity is not None:
        if section.rows is not None or section.columns is not None:
            raise ValueError(f"{where}: a section has rows and columns (seated) or capacity (GA), not both")
        for field in ("rowCategories", "accessible", "companion", "focus"):
            if getattr(section, field):
                raise ValueError(f"{where}.{field}: not allowed in a GA section ({section.name})")
        total = 0
        for kind, pools in (("blocked", section.blocked), ("channels", section.channels)):
            for name, count in pools.items():
                if not isinstance(count, int):
                    raise ValueError(f"{where}.{kind}.{name}: a GA section takes a number of tickets")
                total += count
        if total > section.capacity:
            raise ValueError(f"{where}: blocked and channel tickets ({total}) exceed the capacity {section.capacity}")
    else:
        if section.rows is None or section.columns is None:
            raise ValueError(f"{where}: a seated section needs rows and columns (or capacity for GA)")
        labels = {row_label(r) for r in range(1, section.rows + 1)}
        stray = sorted(set(section.rowCategories) - labels)
        if stray:
            raise ValueError(f"{where}.rowCategories: section {section.name} has no rows {stray}")
        seen: dict[tuple[str, tuple[int, int]], str] = {}
        for field, refs in _ref_lists(section):
            # A seat is at most one of accessible/companion, and at most one of blocked/a channel.
            group = "access" if field in ("accessible", "companion") else "sale"
            for ref in refs:
                if isinstance(ref, int):
                    raise ValueError(f'{where}.{field}: a seated section takes a list of seats like "A1"')
                r, c = parse_ref(ref)
                if not (1 <= r <= section.rows and 1 <= c <= section.columns):
                    raise ValueError(
                        f"{where}.{field}: seat {ref} is not in section {section.name} "
                        f"(rows A-{row_label(section.rows)}, columns 1-{section.columns})"
                    )
                other = seen.get((group, (r, c)))
                if other is not None:
                    raise ValueError(f"{where}.{field}: seat {ref} is also in {other}")
                seen[(group, (r, c))] = field
    used = {c for c in (section.category, *section.rowCategories.values()) if c is not None}
    unknown = sorted(c for c in used if c not in spec.categories)
    if unknown:
        raise ValueError(f"{where}: section {section.name} uses unknown categories {unknown}")
    channels = sorted(c for c in section.channels if c not in spec.channels)
    if channels:
        raise ValueError(f"{where}.channels: unknown channels {channels}; declare them in channels at the top")


def _ref_lists(section: Section) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = [("accessible", section.accessible), ("companion", section.companion)]
    out += [(f"blocked.{k}", v if isinstance(v, list) else [v]) for k, v in section.blocked.items()]
    out += [(f"channels.{k}", v if isinstance(v, list) else [v]) for k, v in section.channels.items()]
    return out


def _marks(section: Section) -> dict[tuple[int, int], tuple[str | None, str | None, str | None]]:
    """(row, column) -> (accessibility, channel, blocked reason) of the seats the section marks."""
    marks: dict[tuple[int, int], list[str | None]] = {}
    for ref in section.accessible:
        marks.setdefault(parse_ref(ref), [None, None, None])[0] = "WHEELCHAIR"
    for ref in section.companion:
        marks.setdefault(parse_ref(ref), [None, None, None])[0] = "COMPANION"
    for channel, refs in section.channels.items():
        assert isinstance(refs, list)
        for ref in refs:
            marks.setdefault(parse_ref(ref), [None, None, None])[1] = channel
    for reason, refs in section.blocked.items():
        assert isinstance(refs, list)
        for ref in refs:
            marks.setdefault(parse_ref(ref), [None, None, None])[2] = reason
    return {k: (v[0], v[1], v[2]) for k, v in marks.items()}
