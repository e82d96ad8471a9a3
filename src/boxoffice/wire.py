"""The JSON shapes of seats, bookings, holds and inventories: one home for REST and STOMP.

Both edges render through these functions, so a field added to a seat is added on purpose to
every REST answer and every STOMP message that carries a seat (`seat_change_json`). The
pydantic models describe the same shapes for the OpenAPI document; `tests/api` checks that
each renderer's keys equal its model's fields.

A seat is public and carries state only, never who booked or holds it. Who owns something
appears only in answers to its owner (a booking, a hold, a cancellation, `/api/v1/me/*`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from boxoffice.domain import (
    Area,
    Booking,
    BookingRecord,
    Cancellation,
    Event,
    Hold,
    Inventory,
    Seat,
    SeatStatus,
    Strategy,
    VisitorStatus,
    WaitingRoomStats,
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
    bookedAt: datetime | None
    version: int
    held: bool
    heldUntil: datetime | None
    eventId: int
    category: str | None
    priceCents: int | None
    kind: str
    """`SEAT` (reserved) or `GA` (one general-admission ticket; `section` names its area)."""
    accessibility: str | None
    """`WHEELCHAIR`, `COMPANION` or null."""
    channel: str | None
    """Bookable only with this sales channel's `X-Channel-Key` (or by an admin)."""
    blocked: bool
    """Not for sale (status `BLOCKED` while free); the reason is never published."""


class SeatChangeOut(SeatOut):
    """One STOMP MESSAGE body: the seat as it is now and its place among the event's changes."""

    sequence: int
    prevSequence: int
    areaAvailable: int | None
    """For a GA ticket: its area's public availability count when the relay read the change."""


class BookingOut(SeatOut):
    """The booked seat, to its buyer only."""

    bookingId: int
    userId: str
    strategy: Strategy
    sequence: int
    manageToken: str | None
    """Only for a booking made without a session or token: send it as `Manage-Token` to read or cancel it."""


class BookingsOut(BaseModel):
    userId: str
    holdToken: UUID | None
    seatIds: list[int]
    bookings: list[BookingOut]
    sequence: int


class HoldOut(BaseModel):
    holdToken: UUID
    userId: str
    state: str
    expiresAt: datetime
    seatIds: list[int]
    seats: list[SeatOut]
    sequence: int


class CancellationOut(BaseModel):
    bookingId: int
    status: str
    cancelledBy: str
    cancelledAt: datetime
    reason: str | None
    seat: SeatOut
    sequence: int


class BookingRecordOut(BaseModel):
    bookingId: int
    seatId: int
    userId: str
    strategy: str
    status: str
    createdAt: datetime
    holdToken: UUID | None
    cancelledAt: datetime | None
    cancelledBy: str | None
    cancelReason: str | None


class SectionOut(BaseModel):
    name: str
    rows: list[str]
    columns: int
    kind: str
    """`SEATED` or `GA` (a general-admission area: no seats, a `capacity`)."""
    capacity: int | None


class AreaOut(BaseModel):
    """A general-admission area; `available` counts tickets a public buyer can take now."""

    name: str
    category: str | None
    priceCents: int | None
    capacity: int
    available: int


class LayoutOut(BaseModel):
    sections: list[SectionOut]
    rows: int
    columns: int
    seatCount: int


class InventoryOut(BaseModel):
    layout: LayoutOut
    sequence: int
    seats: list[SeatOut]
    areas: list[AreaOut]


class SessionOut(BaseModel):
    token: str
    tokenType: str
    userId: str
    expiresAt: datetime


class MyBookingsOut(BaseModel):
    userId: str
    bookings: list[BookingRecordOut]
    next: int | None
    """Pass as `before` for the next (older) page; null on the last page."""


class MyHoldsOut(BaseModel):
    userId: str
    holds: list[HoldOut]


class EventOut(BaseModel):
    eventId: int
    slug: str
    name: str
    venue: str
    startsAt: datetime | None
    createdAt: datetime
    seatCount: int
    seatsPath: str
    noOrphans: bool
    orphanRowEnds: bool
    channels: list[str]


class EventListOut(BaseModel):
    events: list[EventOut]


class EventInventoryOut(InventoryOut):
    event: EventOut


