"""`/api/v1/events/{id}/waiting-room`: join a gated on-sale's queue, see one's place, leave; and the
operator's `/api/v1/admin/events/{id}/waiting-room`. Contract: docs/waiting-room.md.

Join, poll and leave are answered by the lean routes (api/lean.py) with `join_answer`, `poll_answer`
and `leave_answer` below; their declarations are on `schema_only`, a router the app documents in
OpenAPI but never routes to (api/app.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, NoReturn

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.responses import Response

from boxoffice import wire
from boxoffice.api import errors
from boxoffice.api.admin import require_admin
from boxoffice.api.auth import CHALLENGE
from boxoffice.api.deps import Api, ApiDep
from boxoffice.api.errors import UNAUTHENTICATED, ApiError
from boxoffice.api.http import SCHEMA_ONLY, json_response, read_body, request_body
from boxoffice.api.schemas import UserId
from boxoffice.domain import Caller, WaitingRoomConfig

router = APIRouter(prefix="/api/v1", tags=["waiting-room"])
schema_only = APIRouter(prefix="/api/v1", tags=["waiting-room"])
"""Declarations for the OpenAPI document only: their requests are answered by api/lean.py."""
admin_router = APIRouter(prefix="/api/v1", tags=["waiting-room"])

EventIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_VISITOR_ERRORS = (
    errors.UNAUTHENTICATED,
    errors.EVENT_NOT_FOUND,
    errors.VISITOR_NOT_FOUND,
    errors.WAITING_ROOM_UNAVAILABLE,
)
_ADMIN_ERRORS = (
    errors.UNAUTHENTICATED,
    errors.ADMIN_DISABLED,
    errors.NOT_ADMIN,
    errors.EVENT_NOT_FOUND,
    errors.DATABASE_BUSY,
    errors.DATABASE_UNAVAILABLE,
    errors.RATE_LIMITED,
)


class JoinRequest(BaseModel):
    """Optional: the answer to the room's challenge (proof of work), when one is configured."""

    model_config = ConfigDict(extra="forbid", strict=True)

    challenge: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] | None = None


class WaitingRoomConfigIn(BaseModel):
    """An event's gating. Limits: `maxActive` buyers admitted at once, `perMinute` new admissions a
    minute at most (the adaptive rate moves between `minPerMinute` and it)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    startsAt: datetime
    maxActive: int = Field(ge=1, le=1_000_000)
    perMinute: int = Field(ge=1, le=1_000_000)
    minPerMinute: int | None = Field(default=None, ge=1, le=1_000_000)
    adaptive: bool = True
    holdS: int = Field(
        default=600, ge=10, le=86_400, description="A place is kept this long for a visitor who stops polling."
    )
    admissionTtlS: int = Field(default=600, ge=10, le=86_400, description="How long an admission lasts.")

    @model_validator(mode="after")
    def _bounds(self) -> WaitingRoomConfigIn:
        if self.startsAt.tzinfo is None:
            raise ValueError("startsAt: needs a time zone (e.g. 2026-12-01T10:00:00Z)")
        if self.minPerMinute is not None and self.minPerMinute > self.perMinute:
            raise ValueError("minPerMinute must not exceed perMinute")
        return self

    def config(self, event_id: int) -> WaitingRoomConfig:
        return WaitingRoomConfig(
            event_id=event_id,
            enabled=self.enabled,
            starts_at=self.startsAt,
            max_active=self.maxActive,
            per_minute=self.perMinute,
            min_per_minute=self.minPerMinute or max(1, self.perMinute // 10),
            adaptive=self.adaptive,
            hold_s=self.holdS,
            admission_ttl_s=self.admissionTtlS,
        )


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    userId: UserId | None = None


async def _visitor(api: Api, request: Request) -> Caller:
    """Queueing is per session: an anonymous session (open mode) or the identity provider's token."""
    caller = await api.reader(request)
    if not caller.authenticated or caller.user_id is None:
        raise ApiError(UNAUTHENTICATED, "Join with a session: POST /api/v1/sessions, then send it as bearer", CHALLENGE)
    return caller


@router.get(
    "/events/{event_id}/waiting-room",
    response_model=wire.WaitingRoomOut,
    responses=errors.responses(errors.EVENT_NOT_FOUND),
)
async def room(event_id: EventIdPath, api: ApiDep) -> Response:
    """The room's public state (as this instance last read it, at most a tick old)."""
    stats = await api.waitroom.cached_stats(event_id)
    if stats is None:
        await api.events.get(event_id)  # 404 for an unknown event
    return json_response(wire.waiting_room_json(event_id, stats, datetime.now(UTC)))


