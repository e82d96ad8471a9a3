"""Every error the API answers, in one table, and one body for all: `{timestamp, status, error, message, path}`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from boxoffice import domain

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Code:
    status: int
    error: str
    meaning: str


# The table: every `error` value a client can see, its status, and what it means.
MALFORMED_JSON = Code(400, "MALFORMED_JSON", "The body is missing, not JSON, or not a JSON object")
BAD_REQUEST = Code(400, "BAD_REQUEST", "The request is malformed")
UNAUTHENTICATED = Code(401, "UNAUTHENTICATED", "A valid bearer token is required")
ADMIN_DISABLED = Code(403, "ADMIN_DISABLED", "The admin API is disabled")
NOT_ADMIN = Code(403, "NOT_ADMIN", "The token is valid but carries no admin role")
SESSIONS_DISABLED = Code(403, "SESSIONS_DISABLED", "Anonymous sessions are off in jwt auth mode")
USER_MISMATCH = Code(403, "USER_MISMATCH", "userId differs from the authenticated user")
NOT_FOUND = Code(404, "NOT_FOUND", "No such path")
SEAT_NOT_FOUND = Code(404, "SEAT_NOT_FOUND", "Unknown seat")
SEATS_NOT_FOUND = Code(404, "SEATS_NOT_FOUND", "Some of the seats do not exist (seatIds)")
HOLD_NOT_FOUND = Code(404, "HOLD_NOT_FOUND", "Unknown hold, or not yours")
BOOKING_NOT_FOUND = Code(404, "BOOKING_NOT_FOUND", "Unknown booking, or not yours")
EVENT_NOT_FOUND = Code(404, "EVENT_NOT_FOUND", "Unknown event")
METHOD_NOT_ALLOWED = Code(405, "METHOD_NOT_ALLOWED", "Method not allowed on this path")
SEAT_OCCUPIED = Code(409, "SEAT_OCCUPIED", "The seat is booked or held by someone else")
SEATS_TAKEN = Code(409, "SEATS_TAKEN", "Some seats are booked or held; nothing was changed (seatIds)")
HOLD_EXPIRED = Code(409, "HOLD_EXPIRED", "The hold lapsed; nothing was changed (seatIds)")
HOLD_NOT_ACTIVE = Code(409, "HOLD_NOT_ACTIVE", "The hold was already confirmed or released")
BOOKING_NOT_ACTIVE = Code(409, "BOOKING_NOT_ACTIVE", "The booking is already cancelled")
SEAT_LIMIT_EXCEEDED = Code(409, "SEAT_LIMIT_EXCEEDED", "The per-user seat cap for the event is reached")
EVENT_EXISTS = Code(409, "EVENT_EXISTS", "An event with this slug exists")
NOT_ENOUGH_FREE_SEATS = Code(
    409,
    "NOT_ENOUGH_FREE_SEATS",
    "An allocation asks for more tickets than the pool has free (requested, available); nothing was changed",
)
NO_BLOCK_AVAILABLE = Code(
    409, "NO_BLOCK_AVAILABLE", "No block of seats (or not enough GA tickets) matches the request; nothing was changed"
)
ORPHAN_SEAT = Code(409, "ORPHAN_SEAT", "The request would leave a single empty seat (seatIds names it)")
SEATS_BLOCKED = Code(409, "SEATS_BLOCKED", "Some seats are not for sale (seatIds)")
ACCESSIBLE_SEAT = Code(409, "ACCESSIBLE_SEAT", 'Wheelchair/companion seats need "accessible": true (seatIds)')
CHANNEL_KEY_REQUIRED = Code(
    403, "CHANNEL_KEY_REQUIRED", "Seats of a sales channel need its X-Channel-Key (seatIds), or the key is unknown"
)
SALES_NOT_OPEN = Code(
    409, "SALES_NOT_OPEN", "The event's sales window has not opened; nothing was changed (salesStart)"
)
SALES_CLOSED = Code(409, "SALES_CLOSED", "The event's sales window has closed; nothing was changed (salesEnd)")
EVENT_CANCELLED = Code(409, "EVENT_CANCELLED", "The event was cancelled; nothing sells (cancelledAt, reason)")
PAYLOAD_TOO_LARGE = Code(413, "PAYLOAD_TOO_LARGE", "The body exceeds the size limit")
UNSUPPORTED_MEDIA_TYPE = Code(415, "UNSUPPORTED_MEDIA_TYPE", "The body must be application/json")
VALIDATION_FAILED = Code(422, "VALIDATION_FAILED", "A field is invalid (the message names it)")
IDEMPOTENCY_KEY_REUSED = Code(422, "IDEMPOTENCY_KEY_REUSED", "The Idempotency-Key came with another request")
RATE_LIMITED = Code(429, "RATE_LIMITED", "Too many requests; see Retry-After")
IDEMPOTENCY_KEY_LIMIT = Code(429, "IDEMPOTENCY_KEY_LIMIT", "Too many live Idempotency-Keys; see Retry-After")
INTERNAL_ERROR = Code(500, "INTERNAL_ERROR", "An unexpected failure")
STARTING = Code(503, "STARTING", "The service is starting; see Retry-After")
SERVICE_UNAVAILABLE = Code(503, "SERVICE_UNAVAILABLE", "A dependency is unavailable; see Retry-After")
DATABASE_UNAVAILABLE = Code(
    503, "DATABASE_UNAVAILABLE", "The database is unreachable; nothing was changed; see Retry-After"
)
DATABASE_BUSY = Code(
    503, "DATABASE_BUSY", "Lock wait, timeout, conflict or pool exhausted; nothing was changed; see Retry-After"
)
OUTCOME_UNKNOWN = Code(
    503,
    "OUTCOME_UNKNOWN",
    "The change reached the database but its answer was lost: it may have been committed. Retry with the same"
    " Idempotency-Key (the first answer is replayed) or read the seat or booking; see Retry-After",
)
REDIS_UNAVAILABLE = Code(503, "REDIS_UNAVAILABLE", "Redis is unreachable (REDIS strategy); see Retry-After")
# The waiting room (docs/waiting-room.md).
ADMISSION_REQUIRED = Code(401, "ADMISSION_REQUIRED", "The event is gated: join its waiting room, send Admission-Token")
ADMISSION_INVALID = Code(403, "ADMISSION_INVALID", "The admission token is forged, malformed or another session's")
ADMISSION_EXPIRED = Code(403, "ADMISSION_EXPIRED", "The admission token has expired; join the waiting room again")
ADMISSION_WRONG_EVENT = Code(403, "ADMISSION_WRONG_EVENT", "The admission token admits to another event")
ADMISSION_REVOKED = Code(403, "ADMISSION_REVOKED", "The admission was revoked (by an operator, or the visitor left)")
CHALLENGE_FAILED = Code(403, "CHALLENGE_FAILED", "The waiting room's challenge (proof of work) is missing or wrong")
VISITOR_NOT_FOUND = Code(404, "VISITOR_NOT_FOUND", "You have not joined this waiting room")
WAITING_ROOM_UNAVAILABLE = Code(
    503, "WAITING_ROOM_UNAVAILABLE", "The waiting room's store cannot answer; nobody is let in; see Retry-After"
)
ADMISSION_ERRORS = (
    ADMISSION_REQUIRED,
    ADMISSION_INVALID,
    ADMISSION_EXPIRED,
    ADMISSION_WRONG_EVENT,
    ADMISSION_REVOKED,
    WAITING_ROOM_UNAVAILABLE,
)
_ADMISSION_REASONS = {
    "invalid": ADMISSION_INVALID,
    "expired": ADMISSION_EXPIRED,
    "wrong_event": ADMISSION_WRONG_EVENT,
    "revoked": ADMISSION_REVOKED,
}

# What any write endpoint may answer besides its own refusals.
WRITE_ERRORS = (
    MALFORMED_JSON,
    UNAUTHENTICATED,
    USER_MISMATCH,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    IDEMPOTENCY_KEY_REUSED,
    RATE_LIMITED,
    IDEMPOTENCY_KEY_LIMIT,
    DATABASE_BUSY,
    DATABASE_UNAVAILABLE,
    OUTCOME_UNKNOWN,
    REDIS_UNAVAILABLE,
)

# What a claim may answer because of the event's sales window (docs/checkout.md#sales-window).
SALE_ERRORS = (SALES_NOT_OPEN, SALES_CLOSED, EVENT_CANCELLED)

# What a claim may answer because of the inventory rules (docs/inventory.md).
INVENTORY_ERRORS = (
    *SALE_ERRORS,
    EVENT_NOT_FOUND,
    NO_BLOCK_AVAILABLE,
    ORPHAN_SEAT,
    SEATS_BLOCKED,
    ACCESSIBLE_SEAT,
    CHANNEL_KEY_REQUIRED,
)

# Domain failures, most specific class first: the first match decides the answer.
_DOMAIN: list[tuple[type[domain.BookingError], Code]] = [
    (domain.SalesNotOpen, SALES_NOT_OPEN),
    (domain.SalesClosed, SALES_CLOSED),
    (domain.EventCancelled, EVENT_CANCELLED),
    (domain.InvalidEventChange, VALIDATION_FAILED),
    (domain.OrphanSeat, ORPHAN_SEAT),
    (domain.SeatsBlocked, SEATS_BLOCKED),
    (domain.AccessibleSeat, ACCESSIBLE_SEAT),
    (domain.ChannelKeyRequired, CHANNEL_KEY_REQUIRED),
    (domain.NoBlockAvailable, NO_BLOCK_AVAILABLE),
    (domain.NotEnoughFreeSeats, NOT_ENOUGH_FREE_SEATS),
    (domain.UnknownArea, VALIDATION_FAILED),
    (domain.HoldExpired, HOLD_EXPIRED),
    (domain.SeatsTaken, SEATS_TAKEN),
    (domain.SeatOccupied, SEAT_OCCUPIED),
    (domain.SeatsNotFound, SEATS_NOT_FOUND),
    (domain.SeatNotFound, SEAT_NOT_FOUND),
    (domain.HoldNotFound, HOLD_NOT_FOUND),
    (domain.HoldNotActive, HOLD_NOT_ACTIVE),
    (domain.HoldSeatsMismatch, VALIDATION_FAILED),
    (domain.BookingNotFound, BOOKING_NOT_FOUND),
    (domain.BookingNotActive, BOOKING_NOT_ACTIVE),
    (domain.SeatLimitExceeded, SEAT_LIMIT_EXCEEDED),
    (domain.EventNotFound, EVENT_NOT_FOUND),
    (domain.EventExists, EVENT_EXISTS),
    (domain.IdempotencyKeyReused, IDEMPOTENCY_KEY_REUSED),
    (domain.IdempotencyKeyLimit, IDEMPOTENCY_KEY_LIMIT),
    (domain.InvalidInput, VALIDATION_FAILED),
    (domain.AdmissionRequired, ADMISSION_REQUIRED),
    (domain.VisitorNotFound, VISITOR_NOT_FOUND),
    (domain.ChallengeFailed, CHALLENGE_FAILED),
    (domain.WaitingRoomUnavailable, WAITING_ROOM_UNAVAILABLE),
    (domain.OutcomeUnknown, OUTCOME_UNKNOWN),
    (domain.DatabaseBusy, DATABASE_BUSY),
    (domain.DatabaseUnavailable, DATABASE_UNAVAILABLE),
    (domain.LockServiceUnavailable, REDIS_UNAVAILABLE),
    (domain.Unavailable, SERVICE_UNAVAILABLE),
]
_HTTP = {400: BAD_REQUEST, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE}


class ApiError(Exception):
    """A client mistake detected by the API layer itself."""

    def __init__(self, code: Code, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers


class ErrorOut(BaseModel):
    timestamp: datetime
    status: int
    error: str
    message: str
    path: str


def responses(*codes: Code) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the error codes it can carry."""
    by_status: dict[int, list[Code]] = {}
    for code in codes:
        by_status.setdefault(code.status, []).append(code)
    return {
        status: {"model": ErrorOut, "description": "; ".join(f"{c.error}: {c.meaning}" for c in group)}
        for status, group in sorted(by_status.items())
    }


