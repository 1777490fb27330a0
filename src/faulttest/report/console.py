"""Console rendering of results: one line per fault and the run summary (rich).

Plain-text builders (`result_lines`, `summary_lines`) carry the content, so they are easy to
test; `print_result`/`print_summary` add colour. Everything printed is masked.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from faulttest.report.models import FaultResult, RunReport, Status
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
    if result.status is not Status.PASSED:
        lines.append(f"       reason: {result.reason}")
    return [mask(line) for line in lines]


def summary_lines(report: RunReport) -> list[str]:
    """Per-category pass rates, then `Total: N | Passed: N | Failed: N | Rate: NN%`.

    `Failed` counts every fault that ran and did not pass (failures and errors); the rate
    is over the faults that ran.
    """
    s = report.summary
    lines = ["", "Summary"]
    for name, stats in sorted(s.categories.items()):
        ran = stats.total - stats.skipped
        lines.append(
            f"  {name:<12} {stats.passed}/{ran} passed ({stats.rate:.0%})"
            + (f", {stats.skipped} skipped" if stats.skipped else "")
        )
    if s.errored or s.skipped:
        lines.append(f"  errors: {s.errored} | skipped: {s.skipped}")
    lines.append(
        f"Total: {s.total} | Passed: {s.passed} | Failed: {s.failed + s.errored} | "
        f"Rate: {s.pass_rate:.0%}"
    )
    return [mask(line) for line in lines]


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
