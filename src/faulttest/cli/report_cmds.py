"""`faulttest score`, `report` and `history`: thin commands over the evaluator and reporters.

`score` re-scores a saved agent result without injecting anything; `report` renders a saved
run report to the console, HTML and JUnit; `history` lists recent runs from FAULTTEST_HOME.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import typer
from pydantic import ValidationError
from rich.console import Console

from faulttest.catalog.loader import load_catalog
from faulttest.cli.catalog_cmds import CATALOG_OPTION_HELP, get_failure
from faulttest.errors import UsageError
from faulttest.evaluate import PROFILES, evaluate
from faulttest.evaluate.model import Profile
from faulttest.report import console as console_report
from faulttest.report import history as run_history
from faulttest.report.html import write_html
from faulttest.report.json_report import load_report
from faulttest.report.junit import write_junit
from faulttest.report.redact import masked_dump
from helpdesk.result import AgentResult


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("report")(report_cmd)
    app.command("history")(history_cmd)


def read_result(path: Path) -> tuple[AgentResult, str | None]:
    """An agent result from a file, and the prompt it answered when the file records it.

    Accepts a SPEC §6 agent result (JSON), a per-fault report (its `agent_result` and
    `prompt`), or plain text (a text-only result).
    """
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the result file ({exc.strerror})") from None
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError:
        return AgentResult.text_only(raw), None
    if not isinstance(data, dict):
        return AgentResult.text_only(raw), None
    prompt = data.get("prompt") if isinstance(data.get("prompt"), str) else None
    if isinstance(data.get("agent_result"), dict):
        data = data["agent_result"]
    try:
        return AgentResult.model_validate(data), prompt
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'result'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(
            f"{path}: not an agent result: {problems}",
            hint="pass the JSON an agent returned (SPEC §6) or a plain-text answer",
        ) from None


def score_cmd(
    failure_id: str = typer.Option(..., "--id", help="The failure mode the answer is for."),
    result_file: Path = typer.Option(
        ..., "--result-file", help="A saved agent result (JSON) or a plain-text answer."
    ),
    profile: str = typer.Option("strict", "--profile", help="strict (default) or compat."),
    catalog: list[Path] = typer.Option([], "--catalog", help=CATALOG_OPTION_HELP),
) -> None:
    """Score a saved agent result against a failure mode; print the evaluation as JSON."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}", hint=f"use one of: {', '.join(PROFILES)}")
    failure = get_failure(load_catalog(catalog), failure_id)
    result, prompt = read_result(result_file)
    evaluation = evaluate(failure, result, profile=cast(Profile, profile), prompt=prompt)
    typer.echo(json.dumps(masked_dump(evaluation), indent=2, ensure_ascii=False))
    if not evaluation.passed:
        raise typer.Exit(1)


def report_cmd(
    report_file: Path = typer.Argument(..., help="A faulttest-<run id>.json run report."),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
) -> None:
    """Render a saved run report: summary on the console, and HTML / JUnit files."""
    report = load_report(report_file)
    out = Console(highlight=False)
    for result in report.results:
        console_report.print_result(out, result)
    console_report.print_summary(out, report)
    if html is not None:
        typer.echo(f"HTML report: {write_html(report, html)}")
    if junit is not None:
        typer.echo(f"JUnit XML: {write_junit(report, junit)}")


def history_cmd(
    limit: int = typer.Option(20, "--limit", min=1, help="How many recent runs to list."),
) -> None:
    """List recent runs (newest first) with their pass rates."""
    entries = run_history.recent(limit)
    if not entries:
        typer.echo(f"No runs recorded yet in {run_history.history_path()}.")
        return
    typer.echo(f"{'RUN':<26}{'WHEN (UTC)':<21}{'PASSED':>8}{'RATE':>7}  {'PROFILE':<8}MODEL")
    typer.echo("-" * 80)
    for e in entries:
        ran = e.total - e.skipped
        when = e.timestamp.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(
            f"{e.id:<26}{when:<21}{f'{e.passed}/{ran}':>8}{e.pass_rate:>7.0%}  "
            f"{e.profile:<8}{e.model or e.agent}"
        )
    typer.echo(f"Total: {len(entries)} runs")
