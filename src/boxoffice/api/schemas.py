"""Request bodies of the public API (camelCase JSON); answers are shaped in `boxoffice.wire`."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from boxoffice.domain import (
    MAX_SEAT_ID,
    MAX_SEATS_PER_REQUEST,
    MAX_USER_ID_LENGTH,
    UNSET,
    EventChanges,
    Strategy,
)
from boxoffice.tokens import USER_ID_PATTERN, normal_user_id, user_id_problem

STRATEGY_ALIASES = {"DATABASE": Strategy.DB.value}
"""Other names a request may give a strategy: `DATABASE` is the seed system's name of the row-lock
strategy (its enum was `DATABASE, REDIS`). Answers name the strategy that ran (`DB`)."""


def _strategy_name(value: Any) -> Any:
    """Case-insensitive, aliases resolved."""
    if not isinstance(value, str):
        return value
    upper = value.upper()
    return STRATEGY_ALIASES.get(upper, upper)


def _with_aliases(schema: dict[str, Any]) -> None:
    """Document the aliases next to the enum, so the OpenAPI document accepts what the model accepts."""
    schema["anyOf"].insert(
        1, {"type": "string", "enum": list(STRATEGY_ALIASES), "description": "Alias: DATABASE is DB"}
    )


def _user_id(value: str) -> str:
    """NFC (one user however the text was composed); no bidi controls or zero-width characters, which
    make two ids look alike or reorder what an operator reads (the rule token subjects follow too)."""
    value = normal_user_id(value)
    if (problem := user_id_problem(value)) is not None:
        raise ValueError(problem)
    return value


UserId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_USER_ID_LENGTH,
        # Printable text only: control characters (NUL above all) never reach the database.
        pattern=r"^[^\x00-\x1f\x7f]+$",
    ),
    AfterValidator(_user_id),
    # The schema states the whole rule `_user_id` applies (no control or format character).
    Field(json_schema_extra={"pattern": USER_ID_PATTERN}),
]


StrategyName = Annotated[Strategy | None, BeforeValidator(_strategy_name), Field(json_schema_extra=_with_aliases)]
SeatId = Annotated[int, Field(ge=1, le=MAX_SEAT_ID)]
SeatIds = Annotated[list[SeatId], Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)]


Label = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")]
EventId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class BestAvailableRequest(BaseModel):
    """Let the server pick: the best adjacent block (or `quantity` tickets of a GA area named by `section`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    quantity: int = Field(ge=1, le=MAX_SEATS_PER_REQUEST)
    category: Label | None = None
    section: Label | None = None
    together: bool = True
    accessible: int = Field(default=0, ge=0, le=MAX_SEATS_PER_REQUEST, description="How many wheelchair spaces")

    @model_validator(mode="after")
    def _fits(self) -> BestAvailableRequest:
        if self.accessible > self.quantity:
            raise ValueError("bestAvailable.accessible must not exceed quantity")
        return self


def one_target_of(*alternatives: tuple[tuple[str, ...], tuple[str, ...]]) -> dict[str, Any]:
    """The one-target rule of a request body as JSON schema, so that the OpenAPI document accepts
    exactly the bodies the model's validator accepts (a schema that allowed `{}` would promise an
    answer the API refuses with 422).

    Each alternative is (fields that must be present and not null, fields that must be absent or
    null); fields named in neither may come or not. A field sent as `null` counts as absent, as in
    the model."""
    return {
        "anyOf": [
            {
                "required": list(present),
                "properties": {
                    **{name: {"not": {"type": "null"}} for name in present},
                    **{name: {"type": "null"} for name in absent},
                },
            }
            for present, absent in alternatives
        ]
    }


def distinct_seat_ids(seat_ids: list[int] | None) -> None:
    if seat_ids is not None and len(set(seat_ids)) != len(seat_ids):
        raise ValueError("seatIds must not repeat a seat")


class BookingRequest(BaseModel):
    """`strict` refuses `"1"` or `true` for seatId: a mistyped field is a client bug worth naming.

    One of: `seatId` (the original single-seat call), `seatIds` (all or nothing), or `holdToken`
    (confirm a hold; `seatIds` may repeat the held seats). `userId` is required in open auth mode
    and must match the token's subject in jwt mode.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra=one_target_of(
            (("seatId",), ("seatIds", "holdToken", "eventId", "bestAvailable")),
            (("seatIds",), ("seatId", "eventId", "bestAvailable")),
            (("holdToken",), ("seatId", "eventId", "bestAvailable")),
            (("eventId", "bestAvailable"), ("seatId", "seatIds", "holdToken")),
        ),
    )

    seatId: SeatId | None = None
    seatIds: SeatIds | None = None
    holdToken: UUID | None = None
    eventId: EventId | None = None
    bestAvailable: BestAvailableRequest | None = None
    accessible: bool = Field(default=False, description="Hand-picked wheelchair/companion seats on purpose")
    userId: UserId | None = None
    strategy: StrategyName = Field(default=None, description="Locking strategy; the deployment default when omitted.")

    @model_validator(mode="after")
    def _one_target(self) -> BookingRequest:
        best = _best_target(self.eventId, self.bestAvailable)
        if best and (self.seatId is not None or self.seatIds is not None or self.holdToken is not None):
            raise ValueError("send eventId with bestAvailable alone, or seatId, or seatIds, or holdToken")
        if self.seatId is not None and (self.seatIds is not None or self.holdToken is not None):
            raise ValueError("send seatId alone, or seatIds, or holdToken")
        if not best and self.seatId is None and self.seatIds is None and self.holdToken is None:
            raise ValueError("one of seatId, seatIds, holdToken or bestAvailable is required")
        distinct_seat_ids(self.seatIds)
        return self


def _best_target(event_id: int | None, best: BestAvailableRequest | None) -> bool:
    if best is not None and event_id is None:
        raise ValueError("bestAvailable needs eventId")
    if best is None and event_id is not None:
        raise ValueError("eventId goes with bestAvailable")
    return best is not None


class HoldRequest(BaseModel):
    """`seatIds` (hand-picked, all or nothing) or `eventId` with `bestAvailable` (the server picks)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra=one_target_of(
            (("seatIds",), ("eventId", "bestAvailable")),
            (("eventId", "bestAvailable"), ("seatIds",)),
        ),
    )

    seatIds: SeatIds | None = None
    eventId: EventId | None = None
    bestAvailable: BestAvailableRequest | None = None
    accessible: bool = Field(default=False, description="Hand-picked wheelchair/companion seats on purpose")
    userId: UserId | None = None
    strategy: StrategyName = None

    @model_validator(mode="after")
    def _distinct(self) -> HoldRequest:
        best = _best_target(self.eventId, self.bestAvailable)
        if best == (self.seatIds is not None):
            raise ValueError("send seatIds, or eventId with bestAvailable")
        distinct_seat_ids(self.seatIds)
        return self


