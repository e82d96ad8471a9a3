"""The benchmark runs end to end at tiny sizes (pgbench included), reports what it measured, and its
correctness check does catch lies."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from boxoffice.bench.client import Call, Outcome
from boxoffice.bench.scenarios import verify
from boxoffice.bench.stats import Result
from boxoffice.layouts import Layout
from boxoffice.storage import migrate
from boxoffice.storage.seed import seed
from tests.support import REDIS_URL, fresh_database

ENGINE = ("DB", "REDIS", "ATOMIC")
LIMITS = ("pgbench-ATOMIC", "pgbench-DB", "asyncpg-ATOMIC", "asyncpg-DB")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One tiny run on a private cluster (so PostgreSQL CPU is measured), pgbench for a moment only."""
    out = tmp_path_factory.mktemp("bench")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "boxoffice.bench",
            "--tiny",
            "--private-postgres",
            "--pool-size",
            "4",
            "--pgbench-seconds",
            "0.2",
            "--pgbench-clients",
            "4",
            "--json",
            str(out / "bench.json"),
            "--report",
            str(out / "report.html"),
            "--redis-url",
            REDIS_URL,
        ],
        capture_output=True,
        text=True,
        timeout=330,  # well under a minute on a quiet machine; generous for a busy one
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run, out


@pytest.mark.slow  # a `boxoffice bench` run
@pytest.mark.timeout(360)
def test_tiny_bench_reports_every_scenario_against_pgbench(
    tiny_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    run, out = tiny_run
    report = json.loads((out / "bench.json").read_text())
    by_cell = {(r["scenario"], r["strategy"]): r for r in report["results"]}
    for scenario in ("hot-seat", "spread", "sell-out"):
        for strategy in ENGINE:
            assert (scenario, strategy) in by_cell
            assert by_cell[scenario, strategy]["server_cpu_ms"] is not None
            assert by_cell[scenario, strategy]["pg_cpu_ms"] is not None
        assert by_cell["sell-out", strategy]["extra"]["sold_out_s"] is not None
    for limit in LIMITS:
        assert ("spread", limit) in by_cell
    assert all(not r["violations"] for r in report["results"])
    assert all(r["extra"]["winners"] == 1 for r in report["results"] if r["scenario"] == "hot-seat")

    for pattern in ("ATOMIC", "DB"):
        row = by_cell["spread", f"pgbench-{pattern}"]
        assert row["extra"]["rounds"] >= 1 and row["extra"]["clients"] == 4
        assert row["extra"]["booked"] > 0, "pgbench must really claim seats"
        assert row["statuses"]["201"] == row["extra"]["booked"]
        assert sum(row["statuses"].values()) == row["requests"]
        assert report["limits"]["pgbench"][pattern] == pytest.approx(row["throughput"], abs=0.1)
    for strategy in ENGINE:
        expected = by_cell["spread", strategy]["throughput"] / by_cell["spread", "pgbench-ATOMIC"]["throughput"]
        assert report["ratios"][f"{strategy} / pgbench-ATOMIC"] == pytest.approx(expected, abs=0.001)
        assert f"{strategy} / asyncpg-ATOMIC" in report["ratios"]
        rounds = by_cell["spread", strategy]
        # Interleaved rounds, merged: every answer counted once and every round's booking checked.
        assert rounds["extra"]["rounds"] == 2 and len(rounds["extra"]["round_throughput"]) == 2
        assert rounds["requests"] == sum(rounds["statuses"].values()) == 2 * 300
        assert rounds["statuses"]["201"] == rounds["extra"]["booked"] > 0
    expected_db = by_cell["spread", "DB"]["throughput"] / by_cell["spread", "pgbench-DB"]["throughput"]
    assert report["ratios"]["DB / pgbench-DB"] == pytest.approx(expected_db, abs=0.001)
    assert report["options"]["pgbench_clients"] == 4
    assert "WITH claimed AS" in report["pgbench_scripts"]["pgbench-ATOMIC"]

    assert "pgbench-ATOMIC" in run.stdout and "sold s" in run.stdout
    assert "\x1b[" not in run.stderr, "no terminal control codes when stderr is not a terminal"


@pytest.mark.slow  # a `boxoffice bench` run
@pytest.mark.timeout(360)
def test_html_report_holds_the_charts_and_the_numbers(tiny_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = tiny_run
    report: dict[str, Any] = json.loads((out / "bench.json").read_text())
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    svgs = [html[start : html.index("</svg>", start) + 6] for start in _find_all(html, "<svg")]
    # Per scenario a latency CDF and throughput over time, plus seats sold over time for sell-out.
    assert len(svgs) == 7
    for svg in svgs:
        tree = ET.fromstring(svg)
        assert tree.findall("{http://www.w3.org/2000/svg}polyline"), "every chart draws at least one series"
    spread_cdf = next(s for s in svgs if "spread: latency" in s)
    for name in (*ENGINE, *LIMITS):
        assert f">{name}<" in spread_cdf
    for name, value in report["ratios"].items():
        assert f"{name}</td><td>{value:.2f}</td>" in html.replace("&gt;", ">")
    for row in report["results"]:
        assert f"<td>{row['throughput']:.0f}</td>" in html
        assert f"<td>{row['p99_ms']:.1f}</td>" in html
    assert report["command"] in html
    assert report["machine"]["cpu"] in html


def _find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start >= 0:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


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
        assert any("without their outbox event" in v for v in result.violations)
