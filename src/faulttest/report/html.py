"""The HTML run report: one self-contained file that works offline.

Summary, per-category pass rates with a chart, a per-fault table, and per fault a
collapsible block with the prompt, the answer, the diagnosis and the tool trace; a
stability chart when faults were repeated. Inline CSS and SVG only: no scripts, no links out.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from faulttest.report import charts
from faulttest.report.console import remediation_line
from faulttest.report.json_report import write_atomic
from faulttest.report.models import FaultResult, RunReport, Status
from helpdesk.dsn import mask

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{margin-bottom:.2rem} .muted{color:#777}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.passed{color:#2f7d32;font-weight:600} .failed{color:#c62828;font-weight:600}
.error{color:#8e24aa;font-weight:600} .skipped{color:#b26a00;font-weight:600}
.cards{display:flex;gap:1rem;margin:1rem 0} .card{border:1px solid #ddd;border-radius:6px;
padding:.6rem 1rem;min-width:6rem} .card b{display:block;font-size:1.6rem}
pre{background:#f7f7f7;border:1px solid #e4e4e4;padding:.6rem;white-space:pre-wrap;
word-break:break-word;max-height:28rem;overflow:auto}
details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
summary{cursor:pointer;font-weight:600} .chart svg{max-width:100%;height:auto}
"""


def _t(value: object) -> str:
    """Text for the page: masked, then escaped."""
    return escape(mask("" if value is None else str(value)))