class OwnerRequest(BaseModel):
    """Body of extend/release: who asks (open mode); may be empty in jwt mode."""

    model_config = ConfigDict(extra="forbid", strict=True)

    userId: UserId | None = None


class CancelRequest(OwnerRequest):
    reason: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None


BlockReason = Literal["SPONSOR", "PRODUCTION", "PRESS", "HOUSE"]


class AllocationSource(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    blocked: BlockReason | None = None
    channel: Label | None = None


class AllocationRequest(BaseModel):
    """Block, unblock or move seats (`seatIds`) or GA tickets (`section` + `count`) to a channel.

    The target is `blocked` or `channel` (not both); neither means back to public sale. GA tickets
    are taken from the public pool unless `from` names another.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        populate_by_name=True,
        json_schema_extra={
            **one_target_of((("seatIds",), ("section", "count")), (("section", "count"), ("seatIds",))),
            "not": one_target_of((("blocked", "channel"), ()))["anyOf"][0],
        },
    )
    seatIds: Annotated[list[SeatId], Field(min_length=1, max_length=1000)] | None = None
    section: Label | None = None
    count: int | None = Field(default=None, ge=1, le=100_000)
    blocked: BlockReason | None = None
    channel: Label | None = None
    source: AllocationSource = Field(default_factory=AllocationSource, alias="from")

    @model_validator(mode="after")
    def _one_target(self) -> AllocationRequest:
        if self.blocked is not None and self.channel is not None:
            raise ValueError("a seat is either blocked or in a channel, not both")
        if (self.seatIds is None) == (self.section is None):
            raise ValueError("send seatIds, or section with count")
        if self.section is not None and self.count is None:
            raise ValueError("count is required with section")
        if self.seatIds is not None and self.count is not None:
            raise ValueError("count goes with section, not seatIds")
        distinct_seat_ids(self.seatIds)
        return self


EventText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class EventUpdateRequest(BaseModel):
    """An edit of an event: only the fields sent change. `startsAt: null` removes the date;
    `salesStart: null` opens sales from creation again, `salesEnd: null` closes them at the event's
    date again (the default window). Times need a zone (`Z` or an offset)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: EventText | None = None
    startsAt: AwareDatetime | None = None
    salesStart: AwareDatetime | None = None
    salesEnd: AwareDatetime | None = None
    noOrphans: bool | None = None
    orphanRowEnds: bool | None = None

    @model_validator(mode="after")
    def _named(self) -> EventUpdateRequest:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name: an event keeps a name; send a new one or leave it out")
        if self.salesStart is not None and self.salesEnd is not None and self.salesStart >= self.salesEnd:
            raise ValueError("salesStart must be before salesEnd")
        return self

    def changes(self) -> EventChanges:
        """Fields absent from the body are UNSET (kept); `noOrphans`/`orphanRowEnds` null keep theirs too."""
        sent = self.model_fields_set

        def field(name: str) -> Any:
            return getattr(self, name) if name in sent else UNSET

        return EventChanges(
            name=field("name"),
            starts_at=field("startsAt"),
            sales_start=field("salesStart"),
            sales_end=field("salesEnd"),
            no_orphans=UNSET if self.noOrphans is None else self.noOrphans,
            orphan_row_ends=UNSET if self.orphanRowEnds is None else self.orphanRowEnds,
        )


class EventCancelRequest(BaseModel):
    """Why the event is cancelled: shown with the event (`cancelReason`) and in every refused claim."""

    model_config = ConfigDict(extra="forbid", strict=True)
    reason: EventText
