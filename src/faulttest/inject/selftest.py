"""The selftest: per fault inject → probe holds → teardown → clean, one verdict each.

Proves the framework can break and repair a target before any agent is involved;
faults the target cannot take (Kubernetes, missing replica or server control) are skipped
with the reason. Results are data; `render_*` turn them into the console lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from faulttest.catalog.models import FailureMode
from faulttest.errors import FaulttestError
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal
from faulttest.targets import KubeCluster, Target
from helpdesk import dsn as dsnlib


@dataclass
class Verdict:
    failure: FailureMode
    status: str  # held | failed | skipped
    inject_seconds: float = 0.0
    teardown_seconds: float = 0.0
    detail: str = ""


@dataclass
class SelftestReport:
    target: str
    verdicts: list[Verdict] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts if v.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def check_one(injector: Injector, failure: FailureMode) -> Verdict:
    reason = injector.unsupported_reason(failure)
    if reason:
        return Verdict(failure, "skipped", detail=reason)
    started = time.monotonic()
    try:
        injection = injector.inject(failure)
    except FaulttestError as exc:
        detail = f"inject: {dsnlib.mask(exc.message)}"
        return Verdict(failure, "failed", time.monotonic() - started, detail=detail)
    result = injector.teardown(failure)
    if not result.clean:
        detail = f"teardown left: {'; '.join(result.leftovers)}"
        return Verdict(failure, "failed", injection.seconds, result.seconds, dsnlib.mask(detail))
    return Verdict(failure, "held", injection.seconds, result.seconds, injection.observed)


def run_selftest(
    target: Target,
    failures: list[FailureMode],
    *,
    journal: Journal | None = None,
    echo: Callable[[str], None] = print,
    kube: KubeCluster | None = None,
) -> SelftestReport:
    injector = Injector(target, journal, kube=kube)
    report = SelftestReport(target=target.label)
    echo(f"Selftest against {target.label}")
    for failure in failures:
        verdict = check_one(injector, failure)
        report.verdicts.append(verdict)
        echo(render_verdict(verdict))
    echo(render_summary(report))
    return report


_LABELS = {"held": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def render_verdict(verdict: Verdict) -> str:
    head = f"{_LABELS[verdict.status]:<5} {verdict.failure.id:<30}"
    if verdict.status == "skipped":
        return f"{head} skipped: {verdict.detail}"
    times = f"inject {verdict.inject_seconds:5.1f}s  teardown {verdict.teardown_seconds:5.1f}s"
    if verdict.status == "held":
        return f"{head} {times}"
    return f"{head} {times}  {verdict.detail}"


def render_summary(report: SelftestReport) -> str:
    return (
        f"\nTotal: {len(report.verdicts)} | Held: {report.count('held')} | "
        f"Failed: {report.count('failed')} | Skipped: {report.count('skipped')}"
    )