def _short(text: str, limit: int = 160) -> str:
    """The first `limit` characters (the full text is in the fault's details)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _status(status: Status) -> str:
    return f'<span class="{status.value}">{status.value}</span>'


def _mark(ok: bool, applicable: bool = True) -> str:
    if not applicable:
        return '<span class="muted">n/a</span>'
    return '<span class="passed">✓</span>' if ok else '<span class="failed">✗</span>'


def _table(headers: list[str], rows: list[list[str]], css_id: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    ident = f' id="{css_id}"' if css_id else ""
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    return f"<table{ident}>{thead}<tbody>{body}</tbody></table>"


def _summary_section(report: RunReport) -> str:
    s, env = report.summary, report.environment
    cards = [
        ("Total", s.total),
        ("Passed", s.passed),
        ("Failed", s.failed),
        ("Errors", s.errored),
        ("Skipped", s.skipped),
        ("Pass rate", f"{s.pass_rate:.0%}"),
    ]
    cards_html = "".join(f'<div class="card">{_t(k)}<b>{_t(v)}</b></div>' for k, v in cards)
    versions = ", ".join(f"{k} {v}" for k, v in env.versions.items())
    facts = [
        ["Run", _t(report.id)],
        ["Started", _t(report.timestamp.isoformat(timespec="seconds"))],
        ["Duration", _t(f"{report.duration:.1f}s")],
        ["Profile", _t(report.profile)],
        ["Target", _t(env.target)],
        ["Agent", _t(env.agent)],
        ["Model", _t(env.model)],
        ["Versions", _t(versions)],
    ]
    return (
        f'<section id="summary"><h2>Summary</h2><div class="cards">{cards_html}</div>'
        f"{_table([], facts)}</section>"
    )


def _categories_section(report: RunReport) -> str:
    cats = report.summary.categories
    rows = [
        [
            _t(name),
            str(st.total),
            str(st.passed),
            str(st.skipped),
            _t(f"{st.rate:.0%}" if st.total > st.skipped else "n/a"),
        ]
        for name, st in sorted(cats.items())
    ]
    rates = {name: st.rate for name, st in sorted(cats.items()) if st.total > st.skipped}
    chart = f'<div class="chart">{charts.pass_rate_chart(rates)}</div>' if rates else ""
    table = _table(["Category", "Total", "Passed", "Skipped", "Rate"], rows)
    return f'<section id="categories"><h2>Pass rate per category</h2>{table}{chart}</section>'


def _component_marks(result: FaultResult) -> list[str]:
    names = ("category", "keywords", "tool_evidence", "must_cite")
    if result.evaluation is None:
        return ['<span class="muted">–</span>'] * len(names)
    marks = []
    for name in names:
        c = result.evaluation.component(name)
        marks.append(_mark(c.passed, c.applicable) if c else '<span class="muted">–</span>')
    return marks


def _faults_section(report: RunReport) -> str:
    rows = []
    for r in report.results:
        p = r.phases
        compat = f"{r.compat.score:.0%}" if r.compat else "–"
        rows.append(
            [
                f'<a href="#fault-{_t(r.failure_id)}">{_t(r.failure_id)}</a>',
                _t(r.category),
                _status(r.status),
                _t(f"{r.score:.0%}"),
                *_component_marks(r),
                _t(compat),
                _t(f"{p.inject:.1f}s / {p.agent:.1f}s / {p.teardown:.1f}s"),
                _t(f"{r.duration:.1f}s"),
                _t(_short(r.reason)),
            ]
        )
    headers = [
        "Fault",
        "Category",
        "Status",
        "Score",
        "Diagnosis",
        "Keywords",
        "Tools",
        "Cited",
        "Compat",
        "Inject / agent / teardown",
        "Total",
        "Reason",
    ]
    return f'<section id="faults"><h2>Faults</h2>{_table(headers, rows, "fault-table")}</section>'


def _components_table(result: FaultResult) -> str:
    if result.evaluation is None:
        return ""
    rows = [
        [
            _t(c.name),
            _mark(c.passed, c.applicable),
            _t(f"{c.score:.2f}"),
            _t(c.weight),
            _t(c.reason),
        ]
        for c in result.evaluation.components
    ]
    return "<h4>Score components</h4>" + _table(
        ["Component", "", "Score", "Weight", "Reason"], rows
    )


def _trace_table(result: FaultResult) -> str:
    calls = result.agent_result.tool_calls if result.agent_result else []
    if not calls:
        return '<h4>Tool trace</h4><p class="muted">no tool calls recorded</p>'
    rows = [
        [
            _t(c.agent),
            _t(c.tool),
            _mark(c.ok),
            _t(c.duration_ms),
            f"<code>{_t(json.dumps(c.args, ensure_ascii=False))}</code>",
            _t(c.error or ""),
        ]
        for c in calls
    ]
    return "<h4>Tool trace</h4>" + _table(["Agent", "Tool", "OK", "ms", "Arguments", "Error"], rows)


def _fault_details(result: FaultResult) -> str:
    diagnosis = result.agent_result.diagnosis if result.agent_result else None
    diag = json.dumps(diagnosis.model_dump(), indent=2, ensure_ascii=False) if diagnosis else ""
    parts = [
        f"<h4>Prompt</h4><pre>{_t(result.prompt)}</pre>",
        f"<h4>Answer</h4><pre>{_t(result.response_text) or '(no answer)'}</pre>",
        f"<h4>Diagnosis</h4><pre>{_t(diag) or '(text-only answer)'}</pre>",
        _components_table(result),
        _trace_table(result),
    ]
    if result.judge is not None:
        j = result.judge
        parts.append(
            f"<h4>Judge</h4><p>{_t(j.model)} (rubric {_t(j.rubric_version)}): "
            f"score {_t(f'{j.score:.2f}')}</p><pre>{_t(j.reasoning)}</pre>"
        )
    if result.remediation is not None:
        parts.append(_remediation_block(result))
    if result.error:
        parts.append(f"<h4>Error</h4><pre>{_t(result.error)}</pre>")
    if result.repeats is not None:
        rows = [
            [
                str(r.index),
                _status(r.status),
                _t(f"{r.score:.0%}"),
                _t(r.category or "–"),
                _t(f"{r.agent_seconds:.2f}s"),
                _t(r.error or ""),
            ]
            for r in result.repeats.runs
        ]
        parts.append(
            "<h4>Repeats</h4>"
            + _table(["#", "Status", "Score", "Category", "Agent", "Error"], rows)
        )
    summary = f"{_t(result.failure_id)} — {_status(result.status)} {_t(result.reason)}"
    return (
        f'<details id="fault-{_t(result.failure_id)}"><summary>{summary}</summary>'
        + "".join(parts)
        + "</details>"
    )


def _remediation_block(result: FaultResult) -> str:
    r = result.remediation
    assert r is not None
    ttr = f"{r.time_to_recover:.2f}s" if r.time_to_recover is not None else "–"
    held = {None: "–", True: "YES (fault definition broken)", False: "no"}[r.recovery_held_before]
    rows = [
        ["outcome", _t(remediation_line(r))],
        ["recovered", _mark(r.recovered, not r.guidance_only)],
        ["time to recover", _t(ttr)],
        ["score", _t(f"{r.score:.0%}")],
        ["guidance only", _t("yes" if r.guidance_only else "no")],
        ["advice names the fix", _mark(bool(r.advice_ok), r.guidance_only)],
        ["recovery check held before the fix", _t(held)],
        ["actions", _t("; ".join(r.actions) or "none")],
        ["disallowed actions", _t(", ".join(r.disallowed_actions) or "none")],
    ]
    if r.judge is not None:
        rows.append(["judge", _t(f"{r.judge.score:.2f} ({r.judge.model}): {r.judge.reasoning}")])
    answer = f"<pre>{_t(r.response_text)}</pre>" if r.response_text else ""
    return "<h4>Remediation</h4>" + _table(["", ""], rows) + answer


def _details_section(report: RunReport) -> str:
    body = "".join(_fault_details(r) for r in report.results)
    return f'<section id="details"><h2>Per-fault details</h2>{body}</section>'


def _stability_section(report: RunReport) -> str:
    repeated = [r for r in report.results if r.repeats is not None]
    if not repeated:
        return ""
    rows, points = [], []
    for r in repeated:
        s = r.repeats.stability  # type: ignore[union-attr]
        points.append((r.failure_id, s.pass_rate, s.ci_low, s.ci_high))
        rows.append(
            [
                _t(r.failure_id),
                _t(f"{s.passes}/{s.runs}"),
                _t(f"{s.pass_rate:.0%} [{s.ci_low:.0%}, {s.ci_high:.0%}]"),
                '<span class="passed">stable</span>'
                if s.stable
                else '<span class="failed">unstable</span>',
                _t(f"{s.category_agreement:.0%} ({s.majority_category or '–'})"),
                _t(f"{s.latency_p50:.2f}s / {s.latency_p95:.2f}s"),
                _t(f"{s.llm_calls} / {s.input_tokens + s.output_tokens}"),
            ]
        )
    headers = [
        "Fault",
        "Passed",
        "Rate [95% CI]",
        "Stability",
        "Category agreement",
        "Agent p50 / p95",
        "LLM calls / tokens",
    ]
    chart = f'<div class="chart">{charts.stability_chart(points)}</div>'
    title = "<h2>Stability over repeats</h2>"
    return f'<section id="stability">{title}{_table(headers, rows)}{chart}</section>'


def render_html(report: RunReport) -> str:
    title = f"faulttest run {report.id}"
    body = "".join(
        [
            _summary_section(report),
            _categories_section(report),
            _stability_section(report),
            _faults_section(report),
            _details_section(report),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_t(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{_t(title)}</h1>"
        f'<p class="muted">{_t(report.timestamp.isoformat(timespec="seconds"))}</p>'
        f"{body}</body></html>\n"
    )


def write_html(report: RunReport, path: Path) -> Path:
    return write_atomic(Path(path), render_html(report))