@schema_only.post(
    "/events/{event_id}/waiting-room/join",
    status_code=201,
    response_model=wire.VisitorOut,
    responses={
        200: {"model": wire.VisitorOut, "description": "Already in the room: the same place (or NOT_GATED)"},
        **errors.responses(
            *_VISITOR_ERRORS,
            errors.MALFORMED_JSON,
            errors.UNSUPPORTED_MEDIA_TYPE,
            errors.VALIDATION_FAILED,
            errors.CHALLENGE_FAILED,
            errors.ADMISSION_REVOKED,
            errors.RATE_LIMITED,
        ),
    },
    openapi_extra=request_body(JoinRequest, required=False),
)
def join(event_id: EventIdPath) -> NoReturn:
    """Join the queue (201), or find one's place again (200): many tabs of one session share one place."""
    raise RuntimeError(SCHEMA_ONLY)


async def join_answer(api: Api, request: Request, event_id: int, body: bytes) -> Response:
    """`POST .../waiting-room/join` once the body is read: what the lean route (api/lean.py) answers."""
    payload = JoinRequest.model_validate_json(body)
    caller = await _visitor(api, request)
    host = request.client.host if request.client else None
    await api.join_limiter.check_ip(host)
    status, created = await api.waitroom.join(event_id, caller, host, payload.challenge)
    if status.state.value == "REVOKED":
        raise ApiError(errors.ADMISSION_REVOKED, "An operator revoked your place in this waiting room")
    return json_response(wire.visitor_json(status), 201 if created else 200, {"Retry-After": str(status.poll_after_s)})


@schema_only.get(
    "/events/{event_id}/waiting-room/me",
    response_model=wire.VisitorOut,
    responses=errors.responses(*_VISITOR_ERRORS),
)
def me(event_id: EventIdPath) -> NoReturn:
    """Where I am; poll again after `Retry-After` seconds (also `pollAfterS`)."""
    raise RuntimeError(SCHEMA_ONLY)


async def poll_answer(api: Api, request: Request, event_id: int) -> Response:
    """`GET .../waiting-room/me`: what the lean route (api/lean.py) answers."""
    status = await api.waitroom.status(event_id, await _visitor(api, request))
    return json_response(wire.visitor_json(status), headers={"Retry-After": str(status.poll_after_s)})


@schema_only.post(
    "/events/{event_id}/waiting-room/leave",
    response_model=wire.VisitorOut,
    responses=errors.responses(*_VISITOR_ERRORS),
)
def leave(event_id: EventIdPath) -> NoReturn:
    """Give my place (or my admission) back: my admission token stops working."""
    raise RuntimeError(SCHEMA_ONLY)


async def leave_answer(api: Api, request: Request, event_id: int) -> Response:
    """`POST .../waiting-room/leave`: what the lean route (api/lean.py) answers."""
    return json_response(wire.visitor_json(await api.waitroom.leave(event_id, await _visitor(api, request))))


# --- the operator ---------------------------------------------------------------------------------


@admin_router.get(
    "/admin/events/{event_id}/waiting-room",
    response_model=wire.WaitingRoomAdminOut,
    responses=errors.responses(*_ADMIN_ERRORS, errors.NOT_FOUND),
    tags=["admin"],
)
async def admin_room(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """The configuration, the live figures and the adaptive rate now in force (404 if never configured)."""
    await require_admin(api, request)
    stats = await api.waitroom.stats(event_id)
    if stats is None:
        raise ApiError(errors.NOT_FOUND, f"Event {event_id} has no waiting room configured")
    return json_response(wire.waiting_room_admin_json(event_id, stats, datetime.now(UTC)))


@admin_router.put(
    "/admin/events/{event_id}/waiting-room",
    response_model=wire.WaitingRoomAdminOut,
    responses=errors.responses(*_ADMIN_ERRORS, errors.MALFORMED_JSON, errors.VALIDATION_FAILED),
    openapi_extra=request_body(WaitingRoomConfigIn),
    tags=["admin"],
)
async def configure(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Gate (or stop gating) an event's on-sale: start time and limits."""
    await require_admin(api, request)
    payload = WaitingRoomConfigIn.model_validate_json(await read_body(request))
    stats = await api.waitroom.configure(payload.config(event_id))
    return json_response(wire.waiting_room_admin_json(event_id, stats, datetime.now(UTC)))


@admin_router.post(
    "/admin/events/{event_id}/waiting-room/revoke",
    response_model=wire.RevokedOut,
    responses=errors.responses(*_ADMIN_ERRORS, errors.MALFORMED_JSON, errors.VALIDATION_FAILED),
    openapi_extra=request_body(RevokeRequest, required=False),
    tags=["admin"],
)
async def revoke(event_id: EventIdPath, request: Request, api: ApiDep) -> Response:
    """Revoke one visitor's place or admission (`userId`), or every admission so far (no body)."""
    await require_admin(api, request)
    payload = RevokeRequest.model_validate_json(await read_body(request, required=False))
    return json_response(wire.revoked_json(event_id, await api.waitroom.revoke(event_id, payload.userId)))
