"""`/api/v1/seats`: the default event's seat map (kept from before events existed), and the seed
system's shape of it for the seed's own clients (docs/api.md#seed-compatible-clients)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.compression import snapshot_response
from boxoffice.api.deps import ApiDep
from boxoffice.booking.snapshots import Payload
from boxoffice.domain import DEFAULT_EVENT_ID

router = APIRouter(prefix="/api/v1", tags=["seats"])

Shape = Literal["inventory", "array"]


async def _inventory_only() -> Payload:
    return wire.inventory_json


async def _seed_array() -> Payload:
    return wire.seed_seats_json


@router.get(
    "/seats",
    response_model=wire.InventoryOut | list[wire.SeedSeatOut],
    responses=errors.responses(errors.DATABASE_BUSY, errors.DATABASE_UNAVAILABLE),
)
async def list_seats(
    request: Request,
    api: ApiDep,
    shape: Annotated[
        Shape | None,
        Query(
            description="`inventory` (layout, sequence, seats); `array`: the seed system's bare array of "
            "`{seatId, seatNumber, booked, bookedAt}`. Default: `inventory`, or `array` with `BOXOFFICE_SEED_COMPAT`."
        ),
    ] = None,
) -> Response:
    """The seat inventory plus the layout a client needs to draw it, and a safe resume `sequence`."""
    # Shared for up to BOXOFFICE_SNAPSHOT_CACHE_MS between clients and compressed (br, gzip) by
    # Accept-Encoding; always a state of the database after the request arrived (booking/snapshots.py).
    if (shape or ("array" if api.settings.seed_compat else "inventory")) == "array":
        snapshot = await api.snapshots.get(("seats-array", DEFAULT_EVENT_ID), DEFAULT_EVENT_ID, _seed_array)
    else:
        snapshot = await api.snapshots.get(("seats", DEFAULT_EVENT_ID), DEFAULT_EVENT_ID, _inventory_only)
    return await snapshot_response(request, snapshot)
