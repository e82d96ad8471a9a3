"""`/api/v1/events`: events and their seat maps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.deps import Bookings, Events
from boxoffice.api.http import json_response

router = APIRouter(prefix="/api/v1", tags=["events"])

EventIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/events", response_model=wire.EventListOut)
async def list_events(events: Events) -> Response:
    return json_response({"events": [wire.event_json(e) for e in await events.list()]})


@router.get("/events/{event_id}", response_model=wire.EventOut, responses=errors.responses(errors.EVENT_NOT_FOUND))
async def get_event(event_id: EventIdPath, events: Events) -> Response:
    return json_response(wire.event_json(await events.get(event_id)))


@router.get(
    "/events/{event_id}/seats",
    response_model=wire.EventInventoryOut,
    responses=errors.responses(errors.EVENT_NOT_FOUND),
)
async def event_seats(event_id: EventIdPath, events: Events, bookings: Bookings) -> Response:
    """Same shape as /api/v1/seats (layout, sequence, seats) for one event, plus the event."""
    event = await events.get(event_id)
    inventory = await bookings.inventory(event_id)
    return json_response({**wire.inventory_json(inventory), "event": wire.event_json(event)})
