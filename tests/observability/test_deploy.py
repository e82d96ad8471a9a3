"""The operator files in deploy/ parse, agree with each other, and name only metrics the app exports."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
import yaml

from tests.observability import dashboard
from tests.observability.helpers import names, redis_lease, scrape
from tests.support import REDIS_URL, ServerProcess

DEPLOY = dashboard.DEPLOY
REPO = DEPLOY.parent
REQUIRED_PANELS = {
    "booking rate": "booking_attempts_total",
    "conflict rate": "booking_conflict_total",
    "p50 / p99": "booking_duration_seconds_bucket",
    "lock failures": "lock_failures_total",
    "websocket sessions": "websocket_sessions",
    "pool saturation": "db_pool_connections_in_use",
}


def test_metric_name_extraction() -> None:
    expr = 'histogram_quantile(0.99, sum by (le, strategy) (rate(booking_duration_seconds_bucket{job="a b"}[1m])))'
    assert dashboard.metric_names(expr) == {"booking_duration_seconds_bucket"}
    assert dashboard.metric_names("sum(db_pool_connections_in_use) / sum(db_pool_connections_max)") == {
        "db_pool_connections_in_use",
        "db_pool_connections_max",
    }


def test_dashboard_is_valid_and_covers_the_required_views() -> None:
    board = dashboard.load()
    assert board["uid"] and board["title"] == "Box Office"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "prometheus"
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["targets"], panel["title"]
    text = " ".join(f"{p['title']} {p.get('description', '')}".lower() for p in board["panels"])
    exprs = " ".join(dashboard.expressions(board))
    for words, metric in REQUIRED_PANELS.items():
        assert all(w in text for w in words.split()), f"no panel for {words}"
        assert metric in exprs, f"{words}: {metric} not queried"
    assert "histogram_quantile(0.5," in exprs and "histogram_quantile(0.99," in exprs


async def test_every_dashboard_metric_is_exported(clean: ServerProcess) -> None:
    """After wins, conflicts and a contended lease, every name the dashboard queries is in the exposition."""
    async with httpx.AsyncClient(base_url=clean.base_url, timeout=30) as client:
        assert (await client.post("/api/v1/bookings", json={"seatId": 1, "userId": "a"})).status_code == 201
        assert (await client.post("/api/v1/bookings", json={"seatId": 1, "userId": "b"})).status_code == 409
        with redis_lease(REDIS_URL, f"{clean.env['BOXOFFICE_REDIS_KEY_PREFIX']}lock:seat:2"):
            response = await client.post("/api/v1/bookings", json={"seatId": 2, "userId": "c", "strategy": "REDIS"})
            assert response.status_code == 409
    exported = names(scrape(clean.base_url))
    wanted = set().union(*(dashboard.metric_names(e) for e in dashboard.expressions(dashboard.load())))
    assert len(wanted) >= 12
    assert wanted <= exported, f"dashboard queries metrics the app does not export: {sorted(wanted - exported)}"


def test_compose_stack_is_consistent() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "prometheus", "grafana", "app"} <= set(services)
    build = services["app"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    env = services["app"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["grafana"]["volumes"]}
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/boxoffice.yaml").read_text())
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert (DEPLOY / mounts[dashboards_path] / "boxoffice.json").exists()
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["uid"] == "prometheus"
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_prometheus_config_targets_the_app() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/actuator/prometheus"
    assert job["static_configs"][0]["targets"] == ["app:8081"]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    result = subprocess.run(
        [promtool, "check", "config", str(DEPLOY / "prometheus.yml")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_copies_files_that_exist() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    copies = re.findall(r"^COPY\s+(.+)$", text, flags=re.MULTILINE)
    assert copies
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)$", text, flags=re.MULTILINE))
    for line in copies:
        if line.startswith("--from="):  # copied out of an earlier build stage, not the repository
            assert line.split()[0].removeprefix("--from=") in stages, line
            continue
        *sources, _ = line.split()
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
    assert re.search(r'^CMD \["boxoffice", "serve"\]', text, flags=re.MULTILINE)
    assert "/actuator/health/readiness" in text
