"""The JSON shapes of seats, bookings, holds and inventories: one home for REST and STOMP.

Every shape is a pydantic model (`XxxOut`, for the OpenAPI document and the UI's generated
TypeScript types) and one renderer, a plain dict builder registered with `@renders(XxxOut)`: the
booking answer is rendered per request, and a dict plus orjson is two to three times faster than
a model round trip. `tests/test_wire.py` renders every registered builder from domain objects and
validates the JSON strictly against its model, keys and value types; a model without a renderer,
or a route answering with a model that has none, fails it.

Both edges render through these functions, so a field added to a seat is added on purpose to
every REST answer and every STOMP message that carries a seat. The STOMP message bodies
(`MESSAGES`: `SeatChangeOut`) are answered by no route; `add_message_schemas` puts them into the
OpenAPI document's components so the UI's types for them are generated too.

A seat is public and carries state only, never who booked or holds it. Who owns something
appears only in answers to its owner (a booking, a hold, a cancellation, `/api/v1/me/*`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from boxoffice.domain import (
    Area,
    Booking,
    BookingRecord,
    Cancellation,
    Event,
    EventCancellation,
    Hold,
    Inventory,
    Seat,
    SeatStatus,
    SectionLayout,
    Strategy,
    VisitorStatus,
    WaitingRoomStats,
)

Renderer = Callable[..., dict[str, Any]]
R = TypeVar("R", bound=Renderer)

RENDERERS: dict[type[BaseModel], Renderer] = {}
"""Every output model and the one function that renders it (filled by `@renders`)."""


def renders(model: type[BaseModel]) -> Callable[[R], R]:
    """Register `renderer` as the one builder of `model`'s JSON; the function itself is unchanged."""

    def register(renderer: R) -> R:
        if model in RENDERERS:
            raise ValueError(f"{model.__name__} already rendered by {RENDERERS[model].__name__}")
        RENDERERS[model] = renderer
        return renderer

    return register


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


class SeedSeatOut(BaseModel):
    """A seat in the seed system's shape (`GET /api/v1/seats?shape=array`), state only: its `bookedBy`
    is not published. `seatNumber` is the seed's numbering, `A-1` for the seat numbered `A1`."""

    seatId: int
    seatNumber: str
    booked: bool
    bookedAt: datetime | None


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
    status: str
    """`SCHEDULED` or `CANCELLED` (final: nothing sells, its bookings were voided)."""
    salesStart: datetime
    """When sales open (by default: when the event was created)."""
    salesEnd: datetime | None
    """When sales close (by default: the event's `startsAt`); null: never."""
    cancelledAt: datetime | None
    cancelReason: str | None


class EventCancellationOut(BaseModel):
    """What cancelling an event did, in one transaction."""

    event: EventOut
    bookingsVoided: int
    """Bookings now CANCELLED with `cancelReason` `EVENT_CANCELLED` (no payments: nothing to refund)."""
    holdsReleased: int
    seatsFreed: int
    sequence: int
    """Highest seat-change sequence written (0: no seat changed)."""


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


@renders(SeatOut)
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


@renders(AdminSeatOut)
def admin_seat_json(seat: Seat) -> dict[str, Any]:
    return {**seat_json(seat), "blockedReason": seat.blocked}


@renders(AreaOut)
def area_json(area: Area) -> dict[str, Any]:
    return {
        "name": area.name,
        "category": area.category,
        "priceCents": area.price_cents,
        "capacity": area.capacity,
        "available": area.available,
    }


@renders(SeatChangeOut)
def seat_change_json(
    seat: Seat, sequence: int, prev_sequence: int, area_available: int | None = None
) -> dict[str, Any]:
    return {**seat_json(seat), "sequence": sequence, "prevSequence": prev_sequence, "areaAvailable": area_available}


@renders(BookingOut)
def booking_json(booking: Booking) -> dict[str, Any]:
    return {
        **seat_json(booking.seat),
        "bookingId": booking.booking_id,
        "userId": booking.seat.booked_by,
        "strategy": booking.strategy.value,
        "sequence": booking.sequence,
        "manageToken": booking.manage_token,
    }


@renders(BookingsOut)
def bookings_json(bookings: list[Booking], hold_token: UUID | None) -> dict[str, Any]:
    return {
        "userId": bookings[0].seat.booked_by,
        "holdToken": str(hold_token) if hold_token else None,
        "seatIds": [b.seat.id for b in bookings],
        "bookings": [booking_json(b) for b in bookings],
        "sequence": max(b.sequence for b in bookings),
    }


