"""The users' HA stack (deploy/ha/compose.yaml) is consistent: every instance scraped, every file there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy.ha.localstack import HAPROXY_CFG, HAPROXY_ERRORS, PROMETHEUS_CFG

from boxoffice.api import errors
from tests.observability import dashboard

HA = Path(__file__).resolve().parents[2] / "deploy" / "ha"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HA / "compose.yaml").read_text())
    return loaded


def apps(services: dict[str, Any]) -> set[str]:
    """The Box Office instances: the services with a DATABASE_URL."""
    return {name for name, s in services.items() if "DATABASE_URL" in (s.get("environment") or {})}


def test_compose_has_every_machine_and_mounts_files_that_exist() -> None:
    services = compose()["services"]
    assert {"etcd", "pg1", "pg2", "haproxy", "redis-master", "redis-replica", "prometheus", "grafana"} <= set(services)
    assert {f"sentinel-{i}" for i in (1, 2, 3)} <= set(services)
    assert apps(services) == {"app1", "app2"}
    for name in apps(services):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert "@haproxy:5000/" in env["DATABASE_URL"], "the app reaches PostgreSQL through the primary endpoint"
        assert env["BOXOFFICE_REDIS_SENTINELS"].count(":26379") == 3
        assert env["BOXOFFICE_TRUSTED_PROXIES"] == services["haproxy"]["networks"]["default"]["ipv4_address"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (HA / source).exists(), f"{name} mounts missing {source}"
        build = service.get("build")
        if isinstance(build, dict):
            assert (HA / build["context"] / build["dockerfile"]).exists(), name


def test_prometheus_scrapes_every_instance_by_name() -> None:
    config = yaml.safe_load((HA / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "boxoffice"]
    assert job["metrics_path"] == "/actuator/prometheus"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    labels = [group["labels"]["instance"] for group in job["static_configs"]]
    assert targets == {f"{a}:8081" for a in apps(compose()["services"])}
    assert sorted(labels) == sorted(apps(compose()["services"])), "each instance has its own label"
    local = yaml.safe_load(
        PROMETHEUS_CFG.format(
            targets='      {"targets": ["127.0.0.1:1"], "labels": {"instance": "app0"}},\n'
            '      {"targets": ["127.0.0.1:2"], "labels": {"instance": "app1"}}'
        )
    )
    assert [g["labels"]["instance"] for g in local["scrape_configs"][0]["static_configs"]] == ["app0", "app1"]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    result = subprocess.run([promtool, "check", "config", str(HA / "prometheus.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_has_per_instance_panels() -> None:
    board = dashboard.load()
    per_instance = [p for p in board["panels"] if "per instance" in p["title"].lower()]
    exprs = " ".join(t["expr"] for p in per_instance for t in p["targets"])
    for metric in ("booking_attempts_total", "booking_duration_seconds_bucket", "db_pool_connections_in_use"):
        assert metric in exprs, f"no per-instance panel for {metric}"
    assert all(
        "by (instance" in t["expr"] or "by (le, instance" in t["expr"] for p in per_instance for t in p["targets"]
    )


def test_haproxy_errors_speak_box_office() -> None:
    """HAProxy's own 502/503/504 are 503s with Retry-After and a code the API documents."""
    codes = {getattr(errors, name).error for name in dir(errors) if isinstance(getattr(errors, name), errors.Code)}
    for status, code in (("502", "OUTCOME_UNKNOWN"), ("503", "SERVICE_UNAVAILABLE"), ("504", "OUTCOME_UNKNOWN")):
        raw = (HAPROXY_ERRORS / f"{status}.http").read_bytes()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 503 Service Unavailable"
        headers = dict(line.split(": ", 1) for line in lines[1:])
        assert headers["Retry-After"].isdigit() and int(headers["Content-Length"]) == len(body)
        assert yaml.safe_load(body)["error"] == code and code in codes


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy (Debian package) is not installed")
@pytest.mark.parametrize("which", ["compose", "localstack"])
def test_haproxy_configs_are_valid(which: str, tmp_path: Path) -> None:
    if which == "compose":
        text = (HA / "haproxy.cfg").read_text().replace("/usr/local/etc/haproxy/errors", str(HAPROXY_ERRORS))
    else:
        text = HAPROXY_CFG.format(
            sock=tmp_path / "s.sock",
            errors=HAPROXY_ERRORS,
            pg=1,
            http=2,
            nodes="    server pg1 127.0.0.1:3 check port 4",
            apps="    server app0 127.0.0.1:5 check",
        )
    (tmp_path / "haproxy.cfg").write_text(text)
    result = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
