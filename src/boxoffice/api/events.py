"""`/api/v1/events`: events and their seat maps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.compression import snapshot_response
from boxoffice.api.deps import Events, Snapshots
from boxoffice.api.http import json_response
from boxoffice.booking.snapshots import Payload

router = APIRouter(prefix="/api/v1", tags=["events"])

EventIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/events", response_model=wire.EventListOut)
async def list_events(events: Events) -> Response:
    return json_response(wire.event_list_json(await events.list()))


@router.get("/events/{event_id}", response_model=wire.EventOut, responses=errors.responses(errors.EVENT_NOT_FOUND))
async def get_event(event_id: EventIdPath, events: Events) -> Response:
    return json_response(wire.event_json(await events.get(event_id)))


@router.get(
    "/events/{event_id}/seats",
    response_model=wire.EventInventoryOut,
    responses=errors.responses(errors.EVENT_NOT_FOUND),
)
async def event_seats(request: Request, event_id: EventIdPath, events: Events, snapshots: Snapshots) -> Response:
    """Same shape as /api/v1/seats (layout, sequence, seats) for one event, plus the event."""
    # Shared and compressed like /api/v1/seats.

    async def prepare() -> Payload:
        event = await events.get(event_id)
        return lambda inventory: wire.event_inventory_json(inventory, event)

    snapshot = await snapshots.get(("event", event_id), event_id, prepare)
    return await snapshot_response(request, snapshot)