@renders(HoldOut)
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


@renders(CancellationOut)
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


@renders(BookingRecordOut)
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


@renders(SectionOut)
def section_json(section: SectionLayout) -> dict[str, Any]:
    return {
        "name": section.name,
        "rows": section.rows,
        "columns": section.columns,
        "kind": section.kind,
        "capacity": section.capacity,
    }


@renders(LayoutOut)
def layout_json(sections: Sequence[SectionLayout], seat_count: int) -> dict[str, Any]:
    return {
        "sections": [section_json(s) for s in sections],
        "rows": max((len(s.rows) for s in sections), default=0),
        "columns": max((s.columns for s in sections), default=0),
        "seatCount": seat_count,
    }


@renders(InventoryOut)
def inventory_json(inventory: Inventory) -> dict[str, Any]:
    return {
        "layout": layout_json(inventory.sections, len(inventory.seats)),
        "sequence": inventory.sequence,
        "seats": [seat_json(s) for s in inventory.seats],
        "areas": [area_json(a) for a in inventory.areas],
    }


@renders(SeedSeatOut)
def seed_seat_json(seat: Seat) -> dict[str, Any]:
    plain = f"{seat.row_label}{seat.column}"
    number = (
        f"{seat.row_label}-{seat.column}" if seat.kind == "SEAT" and seat.seat_number == plain else seat.seat_number
    )
    return {"seatId": seat.id, "seatNumber": number, "booked": seat.booked, "bookedAt": seat.booked_at}


def seed_seats_json(inventory: Inventory) -> list[dict[str, Any]]:
    """The seed system's `GET /api/v1/seats`: a bare array of its seats."""
    return [seed_seat_json(s) for s in inventory.seats]


@renders(EventOut)
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
        "status": event.status.value,
        "salesStart": event.sales_opens,
        "salesEnd": event.sales_closes,
        "cancelledAt": event.cancelled_at,
        "cancelReason": event.cancel_reason,
    }


@renders(EventCancellationOut)
def event_cancellation_json(c: EventCancellation) -> dict[str, Any]:
    return {
        "event": event_json(c.event),
        "bookingsVoided": c.bookings_voided,
        "holdsReleased": c.holds_released,
        "seatsFreed": c.seats_freed,
        "sequence": c.sequence,
    }


@renders(EventListOut)
def event_list_json(events: Sequence[Event]) -> dict[str, Any]:
    return {"events": [event_json(e) for e in events]}


@renders(EventInventoryOut)
def event_inventory_json(inventory: Inventory, event: Event) -> dict[str, Any]:
    return {**inventory_json(inventory), "event": event_json(event)}


@renders(AdminInventoryOut)
def admin_inventory_json(event: Event, seats: Sequence[Seat], areas: Sequence[Area]) -> dict[str, Any]:
    return {
        "event": event_json(event),
        "seats": [admin_seat_json(s) for s in seats],
        "areas": [area_json(a) for a in areas],
    }


@renders(AllocationOut)
def allocation_json(event_id: int, changed: list[int]) -> dict[str, Any]:
    return {"eventId": event_id, "changed": len(changed), "seatIds": changed}


@renders(SessionOut)
def session_json(token: str, user_id: str, expires_at: datetime) -> dict[str, Any]:
    return {"token": token, "tokenType": "Bearer", "userId": user_id, "expiresAt": expires_at}


@renders(MyBookingsOut)
def my_bookings_json(user_id: str, records: list[BookingRecord], limit: int) -> dict[str, Any]:
    return {
        "userId": user_id,
        "bookings": [booking_record_json(r) for r in records],
        "next": records[-1].booking_id if len(records) == limit else None,
    }


@renders(MyHoldsOut)
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


@renders(VisitorOut)
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


@renders(WaitingRoomOut)
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


@renders(WaitingRoomAdminOut)
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


@renders(RevokedOut)
def revoked_json(event_id: int, count: int) -> dict[str, Any]:
    return {"eventId": event_id, "revoked": count}


MESSAGES: tuple[type[BaseModel], ...] = (SeatChangeOut,)
"""The STOMP MESSAGE bodies: in the OpenAPI components although no route answers with them."""


def add_message_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Add `MESSAGES` (and what they refer to) to an OpenAPI document's components, as FastAPI
    writes a response model: serialization mode, `#/components/schemas/` references, names sorted."""
    _, top = models_json_schema([(m, "serialization") for m in MESSAGES], ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in top.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document
