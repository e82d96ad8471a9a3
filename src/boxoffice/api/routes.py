"""`/api/v1` endpoints."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice.api.errors import ApiError
from boxoffice.api.schemas import BookingOut, BookingRequest, ErrorOut, InventoryOut, booking_json, inventory_json
from boxoffice.booking.service import BookingService

router = APIRouter(prefix="/api/v1")

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "Malformed JSON",
        404: "Unknown seat",
        409: "Seat already booked (error SEAT_OCCUPIED)",
        413: "Body too large",
        415: "Body is not application/json",
        422: "Invalid field",
        503: "Database or Redis unavailable or busy; see Retry-After",
    }.items()
}


def _request_schema() -> dict[str, Any]:
    """BookingRequest's schema with refs into the document's components (a local `$defs` cannot resolve)."""
    schema = BookingRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def _service(request: Request) -> BookingService:
    service: BookingService = request.app.state.booking
    return service


def json_response(payload: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


@router.post(
    "/bookings",
    status_code=201,
    response_model=BookingOut,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _request_schema()}},
        }
    },
)
async def create_booking(request: Request) -> Response:
    """Book one seat; exactly one of many concurrent requests for a seat gets 201."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    body = await request.body()
    if not body:
        raise ApiError(400, "MALFORMED_JSON", "Request body is required")
    payload = BookingRequest.model_validate_json(body)
    booking = await _service(request).book(payload.seatId, payload.userId, payload.strategy)
    return json_response(booking_json(booking), 201)


@router.get("/seats", response_model=InventoryOut)
async def list_seats(request: Request) -> Response:
    """The seat inventory plus the layout a client needs to draw it."""
    return json_response(inventory_json(await _service(request).inventory()))
