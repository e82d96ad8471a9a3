"""The benchmark runs end to end at tiny sizes, and its correctness check does catch lies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from boxoffice.bench.client import Call, Outcome
from boxoffice.bench.scenarios import Result, verify
from boxoffice.layouts import Layout
from boxoffice.storage import migrate
from boxoffice.storage.seed import seed
from tests.support import ADMIN_URL, REDIS_URL, fresh_database


@pytest.mark.timeout(360)
def test_tiny_bench_reports_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "boxoffice.bench",
            "--tiny",
            "--pool-size",
            "4",
            "--json",
            str(out),
            "--admin-url",
            ADMIN_URL,
            "--redis-url",
            REDIS_URL,
        ],
        capture_output=True,
        text=True,
        timeout=330,  # a few seconds on a quiet machine; generous for a busy one
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(out.read_text())
    cells = {(r["scenario"], r["strategy"]) for r in report["results"]}
    for scenario in ("hot-seat", "spread", "sell-out"):
        for strategy in ("DB", "REDIS", "ATOMIC"):
            assert (scenario, strategy) in cells
    assert ("spread", "raw-sql-ATOMIC") in cells
    assert all(not r["violations"] for r in report["results"])
    assert all(r["extra"]["winners"] == 1 for r in report["results"] if r["scenario"] == "hot-seat")
    assert any(name.startswith("fastest") for name in report["ratios"])
    assert "scenario" in run.stdout and "raw-sql-ATOMIC" in run.stdout


async def test_verify_flags_a_201_missing_from_the_database() -> None:
    with fresh_database("bo_bench_verify") as url:
        migrate.upgrade(url)
        conn = await asyncpg.connect(url)
        try:
            await seed(conn, Layout.grid(1, 5))
            await conn.execute("UPDATE seats SET status='BOOKED', booked_by='x', booked_at=now() WHERE id = 2")
            await conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (2, 'x', 'ATOMIC')")
        finally:
            await conn.close()
        result = Result("spread", "ATOMIC", 1, 1.0, {}, 0, 0, 0, 0)
        told = [Outcome(Call(1, "liar"), 201, 0.0, 0.0)]
        await verify(url, result, told)
        assert any("missing from the database" in v for v in result.violations)
        assert any("no client was told about" in v for v in result.violations)
