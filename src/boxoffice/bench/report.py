"""`--report FILE`: one self-contained HTML page (inline SVG and CSS, nothing fetched) of a run."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from html import escape
from typing import Any

from boxoffice.bench import charts
from boxoffice.bench.stats import QUANTILES, Result
from boxoffice.bench.summary import ENGINE, LIMIT, sold_out

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85rem; } td, th { padding: 0.2rem 0.6rem; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; } tr:nth-child(even) td { background: #fafafa; }
.bad { color: #b00020; font-weight: 600; } .ok { color: #1b7f3b; }
.bar { display: inline-block; height: 0.8rem; background: #2ca02c; vertical-align: middle; }
.headline { font-size: 1.1rem; } code, pre { background: #f6f6f6; padding: 0.1rem 0.3rem; }
pre { padding: 0.6rem; overflow-x: auto; } .charts { display: grid; grid-template-columns: 1fr; gap: 1rem; }
svg { max-width: 900px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; } dt { font-weight: 600; }
"""


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def rows(cells: Iterable[Iterable[str]]) -> str:
    return "\n".join("<tr>" + "".join(c for c in row) + "</tr>" for row in cells)


def td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def results_table(results: list[Result]) -> str:
    head = [
        "scenario",
        "strategy",
        "requests",
        "seconds",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "gen cpu",
        "server CPU ms/req",
        "PostgreSQL CPU ms/req",
        "sold out s",
        "statuses",
        "checks",
    ]
    body = []
    for r in results:
        checks = escape("; ".join(r.violations)) if r.violations else "OK"
        statuses = escape(" ".join(f"{k}:{v}" for k, v in r.statuses.items()))
        body.append(
            [
                td(escape(r.scenario), "l"),
                td(escape(r.strategy), "l"),
                td(str(r.requests)),
                td(fmt(r.seconds, 2)),
                td(fmt(r.throughput, 0)),
                td(fmt(r.p50_ms)),
                td(fmt(r.p99_ms)),
                td(fmt(r.max_ms)),
                td(fmt(r.client_cpu, 2)),
                td(fmt(r.server_cpu_ms, 3)),
                td(fmt(r.pg_cpu_ms, 3)),
                td(fmt(sold_out(r), 2)),
                td(statuses, "l"),
                td(checks, "bad l" if r.violations else "ok l"),
            ]
        )
    header = "".join(
        f'<th class="{"l" if h in ("scenario", "strategy", "statuses", "checks") else ""}">{h}</th>' for h in head
    )
    return f"<table><tr>{header}</tr>\n{rows(body)}</table>"


def ratio_table(ratios: dict[str, float]) -> str:
    body = [
        [
            td(escape(name), "l"),
            td(f"{value:.2f}"),
            td(f'<span class="bar" style="width:{min(value, 2) * 150:.0f}px"></span>', "l"),
        ]
        for name, value in ratios.items()
    ]
    return f'<table><tr><th class="l">ratio</th><th>value</th><th class="l"></th></tr>\n{rows(body)}</table>'


def limit_table(results: list[Result]) -> str:
    body = []
    for r in results:
        if r.scenario == "spread" and r.strategy not in ENGINE:
            extra = r.extra
            how = (
                f"{extra.get('clients')} clients, {extra.get('rounds')} rounds of {extra.get('round_transactions')}"
                if r.strategy.startswith("pgbench")
                else "one connection per server pool slot"
            )
            body.append(
                [
                    td(escape(r.strategy), "l"),
                    td(fmt(r.throughput, 0)),
                    td(fmt(r.seconds, 2)),
                    td(fmt(r.p99_ms)),
                    td(fmt(r.pg_cpu_ms, 3)),
                    td(escape(how), "l"),
                ]
            )
    head = "".join(f"<th>{h}</th>" for h in ("claims/s", "seconds", "p99 ms", "PostgreSQL CPU ms/claim"))
    head = f'<tr><th class="l">limit</th>{head}<th class="l">how</th></tr>'
    return f"<table>{head}\n{rows(body)}</table>"


