"""Domain types and the failures a booking can end in."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

# Ids travel as PostgreSQL int4; anything larger is refused before the database sees it.
MAX_SEAT_ID = 2**31 - 1
MAX_USER_ID_LENGTH = 64
MAX_SEATS_PER_REQUEST = 10
DEFAULT_EVENT_ID = 1
"""The event `/api/v1/seats` and `/topic/seats` serve (migration 0003 puts pre-existing seats in it)."""
SESSION_PREFIX = "session:"
"""User ids of anonymous sessions start with this; a `userId` in a body may not (it is reserved)."""


class Strategy(enum.StrEnum):
    """How concurrent claims on one seat are serialised."""

    DB = "DB"
    """Row lock: BEGIN; SELECT ... FOR UPDATE; UPDATE; COMMIT."""
    REDIS = "REDIS"
    """Fast-fail Redis lease in front of the database's conditional write."""
    ATOMIC = "ATOMIC"
    """One conditional statement that claims the seat and records the booking."""


class SeatStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    HELD = "HELD"
    BOOKED = "BOOKED"


@dataclass(frozen=True, slots=True)
class Seat:
    id: int
    seat_number: str
    section: str
    row_label: str
    row: int
    column: int
    status: SeatStatus
    booked_by: str | None
    booked_at: datetime | None
    version: int
    held_until: datetime | None = None
    event_id: int = DEFAULT_EVENT_ID
    category: str | None = None
    price_cents: int | None = None
    kind: str = "SEAT"
    """`SEAT` (reserved) or `GA` (one general-admission ticket of an area; `section` is the area)."""
    accessibility: str | None = None
    """`WHEELCHAIR`, `COMPANION` or None."""
    channel: str | None = None
    """Bookable only with this sales channel's key (or by an admin)."""
    blocked: str | None = None
    """Why the seat is not for sale (`SPONSOR`, `PRODUCTION`, `PRESS`, `HOUSE`); never shown publicly."""

    @property
    def booked(self) -> bool:
        return self.status is SeatStatus.BOOKED

    @property
    def effective_status(self) -> SeatStatus:
        """A lapsed hold reads as AVAILABLE: every claim statement treats it so, sweeper or not."""
        if self.status is SeatStatus.HELD and self.held_until is not None and self.held_until <= datetime.now(UTC):
            return SeatStatus.AVAILABLE
        return self.status


@dataclass(frozen=True, slots=True)
class Booking:
    """A confirmed booking; `sequence` orders it among all seat changes."""

    booking_id: int
    seat: Seat
    strategy: Strategy
    sequence: int
    manage_token: str | None = None
    """Returned to a creator without a session or token: the secret that reads and cancels it."""


class HoldState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    """Shown for an ACTIVE hold past its expiry; derived when read, never stored."""


@dataclass(frozen=True, slots=True)
class Hold:
    token: UUID
    user_id: str
    seats: list[Seat]
    state: HoldState
    expires_at: datetime
    sequence: int
    """Highest seat-change sequence written by the last change to this hold (0 if none)."""


