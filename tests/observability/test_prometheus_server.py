"""A real Prometheus server scrapes the app; its query API sees the conflict and runs every dashboard query."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import wait_for
from tests.observability import dashboard
from tests.observability.helpers import scrape, value
from tests.support import ServerProcess, free_port

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


@pytest.fixture
def prometheus(clean: ServerProcess, artifacts: Path) -> Iterator[str]:
    """Our own Prometheus process (not the system service): temp config and storage, free port, 1 s scrape."""
    if not Path(PROMETHEUS).exists():
        pytest.skip("the prometheus binary (Debian package prometheus) is not installed")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bo-obs-prom-") as tmp:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "boxoffice",
                    "metrics_path": "/actuator/prometheus",
                    "static_configs": [{"targets": [f"127.0.0.1:{clean.port}"]}],
                }
            ],
        }
        (Path(tmp) / "prometheus.yml").write_text(yaml.safe_dump(config))
        with open(artifacts / "prometheus.log", "ab") as log:
            proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={tmp}/prometheus.yml",
                    f"--storage.tsdb.path={tmp}/data",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_for(lambda: _ready(base, proc), what="Prometheus to be ready")
                yield base
            finally:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def _ready(base: str, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, "prometheus exited; see test-artifacts/prometheus.log"
    try:
        return httpx.get(f"{base}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def query(base: str, promql: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=30)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["status"] == "success", (promql, body)
    data: dict[str, Any] = body["data"]
    return data


def series(base: str, promql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = query(base, promql)["result"]
    return result


def test_prometheus_sees_the_conflict_and_runs_the_dashboard(clean: ServerProcess, prometheus: str) -> None:
    with httpx.Client(base_url=clean.base_url, timeout=30) as client:
        assert client.post("/api/v1/bookings", json={"seatId": 4, "userId": "first"}).status_code == 201
        assert client.post("/api/v1/bookings", json={"seatId": 4, "userId": "second"}).status_code == 409
    expected = value(scrape(clean.base_url), "booking_conflict_total", path="seat")
    assert expected >= 1

    def stored() -> list[dict[str, Any]] | None:
        result = query(prometheus, 'booking_conflict_total{job="boxoffice", path="seat"}')["result"]
        return result if result and float(result[0]["value"][1]) == expected else None

    result = wait_for(stored, what=f"Prometheus to store booking_conflict_total == {expected}", interval_s=0.5)
    assert result[0]["metric"]["instance"] == f"127.0.0.1:{clean.port}"
    up = query(prometheus, 'up{job="boxoffice"}')["result"]
    assert up and up[0]["value"][1] == "1"

    # Every dashboard query parses in Prometheus and returns series once a few scrapes are in; one
    # that selects errors only (5xx) parses, but a healthy server may have none to show (CI11: this
    # server never answered a 503, not even while starting).
    for expr in dashboard.expressions(dashboard.load()):
        promql = dashboard.for_prometheus(expr)
        if 'status=~"5.."' in promql:
            query(prometheus, promql)
            continue
        wait_for(partial(series, prometheus, promql), what=f"data for {promql}", interval_s=0.5)
