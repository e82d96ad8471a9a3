"""`/api/v1` endpoints."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice.api import checkout
from boxoffice.api.schemas import BookingOut, BookingRequest, ErrorOut, InventoryOut, inventory_json
from boxoffice.booking.service import BookingService

router = APIRouter(prefix="/api/v1")

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "Malformed JSON",
        404: "Unknown seat",
        401: "jwt auth mode: missing or invalid bearer token",
        403: "jwt auth mode: userId differs from the token subject; or not the hold's owner",
        409: "Seat already booked (SEAT_OCCUPIED); seats taken (SEATS_TAKEN, seatIds); HOLD_EXPIRED",
        413: "Body too large",
        415: "Body is not application/json",
        422: "Invalid field; Idempotency-Key reused with a different body",
        429: "Rate limited; see Retry-After",
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
    """Book one seat (or several, or a hold's seats: see api/checkout.py); exactly one of many
    concurrent requests for a seat gets 201."""
    return await checkout.create_booking(request)


@router.get("/seats", response_model=InventoryOut)
async def list_seats(request: Request) -> Response:
    """The seat inventory plus the layout a client needs to draw it."""
    return json_response(inventory_json(await _service(request).inventory()))
