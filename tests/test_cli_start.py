"""`boxoffice serve` starts without the benchmark and without Alembic: the CLI module (imported by the
supervisor and again by every worker) loads them only in the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys

NOT_ON_SERVE_PATH = ("boxoffice.bench.runner", "psutil", "alembic", "sqlalchemy")


def loaded_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stdout))


def test_cli_loads_neither_the_bench_run_nor_alembic() -> None:
    assert set(NOT_ON_SERVE_PATH).isdisjoint(loaded_after("import boxoffice.cli"))


def test_the_bench_command_loads_the_run() -> None:
    """The counterpart: the names above are real modules, which the bench's run does load."""
    loaded = loaded_after("import boxoffice.bench.runner")
    assert {"boxoffice.bench.runner", "psutil"} <= loaded
    assert {"alembic", "sqlalchemy"} <= loaded_after("import boxoffice.storage.migrate")