def scenario_charts(scenario: str, results: list[Result]) -> list[str]:
    mine = [r for r in results if r.scenario == scenario]
    cdf = charts.Chart(
        f"{scenario}: latency distribution (CDF)",
        "latency, ms (log scale)",
        "% of requests answered within",
        [
            charts.Series(
                r.strategy,
                [(ms, 100 * q) for ms, q in zip(r.latency_ms, QUANTILES, strict=False)],
                dashed=r.strategy not in ENGINE,
            )
            for r in mine
            if r.latency_ms
        ],
        log_x=True,
    )
    engine = [r for r in mine if r.strategy in ENGINE]
    throughput = charts.Chart(
        f"{scenario}: throughput over time",
        "seconds since release",
        "answers per second",
        [
            charts.Series(
                r.strategy,
                [((i + 0.5) * r.timeline.bucket_s, n / r.timeline.bucket_s) for i, n in enumerate(r.timeline.answers)],
            )
            for r in engine
            if r.timeline
        ],
        references=[(r.strategy, r.throughput) for r in mine if r.strategy not in ENGINE],
    )
    out = [charts.render(cdf), charts.render(throughput)]
    if scenario == "sell-out":
        sold = []
        for r in engine:
            if r.timeline:
                total, points = 0, [(0.0, 0.0)]
                for i, n in enumerate(r.timeline.created):
                    total += n
                    points.append(((i + 1) * r.timeline.bucket_s, float(total)))
                seconds = sold_out(r)
                legend = f"{r.strategy}, {seconds:.1f} s" if seconds is not None else r.strategy
                sold.append(charts.Series(r.strategy, points, legend=legend))
        chart = charts.Chart("sell-out: seats sold over time", "seconds since release", "seats sold", sold)
        out.append(charts.render(chart))
    return out


def render_html(results: list[Result], report: dict[str, Any]) -> str:
    ratios: dict[str, float] = report["ratios"]
    machine: dict[str, Any] = report["machine"]
    started = datetime.datetime.fromtimestamp(report["started"]).strftime("%Y-%m-%d %H:%M")
    violations = [f"{r.label}: {v}" for r in results for v in r.violations]
    headline_name = next((k for k in ratios if k.startswith("fastest")), None)
    headline = (
        f'<p class="headline">{escape(headline_name)} = <b>{ratios[headline_name]:.2f}</b> '
        f"of the physical limit ({LIMIT}, a C client running the same claim statement on the same database).</p>"
        if headline_name
        else ""
    )
    verdict = (
        f'<p class="bad">Correctness violations: {escape("; ".join(violations))}</p>'
        if violations
        else '<p class="ok">Every run passed the database checks: no seat booked twice, every 201 present, '
        "every booking told to exactly one client, every booked seat has its outbox event.</p>"
    )
    scenarios = list(dict.fromkeys(r.scenario for r in results))
    chart_html = "\n".join(
        f"<h3>{escape(s)}</h3><div class='charts'>" + "\n".join(scenario_charts(s, results)) + "</div>"
        for s in scenarios
    )
    machine_rows = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in machine.items())
    option_rows = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in report["options"].items())
    scripts = "".join(
        f"<h3>{escape(name)}</h3><pre>{escape(text)}</pre>" for name, text in report.get("pgbench_scripts", {}).items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Box Office benchmark {started}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<h1>Box Office flash-crowd benchmark, {started}</h1>
<p><code>{escape(report["command"])}</code></p>
{headline}
{verdict}
<h2>Limits (spread workload, same database, same run)</h2>
{limit_table(results)}
<h2>Ratios</h2>
{ratio_table(ratios)}
<h2>Results</h2>
{results_table(results)}
<p>gen cpu: the load generator's cores. CPU per request: the server's (all workers) and PostgreSQL's
(postmaster and every backend, only with <code>--private-postgres</code>) CPU time divided by requests.</p>
<h2>Charts</h2>
{chart_html}
<h2>Machine</h2>
<dl>{machine_rows}</dl>
<h2>Options</h2>
<dl>{option_rows}</dl>
<details><summary>pgbench scripts</summary>{scripts}</details>
</body></html>
"""
