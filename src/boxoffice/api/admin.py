"""`/api/v1/admin`: operator actions, behind the admin bearer token."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.deps import ApiDep
from boxoffice.api.errors import ADMIN_DISABLED, UNAUTHENTICATED, ApiError
from boxoffice.api.http import bearer_token, json_response, read_body, request_body
from boxoffice.layouts import EventSpec

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def require_admin(api: ApiDep, request: Request) -> None:
    expected = api.settings.admin_token
    if expected is None:
        raise ApiError(ADMIN_DISABLED, "The admin API is disabled; set BOXOFFICE_ADMIN_TOKEN")
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(UNAUTHENTICATED, "Admin bearer token required", {"WWW-Authenticate": "Bearer"})


@router.post(
    "/events",
    status_code=201,
    response_model=wire.EventOut,
    responses=errors.responses(
        errors.UNAUTHENTICATED,
        errors.ADMIN_DISABLED,
        errors.MALFORMED_JSON,
        errors.VALIDATION_FAILED,
        errors.EVENT_EXISTS,
    ),
    openapi_extra=request_body(EventSpec),
)
async def create_event(request: Request, api: ApiDep) -> Response:
    """Create an event and its whole seat map from a layout (the CLI's layout file format)."""
    require_admin(api, request)
    spec = EventSpec.model_validate_json(await read_body(request))
    return json_response(wire.event_json(await api.events.create(spec)), 201)
