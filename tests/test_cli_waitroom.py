"""`boxoffice waiting-room configure|show|revoke`: gate an event's on-sale from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from boxoffice.storage.migrate import upgrade
from tests.helpers import rows
from tests.support import ServerFactory

RUNTIME = ("runtime", "gate", "queue", "joins", "memory", "cache", "step", "tokens")
"""The parts of a serving process's waiting room (boxoffice.booking.waitroom.*)."""


def _cli(url: str, *args: str, python: tuple[str, ...] = ("-m", "boxoffice.cli")) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, *python, "waiting-room", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_configures_shows_and_revokes(server_factory: ServerFactory) -> None:
    url = server_factory.database("bo_cli_wr")
    upgrade(url)
    shown = _cli(url, "show", "1")
    assert shown.returncode == 0 and "no waiting room" in shown.stdout
    done = _cli(
        url, "configure", "1", "--starts-at", "2026-12-01T10:00:00", "--max-active", "500", "--per-minute", "1200"
    )
    assert done.returncode == 0, done.stderr
    assert "maxActive\t500" in done.stdout and "minPerMinute\t120" in done.stdout
    stored = rows(url, "SELECT enabled, starts_at, per_minute, adaptive FROM waitroom_events WHERE event_id = 1")
    assert stored[0]["enabled"] and stored[0]["per_minute"] == 1200 and stored[0]["adaptive"]
    assert stored[0]["starts_at"].isoformat() == "2026-12-01T10:00:00+00:00"
    off = _cli(
        url,
        "configure",
        "1",
        "--disable",
        "--fixed",
        "--starts-at",
        "2026-12-01T10:00:00Z",
        "--max-active",
        "5",
        "--per-minute",
        "10",
    )
    assert off.returncode == 0, off.stderr
    assert "enabled\tFalse" in _cli(url, "show", "1").stdout
    assert _cli(url, "revoke", "1").stdout.strip() == "revoked 0"
    missing = _cli(url, "show", "424242")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad = _cli(url, "configure", "1", "--starts-at", "2026-12-01", "--max-active", "0", "--per-minute", "1")
    assert bad.returncode == 2


def test_configuring_builds_only_the_operator_part(server_factory: ServerFactory, tmp_path: Path) -> None:
    """The CLI configures a room with the database alone: no part of a serving process's room (its
    admission tokens, cache, queue or admission step) is built, nor even imported."""
    url = server_factory.database("bo_cli_wr_admin")
    upgrade(url)
    loaded = tmp_path / "modules.json"
    script = (
        "import atexit, json, runpy, sys\n"
        f"atexit.register(lambda: open({str(loaded)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "sys.argv[0] = 'boxoffice'\n"
        "runpy.run_module('boxoffice.cli', run_name='__main__')\n"
    )
    done = _cli(
        url,
        "configure",
        "1",
        "--starts-at",
        "2026-12-01T10:00:00Z",
        "--max-active",
        "5",
        "--per-minute",
        "10",
        python=("-c", script),
    )
    assert done.returncode == 0, done.stderr
    assert "maxActive\t5" in done.stdout
    assert rows(url, "SELECT max_active FROM waitroom_events WHERE event_id = 1")[0]["max_active"] == 5
    modules = set(json.loads(loaded.read_text()))
    assert "boxoffice.booking.waitroom.admin" in modules
    assert not modules & {f"boxoffice.booking.waitroom.{part}" for part in RUNTIME}
