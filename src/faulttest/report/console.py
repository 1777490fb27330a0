"""Console rendering of results: one line per fault and the run summary (rich).

Plain-text builders (`result_lines`, `summary_lines`) carry the content, so they are easy to
test; `print_result`/`print_summary` add colour. Everything printed is masked.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from faulttest.report.models import FaultResult, RemediationResult, RunReport, Status
from helpdesk.dsn import mask

LABELS = {
    Status.PASSED: ("PASS", "green"),
    Status.FAILED: ("FAIL", "red"),
    Status.ERROR: ("ERROR", "magenta"),
    Status.SKIPPED: ("SKIP", "yellow"),
}
_SHOWN_PHASES = ("inject", "agent", "remediate", "teardown")


def _phases(result: FaultResult) -> str:
    values = result.phases.model_dump()
    shown = [f"{name} {values[name]:.1f}s" for name in _SHOWN_PHASES if values.get(name)]
    return f"  ({', '.join(shown)})" if shown else ""


def result_lines(result: FaultResult) -> list[str]:
    """`[PASS] db-table-bloat  score=100%  (inject 0.4s, agent 0.6s, teardown 0.1s)` (+ reason)."""
    label = LABELS[result.status][0]
    if result.status is Status.SKIPPED:
        return [mask(f"[{label}] {result.failure_id}  ({result.reason})")]
    head = f"[{label}] {result.failure_id}  score={result.score:.0%}{_phases(result)}"
    lines = [head]
    if result.repeats is not None:
        s = result.repeats.stability
        lines.append(
            f"       repeats {s.passes}/{s.runs}  rate={s.pass_rate:.0%} "
            f"[{s.ci_low:.0%}..{s.ci_high:.0%}]  {'stable' if s.stable else 'UNSTABLE'}  "
            f"agreement={s.category_agreement:.0%}  "
            f"p50={s.latency_p50:.1f}s p95={s.latency_p95:.1f}s"
        )
    if result.remediation is not None:
        lines.append("       " + remediation_line(result.remediation))
    if result.status is not Status.PASSED:
        lines.append(f"       reason: {result.reason}")
    return [mask(line) for line in lines]


def remediation_line(r: RemediationResult) -> str:
    """`remediation: recovered in 0.4s  score=100%  [terminate_connection(pid=42): done]`."""
    actions = f"  [{'; '.join(r.actions)}]" if r.actions else "  (no change made)"
    if r.judge is not None:
        actions += f"  judge={r.judge.score:.2f}{'' if r.judge.passed else ' (FAILED)'}"
    if r.error:
        return f"remediation: ERROR {r.error}"
    if r.guidance_only:
        verdict = "names the fix" if r.advice_ok else "does NOT name the fix"
        return f"remediation: guidance-only, advice {verdict}  score={r.score:.0%}{actions}"
    if r.recovered:
        return (
            f"remediation: recovered in {r.time_to_recover or 0:.1f}s  score={r.score:.0%}{actions}"
        )
    return f"remediation: NOT recovered within {r.duration:.0f}s  score=0%{actions}"


def summary_lines(report: RunReport) -> list[str]:
    """Per-category pass rates, then `Total: N | Passed: N | Failed: N | Rate: NN%`.

    `Failed` counts every fault that ran and did not pass (failures and errors); the rate
    is over the faults that ran.
    """
    s = report.summary
    lines = ["", "Summary"]
    for name, stats in sorted(s.categories.items()):
        ran = stats.total - stats.skipped
        if ran:
            line = f"  {name:<12} {stats.passed}/{ran} passed ({stats.rate:.0%})"
            lines.append(line + (f", {stats.skipped} skipped" if stats.skipped else ""))
        else:
            lines.append(f"  {name:<12} {stats.skipped} skipped")
    if s.errored or s.skipped:
        lines.append(f"  errors: {s.errored} | skipped: {s.skipped}")
    remediation = remediation_summary(report)
    if remediation:
        lines.append(remediation)
    lines.append(
        f"Total: {s.total} | Passed: {s.passed} | Failed: {s.failed + s.errored} | "
        f"Rate: {s.pass_rate:.0%}"
    )
    return [mask(line) for line in lines]


def remediation_summary(report: RunReport) -> str:
    """`  remediation: recovered 4/4 (median 0.4s) | advice ok 5/5 | errors 0` ("" without)."""
    done = [r.remediation for r in report.results if r.remediation is not None]
    if not done:
        return ""
    fixable = [r for r in done if not r.guidance_only and not r.error]
    recovered = sorted(r.time_to_recover or 0.0 for r in fixable if r.recovered)
    guidance = [r for r in done if r.guidance_only and not r.error]
    median = f" (median {recovered[len(recovered) // 2]:.1f}s)" if recovered else ""
    return (
        f"  remediation: recovered {len(recovered)}/{len(fixable)}{median} | advice ok "
        f"{sum(bool(r.advice_ok) for r in guidance)}/{len(guidance)} | "
        f"errors {sum(bool(r.error) for r in done)}"
    )


def print_result(console: Console, result: FaultResult) -> None:
    label, colour = LABELS[result.status]
    lines = result_lines(result)
    first = escape(lines[0]).replace(f"\\[{label}]", f"[bold {colour}]\\[{label}][/]", 1)
    console.print(first, highlight=False)
    for line in lines[1:]:
        console.print(escape(line), style="dim" if result.passed else None, highlight=False)


def print_summary(console: Console, report: RunReport) -> None:
    for line in summary_lines(report):
        console.print(escape(line), highlight=False)
