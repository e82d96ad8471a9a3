"""`/api/v1/admin`: operator actions, behind the admin bearer token."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.auth import CHALLENGE, parse_bearer
from boxoffice.api.deps import ApiDep
from boxoffice.api.errors import ADMIN_DISABLED, NOT_ADMIN, UNAUTHENTICATED, ApiError
from boxoffice.api.http import json_response, read_body, request_body
from boxoffice.layouts import EventSpec

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def require_admin(api: ApiDep, request: Request) -> None:
    """The shared admin token (`BOXOFFICE_ADMIN_TOKEN`), or in jwt mode a token whose admin claim
    (`BOXOFFICE_JWT_ADMIN_CLAIM`) carries the admin role (`BOXOFFICE_JWT_ADMIN_ROLE`)."""
    expected = api.settings.admin_token
    jwt_mode = api.auth.mode == "jwt"
    if expected is None and not jwt_mode:
        raise ApiError(ADMIN_DISABLED, "The admin API is disabled; set BOXOFFICE_ADMIN_TOKEN or use jwt auth mode")
    given = parse_bearer(request.headers.get("authorization"))
    if given is None:
        raise ApiError(UNAUTHENTICATED, "Admin bearer token required", CHALLENGE)
    if expected is not None and hmac.compare_digest(given.encode(), expected.encode()):
        return
    if not jwt_mode:
        raise ApiError(UNAUTHENTICATED, "Admin bearer token required", CHALLENGE)
    if not api.auth.principal(given).admin:
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
    ),
    openapi_extra=request_body(EventSpec),
)
async def create_event(request: Request, api: ApiDep) -> Response:
    """Create an event and its whole seat map from a layout (the CLI's layout file format)."""
    require_admin(api, request)
    spec = EventSpec.model_validate_json(await read_body(request))
    return json_response(wire.event_json(await api.events.create(spec)), 201)
