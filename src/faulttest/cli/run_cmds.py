"""`faulttest run`: the full pipeline over the selected faults, with live progress and reports.

Starts (and later stops) the lab when no target is given, serves the aiHelpDesk agents
in-process when no agent URL is given, and always tears down what it injected. The work
happens in `faulttest.run.session`, imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from faulttest import safety
from faulttest.cli.catalog_cmds import CATALOG_OPTION_HELP


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)


def run_cmd(
    ids: str = typer.Option(None, "--ids", help="Comma list of failure ids to run."),
    categories: str = typer.Option(None, "--categories", help="Comma list of categories."),
    exclude_ids: str = typer.Option(None, "--exclude-ids", help="Comma list of ids to leave out."),
    catalog: list[Path] = typer.Option([], "--catalog", help=CATALOG_OPTION_HELP),
    source: str = typer.Option(
        "all",
        "--source",
        help="all, builtin (only the built-in catalog) or custom (only --catalog files).",
    ),
    repeat: int = typer.Option(1, "--repeat", min=1, help="Run each fault N times (stability)."),
    stable_threshold: float = typer.Option(
        0.8, "--stable-threshold", min=0.0, max=1.0, help="Pass rate at which a fault is stable."
    ),
    report_dir: Path = typer.Option(Path("."), "--report-dir", help="Where the JSON report goes."),
    report_per_fault: bool = typer.Option(
        False, "--report-per-fault", help="Also one JSON per fault."
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    html: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report here."
    ),
    db_agent: str | None = typer.Option(
        None, "--db-agent", help="URL of the database agent (A2A)."
    ),
    k8s_agent: str | None = typer.Option(None, "--k8s-agent", help="URL of the k8s agent (A2A)."),
    orchestrator: str | None = typer.Option(
        None, "--orchestrator", help="URL of the orchestrator (A2A), for compound faults."
    ),
    conn: str | None = typer.Option(None, "--conn", envvar="FAULTTEST_CONN", help="Target DSN."),
    replica_conn: str | None = typer.Option(
        None, "--replica-conn", envvar="FAULTTEST_REPLICA_CONN", help="Replica DSN."
    ),
    context: str | None = typer.Option(
        None,
        "--context",
        envvar="FAULTTEST_KUBE_CONTEXT",
        help="Kubernetes context for kubernetes/compound faults (skipped without one).",
    ),
    infra_config: Path | None = typer.Option(
        None, "--infra-config", envvar="HELPDESK_INFRA_CONFIG", help="infrastructure.json."
    ),
    override: bool = typer.Option(
        False, safety.OVERRIDE_FLAG, help="Break a target that is not registered as a test system."
    ),
    judge: bool = typer.Option(
        False, "--judge", help="Also grade each answer with the configured LLM (HELPDESK_MODEL_*)."
    ),
    remediate: bool = typer.Option(
        False,
        "--remediate",
        help="After the diagnosis, ask the agent to fix the fault (authorised on this test "
        "target) and verify the recovery check.",
    ),
    agent_timeout: float | None = typer.Option(
        None, "--agent-timeout", min=1, help="Seconds the agent may take (default: the fault's)."
    ),
    lab_port: int | None = typer.Option(
        None,
        "--lab-port",
        envvar="FAULTTEST_LAB_PORT",
        min=0,
        help="Primary port of a lab started for the run (default 15432, free ports if taken;"
        " 0: free ports).",
    ),
    lab_replica_port: int | None = typer.Option(
        None,
        "--lab-replica-port",
        envvar="FAULTTEST_LAB_REPLICA_PORT",
        min=0,
        help="Replica port of a lab started for the run (default: --lab-port + 1).",
    ),
) -> None:
    """Inject each selected fault, ask the agent, score the answer, tear down, report."""
    from faulttest.run.session import RunRequest, execute

    request = RunRequest(
        ids=ids,
        categories=categories,
        exclude_ids=exclude_ids,
        catalog=catalog,
        source=source,
        repeat=repeat,
        stable_threshold=stable_threshold,
        report_dir=report_dir,
        report_per_fault=report_per_fault,
        junit=junit,
        html=html,
        db_agent=db_agent,
        k8s_agent=k8s_agent,
        orchestrator=orchestrator,
        conn=conn,
        replica_conn=replica_conn,
        context=context,
        infra_config=infra_config,
        override=override,
        judge=judge,
        remediate=remediate,
        agent_timeout=agent_timeout,
        lab_port=lab_port,
        lab_replica_port=lab_replica_port,
    )
    report = execute(request)
    raise typer.Exit(report.exit_code)
