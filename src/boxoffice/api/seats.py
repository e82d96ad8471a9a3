"""`/api/v1/seats`: the default event's seat map (kept from before events existed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.compression import snapshot_response
from boxoffice.api.deps import Snapshots
from boxoffice.booking.snapshots import Payload
from boxoffice.domain import DEFAULT_EVENT_ID

router = APIRouter(prefix="/api/v1", tags=["seats"])


async def _inventory_only() -> Payload:
    return wire.inventory_json


@router.get(
    "/seats",
    response_model=wire.InventoryOut,
    responses=errors.responses(errors.DATABASE_BUSY, errors.DATABASE_UNAVAILABLE),
)
async def list_seats(request: Request, snapshots: Snapshots) -> Response:
    """The seat inventory plus the layout a client needs to draw it, and a safe resume `sequence`."""
    # Shared for up to BOXOFFICE_SNAPSHOT_CACHE_MS between clients and compressed (br, gzip) by
    # Accept-Encoding; always a state of the database after the request arrived (booking/snapshots.py).
    snapshot = await snapshots.get(("seats", DEFAULT_EVENT_ID), DEFAULT_EVENT_ID, _inventory_only)
    return await snapshot_response(request, snapshot)
