"""The inventory scenarios run end to end at tiny sizes with their database checks, and the checks do
catch lies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from boxoffice.bench.inventory import Answer, check_ga
from boxoffice.bench.stats import Result
from boxoffice.storage.migrate import upgrade
from tests.support import REDIS_URL, fresh_database


@pytest.mark.slow  # a `boxoffice bench` run
@pytest.mark.timeout(400)
def test_tiny_inventory_run_passes_its_checks(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "boxoffice.bench", "--tiny", "--scenario", "best-available", "--scenario", "ga",
         "--pool-size", "4", "--json", str(out), "--redis-url", REDIS_URL],
        capture_output=True,
        text=True,
        timeout=330,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    results = {r["scenario"]: r for r in json.loads(out.read_text())["results"]}
    best, ga = results["best-available"], results["ga"]
    assert best["violations"] == [] and best["extra"]["orphans_left"] == 0 and best["extra"]["sold"] > 0
    assert ga["violations"] == [] and ga["extra"]["oversold"] == 0
    assert ga["extra"]["tickets_sold"] == ga["extra"]["capacity"] == 50


async def test_ga_check_catches_a_ticket_answered_twice() -> None:
    body = orjson.dumps({"bookings": [{"seatId": 1}]})
    twice = [Answer(1, "a", 201, 0.01, 0.01, body, None), Answer(1, "b", 201, 0.01, 0.02, body, None)]
    result = Result("ga", "ATOMIC", 2, 1.0, {}, 1.0, 1.0, 1.0, 0.0)
    with fresh_database("bo_inv_bench") as url:
        upgrade(url)  # an empty schema: nothing is booked, so both answers are lies
        await check_ga(url, 2**31 - 1, 1, twice, result)
    assert any("two buyers" in v for v in result.violations)
    assert any("oversold" in v for v in result.violations)
