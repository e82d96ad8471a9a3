"""`/api/v1/seats`: the default event's seat map (kept from before events existed)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.deps import Bookings
from boxoffice.api.http import json_response

router = APIRouter(prefix="/api/v1", tags=["seats"])


@router.get(
    "/seats",
    response_model=wire.InventoryOut,
    responses=errors.responses(errors.DATABASE_BUSY, errors.DATABASE_UNAVAILABLE),
)
async def list_seats(bookings: Bookings) -> Response:
    """The seat inventory plus the layout a client needs to draw it, and a safe resume `sequence`."""
    return json_response(wire.inventory_json(await bookings.inventory()))
