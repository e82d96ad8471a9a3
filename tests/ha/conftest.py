"""One multi-machine stack (deploy/ha/localstack.py) per module: etcd, Patroni x2, HAProxy, Redis
Sentinel and two Box Office instances, all on loopback with private data directories."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy.ha.localstack import PG_BIN, Stack

from tests.support import ARTIFACTS, LOAD_LIMITS_OFF, setting_env

BINARIES = ("haproxy", "patroni", "etcd", "redis-server", "redis-sentinel", "psql")
APPS = 2

HA_SETTINGS = {
    **LOAD_LIMITS_OFF,
    "seed_rows": 20,
    "seed_cols": 50,
    "log_level": "WARNING",
    "db_pool_max": 10,
    # Longer than HAProxy needs to see readiness fail twice (2 x 500 ms), so a stopping instance has
    # left the rotation before it stops answering.
    "drain_s": 3,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ha: needs the Debian HA packages (HAProxy, Patroni, etcd, Redis Sentinel)")


def missing_binaries() -> list[str]:
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if not (PG_BIN / "postgres").exists():
        missing.append(str(PG_BIN / "postgres"))
    return missing


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    if missing := missing_binaries():
        pytest.skip(
            f"HA stack binaries absent: {', '.join(missing)} "
            "(apt-get install haproxy patroni etcd-server etcd-client redis-sentinel postgresql-15)"
        )
    root = Path(tempfile.mkdtemp(prefix="bo-ha-"))
    stack = Stack(root, apps=APPS, python=sys.executable, app_env=setting_env(HA_SETTINGS))
    try:
        stack.up()
        yield stack
    finally:
        # Keep every process's log as evidence (the data directories are deleted).
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        dest = ARTIFACTS / f"ha-{request.node.name.removesuffix('.py')}-{worker}"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True, exist_ok=True)
        for log in root.glob("*.log"):
            shutil.copy(log, dest / log.name)
        stack.down()
