"""One `faulttest run`: select faults, open the target and agents, run, write the reports.

The CLI command only parses options into a `RunRequest`; everything else happens here,
so the pytest plugin and other callers can drive a run the same way (`open_run`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from faulttest import safety
from faulttest.catalog.loader import load_catalog
from faulttest.catalog.models import FailureMode
from faulttest.cli.catalog_cmds import select_failures, split_csv
from faulttest.errors import FaulttestError, UsageError
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal
from faulttest.report import history, json_report
from faulttest.report.console import print_result, print_summary
from faulttest.report.html import write_html
from faulttest.report.junit import write_junit
from faulttest.report.models import Environment, FaultResult, RunReport
from faulttest.run.agents import AgentSet, AgentUrls
from faulttest.run.interrupt import stop_signals_interrupt
from faulttest.run.pipeline import Interrupted, Runner, RunSettings
from faulttest.run.recovery import recover_leftovers
from faulttest.run.target import LabPorts, open_target
from faulttest.targets import LabTarget, Target, faulttest_home, kube_cluster
from helpdesk.dsn import mask

log = logging.getLogger(__name__)

KUBE_CONTEXT_ENV = "FAULTTEST_KUBE_CONTEXT"


class RunInterrupted(FaulttestError):
    """Ctrl-C / SIGTERM stopped the run after tearing down (exit 130, like a shell)."""

    exit_code = 130


@dataclass
class RunRequest:
    ids: str | None = None
    categories: str | None = None
    exclude_ids: str | None = None
    catalog: list[Path] = field(default_factory=list)
    source: str = "all"
    repeat: int = 1
    stable_threshold: float = 0.8
    report_dir: Path = Path(".")
    report_per_fault: bool = False
    junit: Path | None = None
    html: Path | None = None
    db_agent: str | None = None
    k8s_agent: str | None = None
    orchestrator: str | None = None
    conn: str | None = None
    replica_conn: str | None = None
    context: str | None = None
    infra_config: Path | None = None
    override: bool = False
    judge: bool = False
    remediate: bool = False
    agent_timeout: float | None = None
    lab_port: int | None = None
    lab_replica_port: int | None = None

    @property
    def kube_context(self) -> str | None:
        return self.context or os.environ.get(KUBE_CONTEXT_ENV) or None


def select(req: RunRequest) -> list[FailureMode]:
    """The faults the request selects, in catalog order (UsageError when none or unknown)."""
    if req.source not in ("all", "builtin", "custom"):
        raise UsageError(f"--source must be all, builtin or custom, not {req.source!r}")
    if req.source == "custom" and not req.catalog:
        raise UsageError("--source custom needs at least one --catalog file")
    custom = req.catalog if req.source != "builtin" else []
    loaded = load_catalog(custom, builtin=req.source != "custom")
    chosen = select_failures(loaded, req.ids, req.categories)
    excluded = set(split_csv(req.exclude_ids))
    failures = [f for f in chosen if f.id not in excluded]
    if not failures:
        raise UsageError("no failure modes selected", hint="`faulttest list` shows the ids")
    return failures


@contextlib.contextmanager
def open_run(req: RunRequest, say: Callable[[str], None]) -> Iterator[tuple[Runner, Target]]:
    """Target (lab started if needed) → safety guard → recovery → agents: a ready Runner.

    Everything opened here is closed on exit: agents stopped, a lab started here taken down.
    """
    settings = RunSettings(
        repeat=req.repeat,
        stable_threshold=req.stable_threshold,
        kube_context=req.kube_context,
        agent_timeout=req.agent_timeout,
        remediate=req.remediate,
    )
    if req.judge:
        from faulttest.run.llm_judge import build_judge

        settings.judge = build_judge()  # before anything starts: a bad setting is exit 2
    infra = safety.load_infra(req.infra_config)
    home = faulttest_home()
    ports = LabPorts.from_env(req.lab_port, req.lab_replica_port)
    with open_target(req.conn, req.replica_conn, infra, home, say, ports) as target:
        safety.check_target(target, infra, override=req.override)
        kube = kube_cluster(req.kube_context, infra=infra)
        if kube is not None:
            safety.check_cluster(kube, infra, override=req.override)
        journal = Journal(home)
        recover_leftovers(journal, target, say)
        injector = Injector(target, journal, home=home, safety_override=req.override, kube=kube)
        urls = AgentUrls(
            database=req.db_agent, kubernetes=req.k8s_agent, orchestrator=req.orchestrator
        )
        with AgentSet(urls) as agents:
            yield Runner(injector, agents, settings), target


def execute(req: RunRequest, console: Console | None = None) -> RunReport:
    """Run the request end to end and write its reports; returns the report.

    Ctrl-C or SIGTERM: the fault in progress is torn down, the reports of what ran are
    written, then RunInterrupted (exit 130) is raised.
    """
    console = console or Console(highlight=False, soft_wrap=True)
    failures = select(req)
    started = time.monotonic()
    interrupted = False
    with stop_signals_interrupt(), open_run(req, console.print) as (runner, target):
        runner.prepare(failures)
        console.print(f"Target: {mask(target.label)}   Agents: {runner.agents.describe()}")
        try:
            results = _run_with_progress(runner, failures, console)
        except Interrupted as stop:
            results, interrupted = stop.results, True
        environment = _environment(target, runner, results)
    report = RunReport.build(
        results, environment=environment, duration=round(time.monotonic() - started, 3)
    )
    _write_reports(report, req, console)
    if interrupted:
        raise RunInterrupted(
            f"interrupted after {len(results)} of {len(failures)} fault(s); "
            "what was injected has been torn down and the reports were written"
        )
    return report


def _run_with_progress(
    runner: Runner, failures: list[FailureMode], console: Console
) -> list[FaultResult]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("faults", total=len(failures))

        class Listener:
            def fault_started(self, failure: FailureMode, index: int, total: int) -> None:
                progress.update(task, description=failure.id)

            def fault_finished(self, result: FaultResult) -> None:
                print_result(progress.console, result)
                progress.advance(task)

        runner.listener = Listener()
        return runner.run(failures)


def _environment(target: Target, runner: Runner, results: list[FaultResult]) -> Environment:
    versions = {
        "faulttest": _version("aihelpdesk"),
        "python": platform.python_version(),
        "a2a-sdk": _version("a2a-sdk"),
        "platform": platform.platform(terse=True),
    }
    if isinstance(target, LabTarget):
        versions["postgresql"] = target.lab.info.server_version
    models = sorted(
        {
            f"{r.agent_result.model.vendor}/{r.agent_result.model.name}".rstrip("/")
            for r in results
            if r.agent_result is not None
        }
    )
    judge = runner.settings.judge
    return Environment.model_validate(
        {
            "target": mask(target.label),
            "agent": runner.agents.describe(),
            "model": ", ".join(models),
            "versions": versions,
            "judge_model": getattr(judge, "model", None),  # extra keys: Environment allows them
            "kube_context": runner.settings.kube_context,
        }
    )


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _write_reports(report: RunReport, req: RunRequest, console: Console) -> None:
    print_summary(console, report)
    written = json_report.write_report(report, req.report_dir, per_fault=req.report_per_fault)
    if req.junit:
        written.append(write_junit(report, req.junit))
    if req.html:
        written.append(write_html(report, req.html))
    history.append(report, written[0])
    for path in written:
        console.print(f"Report: {path}")
