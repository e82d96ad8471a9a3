"""Request bodies of the public API (camelCase JSON); answers are shaped in `boxoffice.wire`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from boxoffice.domain import (
    MAX_SEAT_ID,
    MAX_SEATS_PER_REQUEST,
    MAX_USER_ID_LENGTH,
    Strategy,
)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


UserId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MAX_USER_ID_LENGTH,
        # Printable text only: control characters (NUL above all) never reach the database.
        pattern=r"^[^\x00-\x1f\x7f]+$",
    ),
]


StrategyName = Annotated[Strategy | None, BeforeValidator(_upper)]
SeatId = Annotated[int, Field(ge=1, le=MAX_SEAT_ID)]
SeatIds = Annotated[list[SeatId], Field(min_length=1, max_length=MAX_SEATS_PER_REQUEST)]


def distinct_seat_ids(seat_ids: list[int] | None) -> None:
    if seat_ids is not None and len(set(seat_ids)) != len(seat_ids):
        raise ValueError("seatIds must not repeat a seat")


class BookingRequest(BaseModel):
    """`strict` refuses `"1"` or `true` for seatId: a mistyped field is a client bug worth naming.

    One of: `seatId` (the original single-seat call), `seatIds` (all or nothing), or `holdToken`
    (confirm a hold; `seatIds` may repeat the held seats). `userId` is required in open auth mode
    and must match the token's subject in jwt mode.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    seatId: SeatId | None = None
    seatIds: SeatIds | None = None
    holdToken: UUID | None = None
    userId: UserId | None = None
    strategy: Annotated[Strategy | None, BeforeValidator(_upper)] = Field(
        default=None, description="Locking strategy; the deployment default when omitted."
    )

    @model_validator(mode="after")
    def _one_target(self) -> BookingRequest:
        if self.seatId is not None and (self.seatIds is not None or self.holdToken is not None):
            raise ValueError("send seatId alone, or seatIds, or holdToken")
        if self.seatId is None and self.seatIds is None and self.holdToken is None:
            raise ValueError("one of seatId, seatIds or holdToken is required")
        distinct_seat_ids(self.seatIds)
        return self


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    seatIds: SeatIds
    userId: UserId | None = None
    strategy: StrategyName = None

    @model_validator(mode="after")
    def _distinct(self) -> HoldRequest:
        distinct_seat_ids(self.seatIds)
        return self


class OwnerRequest(BaseModel):
    """Body of extend/release: who asks (open mode); may be empty in jwt mode."""

    model_config = ConfigDict(extra="forbid", strict=True)

    userId: UserId | None = None


class CancelRequest(OwnerRequest):
    reason: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] | None = None
