"""Structured log lines, and the import order multiprocess metrics depend on."""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
from pathlib import Path

from boxoffice.observability.logs import JsonFormatter, LogfmtFormatter, request_id


def record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            exc_info = sys.exc_info()
    rec = logging.LogRecord("boxoffice.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    rec.__dict__.update(extra)
    return rec


def parse_logfmt(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(line))


def test_logfmt_is_one_line_with_quoting_and_request_id() -> None:
    token = request_id.set("req-123")
    try:
        line = LogfmtFormatter().format(
            record('lease_lost seat_id=%s note="%s"', 7, "a\nb", strategy="REDIS", exc=True)
        )
    finally:
        request_id.reset(token)
    assert "\n" not in line
    fields = parse_logfmt(line)
    assert fields["level"] == "WARNING"
    assert fields["logger"] == "boxoffice.test"
    assert fields["request_id"] == "req-123"
    assert fields["strategy"] == "REDIS"
    assert fields["msg"].startswith("lease_lost seat_id=7")
    assert "Traceback" in fields["exc"] and "ValueError: boom" in fields["exc"]


def test_json_is_one_object_per_line() -> None:
    line = JsonFormatter().format(record("startup_retry attempt=%s", 3, exc=True, step="migrate"))
    assert "\n" not in line
    event = json.loads(line)
    assert event["msg"] == "startup_retry attempt=3"
    assert event["step"] == "migrate"
    assert event["level"] == "WARNING" and isinstance(event["pid"], int)
    assert "request_id" not in event  # outside a request
    assert "ValueError: boom" in event["exc"]


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    import os

    full_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    full_env.update(env or {})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cli_does_not_import_prometheus_client() -> None:
    """`serve` must set PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported, or workers count apart."""
    assert run_python("import sys, boxoffice.cli; print('prometheus_client' in sys.modules)") == "False"


def test_metrics_directory_is_fresh_per_serve(tmp_path: Path) -> None:
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"stale")
    (given / "keep.txt").write_text("not ours")
    code = """
import os
from boxoffice.observability.metrics_dir import metrics_directory
with metrics_directory() as path:
    print(path, sorted(os.listdir(path)))
"""
    out = run_python(code, {"PROMETHEUS_MULTIPROC_DIR": str(given)})
    assert out == f"{given} ['keep.txt']"
    assert given.exists()

    out = run_python(code + "print(os.path.exists(path), os.environ.get('PROMETHEUS_MULTIPROC_DIR'))")
    created, listing, exists_after, env_after = out.split()
    assert listing == "[]" and "boxoffice-metrics-" in created
    assert exists_after == "False" and env_after == "None"
