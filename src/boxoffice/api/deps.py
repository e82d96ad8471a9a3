"""Typed dependencies: what the routers use, built once by the composition root (`boxoffice.server`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from boxoffice.api.auth import Authenticator
from boxoffice.api.ratelimit import RateLimiter
from boxoffice.booking.events import EventService
from boxoffice.booking.holds import HoldService
from boxoffice.booking.idempotency import IdempotencyService
from boxoffice.booking.service import BookingService
from boxoffice.health import HealthChecker
from boxoffice.settings import Settings


@dataclass(frozen=True, slots=True)
class Api:
    settings: Settings
    bookings: BookingService
    holds: HoldService
    events: EventService
    idempotency: IdempotencyService
    auth: Authenticator
    limiter: RateLimiter
    health: HealthChecker
    sample_metrics: Callable[[], None]
    """Refresh gauges that are read rather than counted (pool usage) before a scrape."""

    async def identify(self, request: Request, claimed: str | None) -> str:
        """The acting user (auth mode decides) after the IP and user rate limits let the request in."""
        await self.limiter.check_ip(request)
        user = self.auth.user(request, claimed)
        await self.limiter.check_user(user)
        return user


def get_api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


def _bookings(request: Request) -> BookingService:
    return get_api(request).bookings


def _holds(request: Request) -> HoldService:
    return get_api(request).holds


def _events(request: Request) -> EventService:
    return get_api(request).events


def _health(request: Request) -> HealthChecker:
    return get_api(request).health


ApiDep = Annotated[Api, Depends(get_api)]
Bookings = Annotated[BookingService, Depends(_bookings)]
Holds = Annotated[HoldService, Depends(_holds)]
Events = Annotated[EventService, Depends(_events)]
Health = Annotated[HealthChecker, Depends(_health)]
