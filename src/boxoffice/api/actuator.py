"""`/actuator/*`: health (liveness, readiness) and the Prometheus scrape endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from boxoffice.api.deps import ApiDep, Health
from boxoffice.api.http import json_response
from boxoffice.health import UP, Report
from boxoffice.observability import multiprocess

router = APIRouter(prefix="/actuator", tags=["actuator"])

_HEALTH: dict[int | str, dict[str, Any]] = {200: {"description": "UP"}, 503: {"description": "DOWN"}}
_NO_STORE = {"Cache-Control": "no-store"}


def _answer(body: dict[str, Any], report: Report) -> Response:
    return json_response(body, 200 if report.status == UP else 503, _NO_STORE)


@router.get("/health", responses=_HEALTH)
async def health(checker: Health) -> Response:
    """Overall state: the readiness verdict plus every component and both probe states."""
    report = await checker.readiness()
    body = report.json()
    body["components"]["livenessState"] = {"status": UP}
    body["components"]["readinessState"] = {"status": report.status}
    return _answer(body, report)


@router.get("/health/liveness", responses=_HEALTH)
async def liveness() -> Response:
    """UP whenever the event loop answers: dependencies never fail liveness (restarts would not fix them)."""
    return json_response({"status": UP}, 200, _NO_STORE)


@router.get("/health/readiness", responses=_HEALTH)
async def readiness(checker: Health) -> Response:
    """Whether this instance should get traffic: migrated, database answering, Redis if required."""
    report = await checker.readiness()
    return _answer(report.json(), report)


@router.get("/prometheus", response_class=Response)
async def prometheus(api: ApiDep) -> Response:
    """Prometheus text format, summed over every worker process of this server."""
    api.sample_metrics()
    data, content_type = multiprocess.exposition()
    return Response(data, media_type=content_type)
