"""Wire shapes of the public API (camelCase JSON), kept apart from domain types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from boxoffice.domain import (
    MAX_SEAT_ID,
    MAX_SEATS_PER_REQUEST,
    MAX_USER_ID_LENGTH,
    Booking,
    Inventory,
    Seat,
    SeatStatus,
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


class SeatOut(BaseModel):
    seatId: int
    seatNumber: str
    section: str
    row: str
    rowIndex: int
    column: int
    status: str
    booked: bool
    bookedBy: str | None
    bookedAt: datetime | None
    version: int
    held: bool
    heldUntil: datetime | None
    eventId: int
    category: str | None
    priceCents: int | None


class BookingOut(SeatOut):
    bookingId: int
    strategy: Strategy
    sequence: int


class SectionOut(BaseModel):
    name: str
    rows: list[str]
    columns: int


class LayoutOut(BaseModel):
    sections: list[SectionOut]
    rows: int
    columns: int
    seatCount: int


class InventoryOut(BaseModel):
    layout: LayoutOut
    sequence: int
    seats: list[SeatOut]


class ErrorOut(BaseModel):
    timestamp: datetime
    status: int
    error: str
    message: str
    path: str


def seat_json(seat: Seat) -> dict[str, Any]:
    """A lapsed hold is shown as AVAILABLE (claims treat it so); the holder's id is not published."""
    status = seat.effective_status
    held = status is SeatStatus.HELD
    return {
        "seatId": seat.id,
        "seatNumber": seat.seat_number,
        "section": seat.section,
        "row": seat.row_label,
        "rowIndex": seat.row,
        "column": seat.column,
        "status": status.value,
        "booked": seat.booked,
        "bookedBy": seat.booked_by,
        "bookedAt": seat.booked_at,
        "version": seat.version,
        "held": held,
        "heldUntil": seat.held_until if held else None,
        "eventId": seat.event_id,
        "category": seat.category,
        "priceCents": seat.price_cents,
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    return {
        **seat_json(booking.seat),
        "bookingId": booking.booking_id,
        "strategy": booking.strategy.value,
        "sequence": booking.sequence,
    }


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    sections = [{"name": s.name, "rows": s.rows, "columns": s.columns} for s in inventory.sections]
    return {
        "layout": {
            "sections": sections,
            "rows": max((len(s.rows) for s in inventory.sections), default=0),
            "columns": max((s.columns for s in inventory.sections), default=0),
            "seatCount": len(inventory.seats),
        },
        "sequence": inventory.sequence,
        "seats": [seat_json(s) for s in inventory.seats],
    }
