"""`/api/v1/sessions`: anonymous sessions, so buyers without accounts can manage what they book.

A session is a signed, expiring bearer token whose subject is a fresh random user id. Sent as
`Authorization: Bearer ...`, it makes its holder that user for bookings, holds, cancellation and
`/api/v1/me/*`. Posting again with a valid session renews it (same user, new expiry), up to the
session's maximum age from its start (`BOXOFFICE_SESSION_MAX_AGE_S`). The token is stateless: the
signature is the proof; only a revoked session (`DELETE /api/v1/sessions/current`) is stored, in Redis
until its maximum age has passed (`api/auth.py`, `SessionRevocations`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.auth import CHALLENGE, parse_bearer
from boxoffice.api.deps import ApiDep
from boxoffice.api.errors import SESSIONS_DISABLED, UNAUTHENTICATED, ApiError
from boxoffice.api.http import json_response, read_body, request_body
from boxoffice.tokens import InvalidToken

router = APIRouter(prefix="/api/v1", tags=["sessions"])


class SessionRequest(BaseModel):
    """No fields: the server picks the user id. Send the current token as bearer to renew it."""

    model_config = ConfigDict(extra="forbid")


@router.post(
    "/sessions",
    status_code=201,
    response_model=wire.SessionOut,
    responses={
        200: {"model": wire.SessionOut, "description": "The session sent as bearer, renewed"},
        **errors.responses(
            errors.MALFORMED_JSON,
            errors.UNAUTHENTICATED,
            errors.SESSIONS_DISABLED,
            errors.UNSUPPORTED_MEDIA_TYPE,
            errors.VALIDATION_FAILED,
            errors.RATE_LIMITED,
        ),
    },
    openapi_extra=request_body(SessionRequest, required=False),
)
async def create_session(request: Request, api: ApiDep) -> Response:
    """A new anonymous session (201), or the bearer's session renewed (200); rate limited per address."""
    if api.auth.mode != "open":
        raise ApiError(SESSIONS_DISABLED, "Anonymous sessions are off in jwt auth mode: use your identity provider")
    SessionRequest.model_validate_json(await read_body(request, required=False))
    await api.limiter.check_ip(request.client.host if request.client else None)
    token = parse_bearer(request.headers.get("authorization"))
    renewing = await api.auth.principal(token) if token is not None else None
    issued = api.auth.tokens.issue_session(renewing)
    return json_response(wire.session_json(issued.token, issued.user_id, issued.expires_at), 200 if renewing else 201)


@router.delete(
    "/sessions/current",
    status_code=204,
    responses={
        204: {"description": "The session is revoked: none of its tokens (renewals included) is accepted again"},
        **errors.responses(
            errors.UNAUTHENTICATED, errors.SESSIONS_DISABLED, errors.RATE_LIMITED, errors.SERVICE_UNAVAILABLE
        ),
    },
)
async def revoke_session(request: Request, api: ApiDep) -> Response:
    """End the bearer's session everywhere (sign out); sending it again is 204 too."""
    if api.auth.mode != "open":
        raise ApiError(SESSIONS_DISABLED, "Anonymous sessions are off in jwt auth mode: use your identity provider")
    await api.limiter.check_ip(request.client.host if request.client else None)
    token = parse_bearer(request.headers.get("authorization"))
    if token is None:
        raise ApiError(UNAUTHENTICATED, "Send the session to revoke as bearer token", CHALLENGE)
    try:
        principal = api.auth.tokens.verify(token)  # signature and age only: revoking twice is no error
    except InvalidToken as exc:
        raise ApiError(UNAUTHENTICATED, str(exc), CHALLENGE) from exc
    if principal.started is None or api.auth.revocations is None:
        raise ApiError(UNAUTHENTICATED, "Only an anonymous session can be revoked here", CHALLENGE)
    await api.auth.revocations.revoke(principal.user_id, api.auth.tokens.session_end(principal))
    return Response(status_code=204)
