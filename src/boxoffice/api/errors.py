"""One error body for every failure: `{timestamp, status, error, message, path}`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from boxoffice.domain import (
    BookingError,
    BookingNotActive,
    BookingNotFound,
    HoldExpired,
    HoldNotActive,
    HoldNotFound,
    HoldSeatsMismatch,
    NotOwner,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatsNotFound,
    SeatsTaken,
    Unavailable,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client mistake detected by the API layer itself."""

    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers


def error_body(
    request: Request, status: int, error: str, message: str, extra: dict[str, object] | None = None
) -> bytes:
    body = {
        "timestamp": datetime.now(UTC),
        "status": status,
        "error": error,
        "message": message,
        "path": request.url.path,
        **(extra or {}),
    }
    return orjson.dumps(body)


def error_response(
    request: Request,
    status: int,
    error: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> Response:
    body = error_body(request, status, error, message, extra)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


# Most specific first: the first matching class decides the status and error code.
_BOOKING_ERRORS: list[tuple[type[BookingError], int, str]] = [
    (HoldExpired, 409, "HOLD_EXPIRED"),
    (SeatsTaken, 409, "SEATS_TAKEN"),
    (SeatOccupied, 409, "SEAT_OCCUPIED"),
    (SeatsNotFound, 404, "SEATS_NOT_FOUND"),
    (SeatNotFound, 404, "SEAT_NOT_FOUND"),
    (HoldNotFound, 404, "HOLD_NOT_FOUND"),
    (HoldNotActive, 409, "HOLD_NOT_ACTIVE"),
    (HoldSeatsMismatch, 422, "VALIDATION_FAILED"),
    (BookingNotFound, 404, "BOOKING_NOT_FOUND"),
    (BookingNotActive, 409, "BOOKING_NOT_ACTIVE"),
    (NotOwner, 403, "NOT_OWNER"),
    (SeatLimitExceeded, 409, "SEAT_LIMIT_EXCEEDED"),
]


def describe(exc: BookingError) -> tuple[int, str, dict[str, object]] | None:
    """(status, error code, extra body fields) of a final outcome; None for retryable or unknown failures."""
    for cls, status, code in _BOOKING_ERRORS:
        if isinstance(exc, cls):
            seat_ids = getattr(exc, "seat_ids", None)
            return status, code, ({"seatIds": seat_ids} if seat_ids is not None else {})
    return None


def validation_message(exc: ValidationError | RequestValidationError) -> tuple[int, str, str]:
    """Name the first offending field precisely; malformed JSON is 400, a bad value 422."""
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return 400, "MALFORMED_JSON", "Request body is not valid JSON"
    if any(e["type"] in ("model_type", "model_attributes_type") for e in errors):
        return 400, "MALFORMED_JSON", "Request body must be a JSON object"
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
            msg = "Must not contain control characters"
        parts.append(f"{field}: {msg}" if field else msg)
    return 422, "VALIDATION_FAILED", "; ".join(parts)


_STATUS_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.error, exc.message, exc.headers)

    @app.exception_handler(ValidationError)
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError | RequestValidationError)
        status, error, message = validation_message(exc)
        return error_response(request, status, error, message)

    @app.exception_handler(BookingError)
    async def booking_error(request: Request, exc: BookingError) -> Response:
        described = describe(exc)
        if described is not None:
            status, code, extra = described
            return error_response(request, status, code, str(exc), extra=extra)
        if isinstance(exc, Unavailable):
            headers = {"Retry-After": str(exc.retry_after_s)}
            return error_response(request, 503, exc.code, str(exc), headers)
        log.error("unmapped booking error %r", exc)
        return error_response(request, 500, "INTERNAL_ERROR", "Unexpected booking failure")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
        return error_response(request, exc.status_code, error, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "INTERNAL_ERROR", "Internal server error")