class AdminSeatOut(SeatOut):
    blockedReason: str | None


class AdminInventoryOut(BaseModel):
    event: EventOut
    seats: list[AdminSeatOut]
    areas: list[AreaOut]


class AllocationOut(BaseModel):
    eventId: int
    changed: int
    seatIds: list[int]


def seat_json(seat: Seat) -> dict[str, Any]:
    """A lapsed hold is shown as AVAILABLE (claims treat it so); who booked or holds it is not published."""
    status = seat.effective_status
    held = status is SeatStatus.HELD
    shown = "BLOCKED" if seat.blocked and status is SeatStatus.AVAILABLE else status.value
    return {
        "seatId": seat.id,
        "seatNumber": seat.seat_number,
        "section": seat.section,
        "row": seat.row_label,
        "rowIndex": seat.row,
        "column": seat.column,
        "status": shown,
        "booked": seat.booked,
        "bookedAt": seat.booked_at,
        "version": seat.version,
        "held": held,
        "heldUntil": seat.held_until if held else None,
        "eventId": seat.event_id,
        "category": seat.category,
        "priceCents": seat.price_cents,
        "kind": seat.kind,
        "accessibility": seat.accessibility,
        "channel": seat.channel,
        "blocked": seat.blocked is not None,
    }


def admin_seat_json(seat: Seat) -> dict[str, Any]:
    return {**seat_json(seat), "blockedReason": seat.blocked}


def area_json(area: Area) -> dict[str, Any]:
    return {
        "name": area.name,
        "category": area.category,
        "priceCents": area.price_cents,
        "capacity": area.capacity,
        "available": area.available,
    }


def seat_change_json(
    seat: Seat, sequence: int, prev_sequence: int, area_available: int | None = None
) -> dict[str, Any]:
    return {**seat_json(seat), "sequence": sequence, "prevSequence": prev_sequence, "areaAvailable": area_available}


def booking_json(booking: Booking) -> dict[str, Any]:
    return {
        **seat_json(booking.seat),
        "bookingId": booking.booking_id,
        "userId": booking.seat.booked_by,
        "strategy": booking.strategy.value,
        "sequence": booking.sequence,
        "manageToken": booking.manage_token,
    }


def bookings_json(bookings: list[Booking], hold_token: UUID | None) -> dict[str, Any]:
    return {
        "userId": bookings[0].seat.booked_by,
        "holdToken": str(hold_token) if hold_token else None,
        "seatIds": [b.seat.id for b in bookings],
        "bookings": [booking_json(b) for b in bookings],
        "sequence": max(b.sequence for b in bookings),
    }


def hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "holdToken": str(hold.token),
        "userId": hold.user_id,
        "state": hold.state.value,
        "expiresAt": hold.expires_at,
        "seatIds": [s.id for s in hold.seats],
        "seats": [seat_json(s) for s in hold.seats],
        "sequence": hold.sequence,
    }


def cancellation_json(c: Cancellation) -> dict[str, Any]:
    return {
        "bookingId": c.booking_id,
        "status": "CANCELLED",
        "cancelledBy": c.user_id,
        "cancelledAt": c.cancelled_at,
        "reason": c.reason,
        "seat": seat_json(c.seat),
        "sequence": c.sequence,
    }


def booking_record_json(record: BookingRecord) -> dict[str, Any]:
    return {
        "bookingId": record.booking_id,
        "seatId": record.seat_id,
        "userId": record.user_id,
        "strategy": record.strategy,
        "status": record.status,
        "createdAt": record.created_at,
        "holdToken": str(record.hold_token) if record.hold_token else None,
        "cancelledAt": record.cancelled_at,
        "cancelledBy": record.cancelled_by,
        "cancelReason": record.cancel_reason,
    }


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    sections = [
        {"name": s.name, "rows": s.rows, "columns": s.columns, "kind": s.kind, "capacity": s.capacity}
        for s in inventory.sections
    ]
    return {
        "layout": {
            "sections": sections,
            "rows": max((len(s.rows) for s in inventory.sections), default=0),
            "columns": max((s.columns for s in inventory.sections), default=0),
            "seatCount": len(inventory.seats),
        },
        "sequence": inventory.sequence,
        "seats": [seat_json(s) for s in inventory.seats],
        "areas": [area_json(a) for a in inventory.areas],
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "eventId": event.id,
        "slug": event.slug,
        "name": event.name,
        "venue": event.venue,
        "startsAt": event.starts_at,
        "createdAt": event.created_at,
        "seatCount": event.seat_count,
        "seatsPath": f"/api/v1/events/{event.id}/seats",
        "noOrphans": event.no_orphans,
        "orphanRowEnds": event.orphan_row_ends,
        "channels": list(event.channels),
    }


