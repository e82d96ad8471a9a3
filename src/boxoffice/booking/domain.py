"""Domain types and the failures a booking can end in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# Ids travel as PostgreSQL int4; anything larger is refused before the database sees it.
MAX_SEAT_ID = 2**31 - 1
MAX_USER_ID_LENGTH = 64


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

    @property
    def booked(self) -> bool:
        return self.status is SeatStatus.BOOKED


@dataclass(frozen=True, slots=True)
class Booking:
    """A confirmed booking; `sequence` orders it among all seat changes."""

    booking_id: int
    seat: Seat
    strategy: Strategy
    sequence: int


@dataclass(frozen=True, slots=True)
class SectionLayout:
    name: str
    rows: list[str]
    columns: int


@dataclass(frozen=True, slots=True)
class Inventory:
    seats: list[Seat]
    sections: list[SectionLayout]
    sequence: int
    """Highest seat-change sequence reflected in `seats` (for snapshot + delta resync)."""


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

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DatabaseUnavailable(Unavailable):
    code = "DATABASE_UNAVAILABLE"


class DatabaseBusy(Unavailable):
    """Lock or statement timeout, or the pool is exhausted: shed load instead of queueing."""

    code = "DATABASE_BUSY"


class LockServiceUnavailable(Unavailable):
    code = "REDIS_UNAVAILABLE"
