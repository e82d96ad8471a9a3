"""The pgbench limit runs the engine's own statements, and its output is read correctly."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from boxoffice.bench import charts, pgbench
from boxoffice.bench.stats import nice_step, timeline
from boxoffice.domain import Strategy
from boxoffice.storage import seats


def test_atomic_script_is_the_claim_statement_with_pgbench_variables() -> None:
    text = pgbench.script(Strategy.ATOMIC)
    claim = seats._CLAIM.strip()
    rendered = claim.replace("$1", ":seat").replace("$2", ":user").replace("$3", ":strategy")
    assert rendered in text
    assert "$" not in text
    assert text.startswith("\\set seat random(1, :seats)\n")
    assert "BEGIN" not in text, "ATOMIC is one statement in autocommit"


def test_db_script_locks_the_row_then_claims_inside_one_transaction() -> None:
    lines = pgbench.script(Strategy.DB).splitlines()
    begin, commit = lines.index("BEGIN;"), lines.index("COMMIT;")
    lock = next(i for i, line in enumerate(lines) if "FOR UPDATE" in line)
    claim = next(i for i, line in enumerate(lines) if "WITH claimed AS" in line)
    assert begin < lock < claim < commit
    assert lines[lock].endswith("\\gset") and lines[lock + 1] == "\\if :free"


def test_a_placeholder_without_a_variable_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$3"):
        pgbench.as_pgbench("SELECT $1, $3", ["a", "b"])


def test_pgbench_summary_and_log_are_parsed(tmp_path: Path) -> None:
    summary = (
        "number of clients: 4\nnumber of transactions actually processed: 1200/1200\n"
        "number of failed transactions: 0 (0.000%)\ntps = 2096.123456 (without initial connection time)\n"
    )
    assert pgbench.parse_output(summary) == (1200, 2096.123456)
    with pytest.raises(RuntimeError, match="failed"):
        pgbench.parse_output(summary.replace("failed transactions: 0", "failed transactions: 3"))
    with pytest.raises(RuntimeError, match="unexpected"):
        pgbench.parse_output("pgbench: error: connection refused")
    (tmp_path / "txn.123").write_text("0 0 1500 0 1764259200 100\n1 0 2500 0 1764259200 200\n")
    (tmp_path / "txn.123.1").write_text("2 0 500 0 1764259200 300\n")
    assert sorted(pgbench.parse_logs(tmp_path)) == [0.5, 1.5, 2.5]


def test_timeline_buckets_answers_and_created_by_completion_time() -> None:
    t = timeline([0.01, 0.02, 0.5, 0.99], [0.02, 0.99], 1.0)
    assert t.bucket_s == nice_step(1.0 / 40) == 0.05
    assert sum(t.answers) == 4 and sum(t.created) == 2
    assert t.answers[0] == 2 and t.answers[10] == 1 and t.created[-1] == 1


def test_chart_is_well_formed_svg_with_one_line_per_series_and_reference() -> None:
    chart = charts.Chart(
        "spread: latency <CDF>",
        "ms",
        "%",
        [charts.Series("DB", [(0.5, 0.0), (20.0, 100.0)]), charts.Series("pgbench-ATOMIC", [(0.1, 0.0), (3.0, 100.0)])],
        log_x=True,
        references=[("pgbench-DB", 1500.0)],
    )
    svg = ET.fromstring(charts.render(chart))
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}polyline")) == 2
    texts = [t.text for t in svg.iter(f"{ns}text")]
    assert "spread: latency <CDF>" in texts and "pgbench-DB 1,500" in texts
    assert {"0.1", "1", "10", "100"} <= set(texts), "log axis labels every decade"
