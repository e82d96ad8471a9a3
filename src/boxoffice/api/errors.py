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

from boxoffice.booking.domain import BookingError, SeatNotFound, SeatOccupied, Unavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client mistake detected by the API layer itself."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def error_response(
    request: Request, status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = {
        "timestamp": datetime.now(UTC),
        "status": status,
        "error": error,
        "message": message,
        "path": request.url.path,
    }
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def validation_message(exc: ValidationError | RequestValidationError) -> tuple[int, str, str]:
    """Name the first offending field precisely; malformed JSON is 400, a bad value 422."""
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return 400, "MALFORMED_JSON", "Request body is not valid JSON"
    if any(e["type"] in ("model_type", "model_attributes_type") for e in errors):
        return 400, "MALFORMED_JSON", "Request body must be a JSON object"
    parts = []
    for e in errors[:5]:
        field = ".".join(str(p) for p in e["loc"] if p != "body") or "body"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "Unknown field"
        elif e["type"] == "enum":
            msg = f"Unknown strategy; expected one of {e.get('ctx', {}).get('expected', '')}"
        elif e["type"] == "string_pattern_mismatch":
            msg = "Must not contain control characters"
        parts.append(f"{field}: {msg}")
    return 422, "VALIDATION_FAILED", "; ".join(parts)


_STATUS_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status, exc.error, exc.message)

    @app.exception_handler(ValidationError)
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError | RequestValidationError)
        status, error, message = validation_message(exc)
        return error_response(request, status, error, message)

    @app.exception_handler(BookingError)
    async def booking_error(request: Request, exc: BookingError) -> Response:
        if isinstance(exc, SeatOccupied):
            return error_response(request, 409, "SEAT_OCCUPIED", str(exc))
        if isinstance(exc, SeatNotFound):
            return error_response(request, 404, "SEAT_NOT_FOUND", str(exc))
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
