"""`/actuator/*`: health (liveness, readiness) and the Prometheus scrape endpoint."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from boxoffice.observability import lifecycle, multiprocess
from boxoffice.observability.health import UP, HealthChecker, Report

router = APIRouter(prefix="/actuator", tags=["actuator"])

_HEALTH: dict[int | str, dict[str, Any]] = {200: {"description": "UP"}, 503: {"description": "DOWN"}}


def _json(payload: dict[str, Any], status: int) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _checker(request: Request) -> HealthChecker:
    checker: HealthChecker = request.app.state.health
    return checker


def _status(report: Report) -> int:
    return 200 if report.status == UP else 503


@router.get("/health", responses=_HEALTH)
async def health(request: Request) -> Response:
    """Overall state: the readiness verdict plus every component and both probe states."""
    report = await _checker(request).readiness()
    body = report.json()
    body["components"]["livenessState"] = {"status": UP}
    body["components"]["readinessState"] = {"status": report.status}
    return _json(body, _status(report))


@router.get("/health/liveness", responses=_HEALTH)
async def liveness() -> Response:
    """UP whenever the event loop answers: dependencies never fail liveness (restarts would not fix them)."""
    return _json({"status": UP}, 200)


@router.get("/health/readiness", responses=_HEALTH)
async def readiness(request: Request) -> Response:
    """Whether this instance should get traffic: migrated, database answering, Redis if required."""
    report = await _checker(request).readiness()
    return _json(report.json(), _status(report))


@router.get("/prometheus", response_class=Response)
async def prometheus(request: Request) -> Response:
    """Prometheus text format, summed over every worker process of this server."""
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        lifecycle.sample_pool(pool, request.app.state.settings)
    data, content_type = multiprocess.exposition()
    return Response(data, media_type=content_type)
