"""`/api/v1/admin`: operator actions, behind the admin bearer token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.auth import CHALLENGE, parse_bearer
from boxoffice.api.deps import Api, ApiDep
from boxoffice.api.errors import ADMIN_DISABLED, NOT_ADMIN, UNAUTHENTICATED, ApiError
from boxoffice.api.http import json_response, read_body, request_body
from boxoffice.api.schemas import AllocationRequest, EventCancelRequest, EventUpdateRequest
from boxoffice.booking.events import Allocation
from boxoffice.layouts import EventSpec

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
ADMIN_AUTH = "admin_auth"
"""The failures `require_admin` counts per address (`rate_limited_total{kind="admin_auth"}` when refused)."""

ADMIN_ACTOR = "admin"
"""`cancelledBy` of the bookings an event's cancellation voided."""


async def require_admin(api: Api, request: Request) -> None:
    """The shared admin token (`BOXOFFICE_ADMIN_TOKEN`), or in jwt mode a token whose admin claim
    (`BOXOFFICE_JWT_ADMIN_CLAIM`) carries the admin role (`BOXOFFICE_JWT_ADMIN_ROLE`).

    Wrong tokens are counted per address: after `BOXOFFICE_ADMIN_FAILURES_PER_IP` in a minute the
    address gets 429 with Retry-After, and its tokens are not even checked, until the minute ends.
    """
    expected = api.settings.admin_token
    jwt_mode = api.auth.mode == "jwt"
    if expected is None and not jwt_mode:
        raise ApiError(ADMIN_DISABLED, "The admin API is disabled; set BOXOFFICE_ADMIN_TOKEN or use jwt auth mode")
    given = parse_bearer(request.headers.get("authorization"))
    if given is None:
        raise ApiError(UNAUTHENTICATED, "Admin bearer token required", CHALLENGE)
    host = request.client.host if request.client else None
    await api.limiter.check_failures(ADMIN_AUTH, host, api.settings.admin_failures_per_ip)
    if expected is not None and hmac.compare_digest(given.encode(), expected.encode()):
        return
    try:
        if not jwt_mode:
            raise ApiError(UNAUTHENTICATED, "Wrong admin token", CHALLENGE)
        principal = await api.auth.principal(given)
    except ApiError:
        await api.limiter.count_failure(ADMIN_AUTH, host)
        raise
    if not principal.admin:
        raise ApiError(NOT_ADMIN, f"This token has no {api.settings.jwt_admin_role!r} role")


@router.post(
    "/events",
    status_code=201,
    response_model=wire.EventOut,
    responses=errors.responses(
        errors.UNAUTHENTICATED,
        errors.ADMIN_DISABLED,
        errors.NOT_ADMIN,
        errors.MALFORMED_JSON,
        errors.VALIDATION_FAILED,
        errors.EVENT_EXISTS,
        errors.RATE_LIMITED,
    ),
    openapi_extra=request_body(EventSpec),
)
async def create_event(request: Request, api: ApiDep) -> Response:
    """Create an event and its whole seat map from a layout (the CLI's layout file format)."""
    await require_admin(api, request)
    spec = EventSpec.model_validate_json(await read_body(request))
    return json_response(wire.event_json(await api.events.create(spec)), 201)


EventIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_ADMIN_ERRORS = (
    errors.UNAUTHENTICATED,
    errors.ADMIN_DISABLED,
    errors.NOT_ADMIN,
    errors.MALFORMED_JSON,
    errors.VALIDATION_FAILED,
    errors.EVENT_NOT_FOUND,
    errors.RATE_LIMITED,
)


@router.post(
    "/events/{event_id}/allocations",
    response_model=wire.AllocationOut,
    responses=errors.responses(
        *_ADMIN_ERRORS, errors.SEATS_NOT_FOUND, errors.SEATS_TAKEN, errors.NOT_ENOUGH_FREE_SEATS
    ),
    openapi_extra=request_body(AllocationRequest),
)
async def allocate(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Block (`blocked`: a reason), assign to a channel (`channel`) or return to public sale (neither)
    free seats (`seatIds`, all or none) or `count` free tickets of a GA area (`section`; `from` picks
    the pool they come from, public by default)."""
    await require_admin(api, request)
    body = AllocationRequest.model_validate_json(await read_body(request))
    target = Allocation(body.blocked, body.channel, body.source.blocked, body.source.channel)
    if body.seatIds is not None:
        changed = await api.events.allocate_seats(event_id, body.seatIds, target)
    else:
        assert body.section is not None and body.count is not None
        changed = await api.events.allocate_area(event_id, body.section, body.count, target)
    return json_response(wire.allocation_json(event_id, changed))


@router.patch(
    "/events/{event_id}",
    response_model=wire.EventOut,
    responses=errors.responses(*_ADMIN_ERRORS, errors.EVENT_CANCELLED),
    openapi_extra=request_body(EventUpdateRequest),
)
async def update_event(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Rename (`name`), reschedule (`startsAt`), move the sales window (`salesStart`, `salesEnd`), turn
    the orphan rule on or off (`noOrphans`, `orphanRowEnds`): only the fields sent change. A cancelled
    event cannot be edited (`409 EVENT_CANCELLED`); an empty window is `422`."""
    await require_admin(api, request)
    body = EventUpdateRequest.model_validate_json(await read_body(request))
    return json_response(wire.event_json(await api.events.update(event_id, body.changes())))


@router.post(
    "/events/{event_id}/cancel",
    response_model=wire.EventCancellationOut,
    responses=errors.responses(*_ADMIN_ERRORS, errors.EVENT_CANCELLED),
    openapi_extra=request_body(EventCancelRequest),
)
async def cancel_event(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Cancel the event with a `reason`, in one transaction: every booking voided (`CANCELLED`, reason
    `EVENT_CANCELLED`), every hold released, the seats freed (live maps see each change) and nothing
    sold any more. Cancelling a cancelled event is `409 EVENT_CANCELLED`."""
    await require_admin(api, request)
    body = EventCancelRequest.model_validate_json(await read_body(request))
    return json_response(wire.event_cancellation_json(await api.events.cancel(event_id, body.reason, ADMIN_ACTOR)))


@router.get(
    "/events/{event_id}/seats",
    response_model=wire.AdminInventoryOut,
    responses=errors.responses(
        errors.UNAUTHENTICATED, errors.ADMIN_DISABLED, errors.NOT_ADMIN, errors.EVENT_NOT_FOUND, errors.RATE_LIMITED
    ),
)
async def admin_seats(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Every seat with its block reason, and the GA areas: for the box office, never for buyers."""
    await require_admin(api, request)
    event, seats, inventory = await api.events.admin_view(event_id)
    return json_response(wire.admin_inventory_json(event, seats, inventory.areas))
