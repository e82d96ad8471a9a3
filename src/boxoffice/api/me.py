"""`/api/v1/me`: the caller's own bookings and holds, for a session or token user.

Public views (seat maps, STOMP topics) never say who owns a seat; this is where a buyer sees
theirs. A bare `userId` proves nothing, so these need a bearer token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.auth import CHALLENGE
from boxoffice.api.deps import ApiDep
from boxoffice.api.errors import UNAUTHENTICATED, ApiError
from boxoffice.api.http import json_response
from boxoffice.booking.service import MAX_PAGE

router = APIRouter(prefix="/api/v1/me", tags=["me"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]


async def _user(api: ApiDep, request: Request) -> str:
    caller = await api.reader(request)
    if not caller.authenticated:
        raise ApiError(UNAUTHENTICATED, "A session (POST /api/v1/sessions) or token is required", CHALLENGE)
    return caller.user


@router.get(
    "/bookings",
    response_model=wire.MyBookingsOut,
    responses=errors.responses(errors.UNAUTHENTICATED, errors.VALIDATION_FAILED),
)
async def my_bookings(
    request: Request,
    api: ApiDep,
    limit: Limit = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="`next` of the previous page.")] = None,
    status: Literal["CONFIRMED", "CANCELLED"] | None = None,
) -> Response:
    """The caller's bookings, newest first, one page at a time."""
    user = await _user(api, request)
    records = await api.bookings.of_user(user, limit, before, status)
    return json_response(wire.my_bookings_json(user, records, limit))


@router.get(
    "/holds",
    response_model=wire.MyHoldsOut,
    responses=errors.responses(errors.UNAUTHENTICATED, errors.VALIDATION_FAILED),
)
async def my_holds(request: Request, api: ApiDep, limit: Limit = 100) -> Response:
    """The caller's holds that still keep seats, soonest to expire first."""
    user = await _user(api, request)
    return json_response(wire.my_holds_json(user, await api.holds.active_of(user, limit)))