def error_body(path: str, code: Code, message: str, extra: dict[str, object] | None = None) -> bytes:
    body = {
        "timestamp": datetime.now(UTC),
        "status": code.status,
        "error": code.error,
        "message": message,
        "path": path,
        **(extra or {}),
    }
    return orjson.dumps(body)


def error_response(
    path: str,
    code: Code,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> Response:
    body = error_body(path, code, message, extra)
    return Response(body, status_code=code.status, media_type="application/json", headers=headers)


def describe(exc: domain.BookingError) -> tuple[Code, dict[str, object], dict[str, str] | None]:
    """(code, extra body fields, headers) of a domain failure."""
    if isinstance(exc, domain.AdmissionRefused):
        return _ADMISSION_REASONS.get(exc.reason, ADMISSION_INVALID), {}, None
    code = next((c for cls, c in _DOMAIN if isinstance(exc, cls)), INTERNAL_ERROR)
    seat_ids = getattr(exc, "seat_ids", None)
    extra: dict[str, object] = {"seatIds": seat_ids} if seat_ids is not None else {}
    if isinstance(exc, domain.NotEnoughFreeSeats):
        extra = {"requested": exc.requested, "available": exc.available}
    if isinstance(exc, domain.NotOnSale):
        extra.update(exc.fields)
    retry = getattr(exc, "retry_after_s", None)
    headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
    return code, extra, headers


def is_final(exc: domain.BookingError) -> bool:
    """A refusal to store behind an idempotency key; retryable failures (503) are not final."""
    return not isinstance(exc, domain.Unavailable) and describe(exc)[0] is not INTERNAL_ERROR


def domain_error_response(path: str, exc: domain.BookingError) -> Response:
    code, extra, headers = describe(exc)
    if code is INTERNAL_ERROR:
        log.error("unmapped booking error %r", exc)
        return error_response(path, code, "Unexpected booking failure")
    return error_response(path, code, str(exc), headers, extra)


_PATTERNS = {
    r"^[^\x00-\x1f\x7f]+$": "Must not contain control characters",
    r"^[^\x00-\x1f\x7f]*$": "Must not contain control characters",
    r"^[A-Z]{1,3}[0-9]{1,3}$": 'Must be a seat like "A1" or "AB12": 1-3 capital letters (the row), then 1-3 digits',
    r"^[\x21-\x7e]+$": "Must be printable ASCII without spaces",
    r"^[a-z0-9][a-z0-9-]{0,62}$": (
        "Must be 1-63 lowercase letters, digits and hyphens, starting with a letter or digit (like jazz-night-2026)"
    ),
}
"""Every pattern a request field declares (api/schemas.py, layouts.py, api/waitroom.py), said in words."""


def pattern_words(pattern: str) -> str:
    """What a field whose value missed `pattern` must look like; a pattern not yet described is quoted."""
    return _PATTERNS.get(pattern, f"Must match the pattern {pattern}")


def validation_message(exc: ValidationError | RequestValidationError) -> tuple[Code, str]:
    """Name the first offending field precisely; malformed JSON is 400, a bad value 422."""
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return MALFORMED_JSON, "Request body is not valid JSON"
    if any(e["type"] in ("model_type", "model_attributes_type") for e in errors):
        return MALFORMED_JSON, "Request body must be a JSON object"
    parts = []
    for e in errors[:5]:
        field = ".".join(str(p) for p in e["loc"] if p != "body")
        msg = e["msg"]
        if e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        elif e["type"] == "extra_forbidden":
            msg = "Unknown field"
        elif e["type"] == "enum":
            msg = f"Unknown strategy; expected one of {e.get('ctx', {}).get('expected', '')}"
        elif e["type"] == "string_pattern_mismatch":
            msg = pattern_words(str(e.get("ctx", {}).get("pattern", "")))
        parts.append(f"{field}: {msg}" if field else msg)
    return VALIDATION_FAILED, "; ".join(parts)


def response_for(path: str, exc: Exception) -> Response | None:
    """The answer to a failure the app expects (client mistakes, domain failures); None for a bug."""
    if isinstance(exc, ApiError):
        return error_response(path, exc.code, exc.message, exc.headers)
    if isinstance(exc, ValidationError | RequestValidationError):
        code, message = validation_message(exc)
        return error_response(path, code, message)
    if isinstance(exc, domain.BookingError):
        return domain_error_response(path, exc)
    return None


def allow_header(methods: Iterable[str]) -> dict[str, str]:
    """The `Allow` header a 405 must carry (RFC 9110, 15.5.6): the methods the path does answer."""
    return {"Allow": ", ".join(sorted(set(methods)))}


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def methods_at(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route fully matches at the request's path: Starlette's 405 names only the
    first route that matches the path, while a path may have several (`GET` and `PUT` of an event's
    waiting room). Asked through the routes' own matching, so included routers count too."""
    routes = list(routes)
    allowed: set[str] = set()
    for method in METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.add(method)
    return allowed


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    @app.exception_handler(ValidationError)
    @app.exception_handler(RequestValidationError)
    @app.exception_handler(domain.BookingError)
    async def expected(request: Request, exc: Exception) -> Response:
        response = response_for(request.url.path, exc)
        assert response is not None
        return response

    @app.exception_handler(UnicodeEncodeError)
    async def unencodable(request: Request, exc: UnicodeEncodeError) -> Response:
        # Backstop behind the request validators: client text (a lone surrogate from a JSON escape) that
        # Redis or another codec cannot encode is a client mistake, not a 500 that drops the connection.
        return error_response(
            request.url.path, VALIDATION_FAILED, "Request text cannot be encoded (e.g. a lone surrogate)"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP.get(exc.status_code, Code(exc.status_code, "HTTP_ERROR", ""))
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            methods = methods_at(app.router.routes, request.scope)
            headers = allow_header(methods or (headers or {}).get("Allow", "").split(", "))
        return error_response(request.url.path, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ClientDisconnect):
            # Gone mid-body: nothing to answer or log; the observability layer (api/middleware.py) counts it as 499.
            raise exc
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request.url.path, INTERNAL_ERROR, "Internal server error")