def session_json(token: str, user_id: str, expires_at: datetime) -> dict[str, Any]:
    return {"token": token, "tokenType": "Bearer", "userId": user_id, "expiresAt": expires_at}


def my_bookings_json(user_id: str, records: list[BookingRecord], limit: int) -> dict[str, Any]:
    return {
        "userId": user_id,
        "bookings": [booking_record_json(r) for r in records],
        "next": records[-1].booking_id if len(records) == limit else None,
    }


def my_holds_json(user_id: str, holds: list[Hold]) -> dict[str, Any]:
    return {"userId": user_id, "holds": [hold_json(h) for h in holds]}


# --- waiting room (docs/waiting-room.md) ---------------------------------------------------------


class VisitorOut(BaseModel):
    """Where a visitor stands in an event's waiting room; poll again after `pollAfterS`."""

    eventId: int
    state: str
    position: int | None
    peopleAhead: int | None
    estimatedWaitS: int | None
    startsAt: datetime | None
    joinedAt: datetime | None
    admissionToken: str | None
    admittedUntil: datetime | None
    pollAfterS: int


class WaitingRoomOut(BaseModel):
    """The public state of an event's waiting room."""

    eventId: int
    enabled: bool
    startsAt: datetime | None
    open: bool
    waiting: int
    active: int
    admissionRatePerMinute: float


class WaitingRoomAdminOut(WaitingRoomOut):
    """The operator's view: the configuration and the live figures."""

    maxActive: int
    perMinute: int
    minPerMinute: int
    adaptive: bool
    holdS: int
    admissionTtlS: int
    admittedTotal: int
    revokedBefore: datetime | None


class RevokedOut(BaseModel):
    eventId: int
    revoked: int


def visitor_json(v: VisitorStatus) -> dict[str, Any]:
    return {
        "eventId": v.event_id,
        "state": v.state.value,
        "position": v.position,
        "peopleAhead": v.people_ahead,
        "estimatedWaitS": v.estimated_wait_s,
        "startsAt": v.starts_at,
        "joinedAt": v.joined_at,
        "admissionToken": v.admission_token,
        "admittedUntil": v.admitted_until,
        "pollAfterS": v.poll_after_s,
    }


def waiting_room_json(event_id: int, stats: WaitingRoomStats | None, now: datetime) -> dict[str, Any]:
    if stats is None or not stats.config.enabled:
        return {
            "eventId": event_id,
            "enabled": False,
            "startsAt": stats.config.starts_at if stats else None,
            "open": True,
            "waiting": 0,
            "active": 0,
            "admissionRatePerMinute": 0.0,
        }
    return {
        "eventId": event_id,
        "enabled": True,
        "startsAt": stats.config.starts_at,
        "open": stats.config.starts_at <= now,
        "waiting": stats.waiting,
        "active": stats.active,
        "admissionRatePerMinute": round(stats.rate_per_minute, 1),
    }


def waiting_room_admin_json(event_id: int, stats: WaitingRoomStats, now: datetime) -> dict[str, Any]:
    c = stats.config
    return {
        **waiting_room_json(event_id, stats, now),
        "enabled": c.enabled,
        "maxActive": c.max_active,
        "perMinute": c.per_minute,
        "minPerMinute": c.min_per_minute,
        "adaptive": c.adaptive,
        "holdS": c.hold_s,
        "admissionTtlS": c.admission_ttl_s,
        "admittedTotal": stats.admitted_total,
        "revokedBefore": stats.revoked_before,
    }


def revoked_json(event_id: int, count: int) -> dict[str, Any]:
    return {"eventId": event_id, "revoked": count}
