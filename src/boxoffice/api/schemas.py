"""Wire shapes of the public API (camelCase JSON), kept apart from domain types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from boxoffice.booking.domain import MAX_SEAT_ID, MAX_USER_ID_LENGTH, Booking, Inventory, Seat, Strategy


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


class BookingRequest(BaseModel):
    """`strict` refuses `"1"` or `true` for seatId: a mistyped field is a client bug worth naming."""

    model_config = ConfigDict(extra="forbid", strict=True)

    seatId: int = Field(ge=1, le=MAX_SEAT_ID)
    userId: UserId
    strategy: Annotated[Strategy | None, BeforeValidator(_upper)] = Field(
        default=None, description="Locking strategy; the deployment default when omitted."
    )


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
    return {
        "seatId": seat.id,
        "seatNumber": seat.seat_number,
        "section": seat.section,
        "row": seat.row_label,
        "rowIndex": seat.row,
        "column": seat.column,
        "status": seat.status.value,
        "booked": seat.booked,
        "bookedBy": seat.booked_by,
        "bookedAt": seat.booked_at,
        "version": seat.version,
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
