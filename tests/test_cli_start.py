"""`boxoffice serve` starts without the benchmark and without Alembic: the CLI module (imported by the
supervisor and again by every worker) loads them only in the commands that need them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

NOT_ON_SERVE_PATH = ("boxoffice.bench.runner", "psutil", "alembic", "sqlalchemy")


def test_cli_loads_neither_the_bench_run_nor_alembic() -> None:
    code = "import json, sys, boxoffice.cli; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(result.stdout))
    assert "boxoffice.bench.command" in loaded
    assert not loaded.intersection(NOT_ON_SERVE_PATH)


def test_the_names_kept_off_are_installed_modules() -> None:
    """Else the check above would pass for a misspelt name."""
    assert all(importlib.util.find_spec(name) for name in NOT_ON_SERVE_PATH)
