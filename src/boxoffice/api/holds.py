"""`/api/v1/holds`: keep seats for a checkout, then confirm (POST /bookings), extend or release them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.deps import ApiDep
from boxoffice.api.http import access_of, best_of, json_response, read_body, request_body
from boxoffice.api.idempotency import respond, stored_answer
from boxoffice.api.schemas import HoldRequest, OwnerRequest
from boxoffice.domain import BookingError

router = APIRouter(prefix="/api/v1", tags=["holds"])
HOLD_SCOPE = "POST /api/v1/holds"
_CHANGE_ERRORS = errors.responses(
    *errors.WRITE_ERRORS, errors.HOLD_NOT_FOUND, errors.HOLD_NOT_ACTIVE, errors.HOLD_EXPIRED
)


@router.post(
    "/holds",
    status_code=201,
    response_model=wire.HoldOut,
    responses=errors.responses(
        *errors.WRITE_ERRORS,
        errors.SEATS_NOT_FOUND,
        errors.SEATS_TAKEN,
        errors.SEAT_LIMIT_EXCEEDED,
        *errors.INVENTORY_ERRORS,
        *errors.ADMISSION_ERRORS,
    ),
    openapi_extra=request_body(HoldRequest),
)
async def create_hold(request: Request, api: ApiDep) -> Response:
    """Hold seats for a checkout: hand-picked `seatIds` (all or none), or `eventId` with `bestAvailable`
    (the server picks the best block, or GA tickets by quantity); the token confirms, extends or
    releases them. `X-Channel-Key` unlocks a sales channel's seats."""
    payload = HoldRequest.model_validate_json(await read_body(request))
    caller = await api.identify_request(request, payload.userId)
    access = access_of(request, caller.admin, payload.accessible)
    best = best_of(payload.eventId, payload.bestAvailable)
    try:
        await api.admit(request, caller, payload.seatIds or [], best.event_id if best else None)
    except BookingError:
        # Not admitted now: a retry whose first request has an answer still gets it (a replay needs no admission).
        stored = await stored_answer(api, request, HOLD_SCOPE, caller, None, payload)
        if stored is None:
            raise
        return stored

    async def work() -> tuple[int, Any]:
        if best is not None:
            return 201, wire.hold_json(await api.holds.hold_best(best, caller, access))
        assert payload.seatIds is not None
        return 201, wire.hold_json(await api.holds.hold(payload.seatIds, caller, payload.strategy, access))

    with api.measured():
        return await respond(api, request, HOLD_SCOPE, caller, None, payload, work)


@router.get(
    "/holds/{token}",
    response_model=wire.HoldOut,
    responses=errors.responses(errors.UNAUTHENTICATED, errors.HOLD_NOT_FOUND),
)
async def get_hold(token: UUID, request: Request, api: ApiDep) -> Response:
    """The hold and its seats, to its owner (a hold made with a session or token needs that one)."""
    return json_response(wire.hold_json(await api.holds.get(token, await api.reader(request))))


async def _change(request: Request, api: ApiDep, token: UUID, action: str) -> Response:
    """Extend or release: the owner acts on its hold, idempotently when a key is given."""
    payload = OwnerRequest.model_validate_json(await read_body(request, required=False))
    caller = await api.identify_request(request, payload.userId, anonymous_ok=True)
    change = api.holds.extend if action == "extend" else api.holds.release

    async def work() -> tuple[int, Any]:
        return 200, wire.hold_json(await change(token, caller))

    return await respond(api, request, f"POST /api/v1/holds/{action}", caller, str(token), None, work)


@router.post(
    "/holds/{token}/extend",
    response_model=wire.HoldOut,
    responses=_CHANGE_ERRORS,
    openapi_extra=request_body(OwnerRequest, required=False),
)
async def extend_hold(token: UUID, request: Request, api: ApiDep) -> Response:
    """Push the expiry out by the hold TTL, never past the hold's maximum life."""
    return await _change(request, api, token, "extend")


@router.post(
    "/holds/{token}/release",
    response_model=wire.HoldOut,
    responses=_CHANGE_ERRORS,
    openapi_extra=request_body(OwnerRequest, required=False),
)
async def release_hold(token: UUID, request: Request, api: ApiDep) -> Response:
    """Free the held seats at once."""
    return await _change(request, api, token, "release")
