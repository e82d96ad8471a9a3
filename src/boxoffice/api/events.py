"""Events, their seat maps, and the admin API that creates them."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from boxoffice.api.checkout import read_body
from boxoffice.api.errors import ApiError
from boxoffice.api.schemas import inventory_json
from boxoffice.booking.service import BookingService
from boxoffice.storage import venues
from boxoffice.storage.db import connection

router = APIRouter(prefix="/api/v1")

EventIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def event_json(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventId": event["id"],
        "slug": event["slug"],
        "name": event["name"],
        "venue": event["venue"],
        "startsAt": event["starts_at"],
        "createdAt": event["created_at"],
        "seatCount": event["seat_count"],
        "seatsPath": f"/api/v1/events/{event['id']}/seats",
    }


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def _event(request: Request, event_id: int) -> dict[str, Any]:
    settings = request.app.state.settings
    async with connection(request.app.state.pool, settings.db_acquire_timeout_s) as conn:
        event = await venues.get_event(conn, event_id)
    if event is None:
        raise ApiError(404, "EVENT_NOT_FOUND", f"Event {event_id} does not exist")
    return event


@router.get("/events")
async def list_events(request: Request) -> Response:
    settings = request.app.state.settings
    async with connection(request.app.state.pool, settings.db_acquire_timeout_s) as conn:
        events = await venues.list_events(conn)
    return _json({"events": [event_json(e) for e in events]})


@router.get("/events/{event_id}")
async def get_event(event_id: EventIdPath, request: Request) -> Response:
    return _json(event_json(await _event(request, event_id)))


@router.get("/events/{event_id}/seats")
async def event_seats(event_id: EventIdPath, request: Request) -> Response:
    """Same shape as /api/v1/seats (layout, sequence, seats) for one event, plus the event."""
    event = await _event(request, event_id)
    service: BookingService = request.app.state.booking
    return _json({**inventory_json(await service.inventory(event_id)), "event": event_json(event)})


def _require_admin(request: Request) -> None:
    token: str | None = request.app.state.settings.admin_token
    if token is None:
        raise ApiError(403, "ADMIN_DISABLED", "The admin API is disabled; set BOXOFFICE_ADMIN_TOKEN")
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(401, "UNAUTHENTICATED", "Admin bearer token required", {"WWW-Authenticate": "Bearer"})


@router.post("/admin/events", status_code=201)
async def create_event(request: Request) -> Response:
    """Create an event and its whole seat map from a layout (the CLI's layout file format)."""
    _require_admin(request)
    spec = venues.EventSpec.model_validate_json(await read_body(request))
    settings = request.app.state.settings
    try:
        async with connection(request.app.state.pool, settings.db_acquire_timeout_s) as conn:
            event = await venues.create_event(conn, spec)
    except venues.EventExists as exc:
        raise ApiError(409, "EVENT_EXISTS", str(exc)) from exc
    return _json(event_json(event), 201)