@dataclass(frozen=True, slots=True)
class Cancellation:
    booking_id: int
    seat: Seat
    user_id: str
    cancelled_at: datetime
    reason: str | None
    sequence: int


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking as stored, cancelled or not: the audit trail."""

    booking_id: int
    seat_id: int
    user_id: str
    strategy: str
    status: str
    created_at: datetime
    hold_token: UUID | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None


class EventStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    """Sells nothing more; its bookings were voided and its holds released when it was cancelled."""


@dataclass(frozen=True, slots=True)
class Event:
    """One performance at one venue, with its own seat map."""

    id: int
    slug: str
    name: str
    venue: str
    starts_at: datetime | None
    created_at: datetime
    seat_count: int
    no_orphans: bool = False
    orphan_row_ends: bool = False
    channels: tuple[str, ...] = ()
    status: EventStatus = EventStatus.SCHEDULED
    sales_start: datetime | None = None
    """When sales open; None: from creation (`created_at`)."""
    sales_end: datetime | None = None
    """When sales close; None: at `starts_at`, or never when the event has no date."""
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def sales_opens(self) -> datetime:
        return self.sales_start or self.created_at

    @property
    def sales_closes(self) -> datetime | None:
        return self.sales_end or self.starts_at


@dataclass(frozen=True, slots=True)
class EventCancellation:
    """What cancelling an event did, in its one transaction."""

    event: Event
    bookings_voided: int
    holds_released: int
    seats_freed: int
    sequence: int
    """Highest seat-change sequence the cancel wrote (0 if it freed no seat)."""


UNSET: Any = object()
"""A field an edit leaves as it is (None means "back to the default" where a field has one)."""


@dataclass(frozen=True, slots=True)
class EventChanges:
    """An edit of an event: every field left UNSET keeps its value. `sales_start`/`sales_end` None
    go back to the default window (from creation, until the event's date)."""

    name: str = UNSET
    starts_at: datetime | None = UNSET
    sales_start: datetime | None = UNSET
    sales_end: datetime | None = UNSET
    no_orphans: bool = UNSET
    orphan_row_ends: bool = UNSET


@dataclass(frozen=True, slots=True)
class SectionLayout:
    name: str
    rows: list[str]
    columns: int
    kind: str = "SEATED"
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class Area:
    """A general-admission area: `available` counts tickets a public buyer can take now."""

    name: str
    category: str | None
    price_cents: int | None
    capacity: int
    available: int


@dataclass(frozen=True, slots=True)
class Inventory:
    seats: list[Seat]
    sections: list[SectionLayout]
    sequence: int
    """Highest seat-change sequence reflected in `seats` (for snapshot + delta resync)."""
    areas: list[Area] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and how they proved it.

    `authenticated` means a verified session or JWT; otherwise `user_id` is a name the request
    gave itself (open mode) and proves nothing: acting on a booking or hold then takes its secret.
    """

    user_id: str | None
    authenticated: bool
    admin: bool = False

    @property
    def user(self) -> str:
        """The user id of a caller that must have one (the API refuses a request without it first)."""
        if self.user_id is None:
            raise ValueError("this caller has no user id")
        return self.user_id


class BookingError(Exception):
    """Base of every expected booking failure; the API maps each to one status code."""


class SeatNotFound(BookingError):
    def __init__(self, seat_id: int) -> None:
        super().__init__(f"Seat {seat_id} does not exist")
        self.seat_id = seat_id


class SeatOccupied(BookingError):
    def __init__(self, seat_id: int, detail: str = "is already booked") -> None:
        super().__init__(f"Seat {seat_id} {detail}")
        self.seat_id = seat_id


class Unavailable(BookingError):
    """A dependency could not answer in time; the client may retry after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DatabaseUnavailable(Unavailable):
    """The database could not be reached."""


class DatabaseBusy(Unavailable):
    """Lock or statement timeout, conflict, or the pool is exhausted: shed load instead of queueing.

    Definite: raised only when nothing can have been committed."""


class OutcomeUnknown(Unavailable):
    """A write or its COMMIT reached the database and its answer was lost (no reply in time, connection
    gone): it may have committed. Never a final answer; the client resolves it by retrying with the
    same Idempotency-Key or by reading the seat or booking."""


class InvalidInput(BookingError):
    """A value the database refuses as data (class 22: text it cannot encode, a number out of range):
    a client mistake that changed nothing. Its text never echoes the value (it may not be encodable)."""


class LockServiceUnavailable(Unavailable):
    """Redis could not be reached for a seat lease."""


class SeatsNotFound(SeatNotFound):
    """Some of several requested seats do not exist (nothing was changed)."""

    def __init__(self, seat_ids: list[int]) -> None:
        BookingError.__init__(self, f"Seats {_ids(seat_ids)} do not exist")
        self.seat_id = seat_ids[0]
        self.seat_ids = seat_ids


class SeatsTaken(SeatOccupied):
    """Some of several requested seats are booked or held by someone else (nothing was changed)."""

    def __init__(self, seat_ids: list[int], detail: str = "are already booked or held") -> None:
        if len(seat_ids) == 1:  # "Seat 21 is ...", never "Seats 21 are ..."
            BookingError.__init__(self, f"Seat {seat_ids[0]} {_singular(detail)}")
        else:
            BookingError.__init__(self, f"Seats {_ids(seat_ids)} {detail}")
        self.seat_id = seat_ids[0]
        self.seat_ids = seat_ids


class HoldNotFound(BookingError):
    def __init__(self) -> None:
        super().__init__("Hold not found")


class HoldExpired(SeatsTaken):
    """The hold lapsed (some of its seats may already belong to others); nothing was changed."""

    def __init__(self, seat_ids: list[int]) -> None:
        super().__init__(seat_ids, "are no longer held by this hold (it expired)")


class HoldNotActive(BookingError):
    def __init__(self, state: HoldState) -> None:
        super().__init__(f"The hold is {state.value.lower()}")
        self.state = state


class HoldSeatsMismatch(BookingError):
    """`seatIds` sent with a hold token must be exactly the held seats: a client bug (422)."""

    def __init__(self, held: list[int]) -> None:
        super().__init__(f"seatIds must be exactly the held seats [{_ids(held)}] or be omitted")


class BookingNotFound(BookingError):
    def __init__(self, booking_id: int) -> None:
        # The same words whether it does not exist or is someone else's: no existence oracle.
        super().__init__(f"Booking {booking_id} not found")


class BookingNotActive(BookingError):
    def __init__(self, booking_id: int) -> None:
        super().__init__(f"Booking {booking_id} is already cancelled")


class EventNotFound(BookingError):
    def __init__(self, event_id: int) -> None:
        super().__init__(f"Event {event_id} does not exist")


class EventExists(BookingError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"An event with slug {slug!r} already exists")


class NotOnSale(BookingError):
    """The seats' event is not selling now (before or after its sales window, or cancelled); the claim
    itself refused, so nothing was changed. `fields` go into the answer (the times that apply)."""

    def __init__(self, event_id: int, message: str, fields: dict[str, object]) -> None:
        super().__init__(message)
        self.event_id = event_id
        self.fields = {"eventId": event_id, **fields}


class SalesNotOpen(NotOnSale):
    def __init__(self, event_id: int, opens: datetime, closes: datetime | None) -> None:
        super().__init__(
            event_id,
            f"Sales for event {event_id} open at {opens.isoformat()}",
            {"salesStart": opens, "salesEnd": closes},
        )


class SalesClosed(NotOnSale):
    def __init__(self, event_id: int, opened: datetime, closed: datetime) -> None:
        super().__init__(
            event_id,
            f"Sales for event {event_id} closed at {closed.isoformat()}",
            {"salesStart": opened, "salesEnd": closed},
        )


class EventCancelled(NotOnSale):
    def __init__(self, event_id: int, cancelled_at: datetime, reason: str | None) -> None:
        super().__init__(
            event_id,
            f"Event {event_id} was cancelled at {cancelled_at.isoformat()}" + (f": {reason}" if reason else ""),
            {"cancelledAt": cancelled_at, "reason": reason},
        )


class InvalidEventChange(BookingError):
    """An edit that would leave the event inconsistent (an empty sales window); nothing was changed (422)."""


class IdempotencyKeyReused(BookingError):
    """The same Idempotency-Key came with a different request: a client bug, never a silent replay."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key was already used with a different request")


class IdempotencyKeyLimit(BookingError):
    """The caller has too many live Idempotency-Keys; the oldest expires in `retry_after_s`."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(f"At most {limit} live Idempotency-Keys per user; retry without a key or in {retry_after_s}s")
        self.retry_after_s = retry_after_s


class SeatLimitExceeded(BookingError):
    def __init__(self, limit: int, current: int) -> None:
        super().__init__(
            f"At most {plural(limit, 'seat')} per user and event; you already have {current} held or booked"
        )
        self.limit = limit


class NeedsCheckout(SeatOccupied):
    """The single-seat fast path may not claim this seat (a channel, accessible or blocked seat, a GA
    ticket, an event with the orphan rule): the checked multi-seat transaction must decide. Never
    reaches a client."""

    def __init__(self, seat_id: int) -> None:
        super().__init__(seat_id, "needs the checked path")


class UnknownArea(BookingError):
    """A request names a GA area, section, category or channel the event does not have (a client
    mistake: 422); `field` is the request field that named it."""

    def __init__(self, name: str, what: str = "GA area", field: str | None = None) -> None:
        super().__init__(f"{field + ': ' if field else ''}The event has no {what} named {name!r}")


class NotEnoughFreeSeats(BookingError):
    """An allocation asks for more tickets than its source pool has free; nothing was changed."""

    def __init__(self, area: str, requested: int, available: int) -> None:
        super().__init__(
            f"Only {plural(available, 'free ticket')} in that pool of {area}; asked for {requested}."
            " Nothing was changed"
        )
        self.requested = requested
        self.available = available


class NoBlockAvailable(BookingError):
    """Best available found no block (or not enough GA tickets) matching the request; nothing was changed."""


class OrphanSeat(SeatsTaken):
    """The claim would leave a single free seat between taken seats (or at a row end); nothing was changed."""

    def __init__(self, seat_id: int, seat_number: str) -> None:
        BookingError.__init__(
            self, f"Taking these seats would leave seat {seat_number} (id {seat_id}) alone; choose other seats"
        )
        self.seat_id = seat_id
        self.seat_ids = [seat_id]


class SeatsBlocked(SeatsTaken):
    def __init__(self, seat_ids: list[int]) -> None:
        super().__init__(seat_ids, "are not for sale")


class AccessibleSeat(SeatsTaken):
    def __init__(self, seat_ids: list[int]) -> None:
        if len(seat_ids) == 1:
            super().__init__(seat_ids, 'is a wheelchair or companion seat; send "accessible": true to take it')
        else:
            super().__init__(seat_ids, 'are wheelchair or companion seats; send "accessible": true to take them')


class ChannelKeyRequired(SeatsTaken):
    def __init__(self, seat_ids: list[int]) -> None:
        if seat_ids:
            super().__init__(seat_ids, "are reserved for a sales channel; send its X-Channel-Key")
        else:
            BookingError.__init__(self, "X-Channel-Key is not a key of this event's channels")
            self.seat_id = 0
            self.seat_ids = []


@dataclass(frozen=True, slots=True)
class Access:
    """What a request may take besides ordinary public seats."""

    channels: frozenset[str] = frozenset()
    """Channel names whose key the request presented (resolved per event)."""
    channel_key: str | None = None
    admin: bool = False
    accessible: bool = False
    """Hand-picked wheelchair/companion seats were asked for on purpose."""


@dataclass(frozen=True, slots=True)
class BestAvailable:
    event_id: int
    quantity: int
    category: str | None = None
    section: str | None = None
    together: bool = True
    accessible: int = 0


def _ids(seat_ids: list[int]) -> str:
    return ", ".join(str(i) for i in seat_ids)


def _singular(detail: str) -> str:
    """A plural seat message's verb for one seat: "are booked" -> "is booked"."""
    return "is" + detail[3:] if detail.startswith("are ") else detail


def plural(count: int, noun: str) -> str:
    """`1 seat`, `2 seats`, `0 seats`: messages count in English."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- waiting room (docs/waiting-room.md) ---------------------------------------------------------


class VisitorState(enum.StrEnum):
    NOT_GATED = "NOT_GATED"
    WAITING = "WAITING"
    ADMITTED = "ADMITTED"
    EXPIRED = "EXPIRED"
    LEFT = "LEFT"
    DROPPED = "DROPPED"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class WaitingRoomConfig:
    """An event's gating, as the operator set it."""

    event_id: int
    enabled: bool
    starts_at: datetime
    max_active: int
    per_minute: int
    min_per_minute: int
    adaptive: bool
    hold_s: int
    admission_ttl_s: int


@dataclass(frozen=True, slots=True)
class WaitingRoomStats:
    """Live figures of one event's room; `rate_per_minute` is the adaptive rate now in force."""

    config: WaitingRoomConfig
    waiting: int
    active: int
    admitted_total: int
    rate_per_minute: float
    revoked_before: datetime | None


@dataclass(frozen=True, slots=True)
class VisitorStatus:
    event_id: int
    state: VisitorState
    position: int | None = None
    people_ahead: int | None = None
    estimated_wait_s: int | None = None
    starts_at: datetime | None = None
    joined_at: datetime | None = None
    admission_token: str | None = None
    admitted_until: datetime | None = None
    poll_after_s: int = 1


class AdmissionRequired(BookingError):
    """Seats of a gated event need an admission token (the waiting room)."""

    def __init__(self, event_id: int) -> None:
        super().__init__(f"Event {event_id} is gated: join its waiting room and send the Admission-Token header")
        self.event_id = event_id


class AdmissionRefused(BookingError):
    """An admission token that does not admit: `reason` is invalid, expired, wrong_event or revoked."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class VisitorNotFound(BookingError):
    def __init__(self, event_id: int) -> None:
        super().__init__(f"You have not joined the waiting room of event {event_id}")


class ChallengeFailed(BookingError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class WaitingRoomUnavailable(Unavailable):
    """The queue store cannot answer: the room fails closed (nobody is let in)."""
