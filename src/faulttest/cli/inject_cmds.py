"""`faulttest inject`, `teardown` and `selftest`: thin commands over `faulttest.inject`.

They resolve the target (--conn / FAULTTEST_CONN, else the running lab; for Kubernetes and
compound faults the cluster of --context / FAULTTEST_KUBE_CONTEXT), pass it through the
safety guard, and print what happened; all the work is in `Injector`.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from faulttest.catalog.models import FailureMode
from faulttest.cli.catalog_cmds import (
    CATALOG_OPTION_HELP,
    get_failure,
    load_catalog,
    select_failures,
)
from faulttest.errors import InjectionFailed, UsageError
from faulttest.inject import Injector, Journal, JournalEntry
from faulttest.inject.engine import uses_kubernetes
from faulttest.inject.kubernetes import UNSUPPORTED_REASON as NO_CONTEXT_REASON
from faulttest.inject.recovery import recover, teardown_entry
from faulttest.safety import OVERRIDE_FLAG, check_cluster, check_target, load_infra
from faulttest.targets import (
    CONN_ENV,
    REPLICA_CONN_ENV,
    ClusterTarget,
    Target,
    faulttest_home,
    kube_cluster,
    resolve_target,
    running_lab,
)

if TYPE_CHECKING:
    from faulttest.lab import Lab

CONN_HELP = "Target primary DSN or infrastructure alias (default: $FAULTTEST_CONN, else the lab)."
REPLICA_HELP = "Target replica DSN or alias (default: $FAULTTEST_REPLICA_CONN, else the lab's)."
INFRA_HELP = "infrastructure.json registering test systems (default: $HELPDESK_INFRA_CONFIG)."
OVERRIDE_HELP = "Inject even into a target that is not registered as a test system. Dangerous."

# The target options inject, teardown and selftest share.
ConnOption = Annotated[str | None, typer.Option("--conn", help=CONN_HELP)]
ReplicaOption = Annotated[str | None, typer.Option("--replica-conn", help=REPLICA_HELP)]
ContextOption = Annotated[
    str | None, typer.Option("--context", help="Kubernetes context (k8s faults).")
]
InfraOption = Annotated[Path | None, typer.Option("--infra-config", help=INFRA_HELP)]
CatalogOption = Annotated[list[Path], typer.Option("--catalog", help=CATALOG_OPTION_HELP)]
OverrideOption = Annotated[bool, typer.Option(OVERRIDE_FLAG, help=OVERRIDE_HELP)]


def register(app: typer.Typer) -> None:
    app.command("inject")(inject_cmd)
    app.command("teardown")(teardown_cmd)
    app.command("selftest")(selftest_cmd)


@dataclass
class TargetFlags:
    conn: str | None
    replica_conn: str | None
    infra_config: Path | None
    catalog: list[Path]
    context: str | None
    override: bool

    def echo(self) -> str:
        """The flags as given, for the `To tear down:` line."""
        parts: list[str] = []
        for flag, value in (
            ("--conn", self.conn),
            ("--replica-conn", self.replica_conn),
            ("--infra-config", self.infra_config),
            ("--context", self.context),
        ):
            if value:
                parts += [flag, shlex.quote(str(value))]
        for path in self.catalog:
            parts += ["--catalog", shlex.quote(str(path))]
        if self.override:
            parts.append(OVERRIDE_FLAG)
        return " ".join(parts)

    def given_target(self) -> bool:
        """True when a target was named (flags or FAULTTEST_CONN/FAULTTEST_REPLICA_CONN)."""
        env = os.environ.get(CONN_ENV) or os.environ.get(REPLICA_CONN_ENV)
        return bool(self.conn or self.replica_conn or env)

    def target(self, failure: FailureMode | None = None) -> Target:
        """The checked target; for a Kubernetes or compound fault, its cluster."""
        infra = load_infra(self.infra_config)
        if failure is not None and uses_kubernetes(failure):
            cluster = kube_cluster(self.context, infra=infra)
            if cluster is None:
                raise UsageError(f"{failure.id} {NO_CONTEXT_REASON}")
            target: Target = ClusterTarget(cluster)
            check_target(target, infra, override=self.override)
            return target
        target = resolve_target(self.conn, self.replica_conn, infra=infra)
        check_target(target, infra, override=self.override)
        return target


def _flags(
    conn: str | None,
    replica_conn: str | None,
    infra_config: Path | None,
    catalog: list[Path],
    context: str | None,
    override: bool,
) -> TargetFlags:
    return TargetFlags(conn, replica_conn, infra_config, list(catalog), context, override)


# ── inject ───────────────────────────────────────────────────────────────────


def inject_cmd(
    failure_id: str = typer.Option(..., "--id", help="The failure id (see 'faulttest list')."),
    conn: ConnOption = None,
    replica_conn: ReplicaOption = None,
    context: ContextOption = None,
    infra_config: InfraOption = None,
    catalog: CatalogOption = [],  # noqa: B006 - typer copies option defaults
    override: OverrideOption = False,
) -> None:
    """Inject one fault, verify it is really present, and print the prompt for the agent."""
    flags = _flags(conn, replica_conn, infra_config, catalog, context, override)
    failure = get_failure(load_catalog(flags.catalog), failure_id)
    target = flags.target(failure)
    injector = Injector(target, Journal(faulttest_home()), safety_override=override)
    injection = injector.inject(failure)
    teardown = f"faulttest teardown --id {failure.id} {flags.echo()}".rstrip()
    typer.echo(f"Failure injected: {failure.name}")
    typer.echo("")
    typer.echo("Suggested prompt for the agent:")
    typer.echo(injection.prompt)
    typer.echo("")
    typer.echo(f"To tear down: {teardown}")


# ── teardown ─────────────────────────────────────────────────────────────────


def teardown_cmd(
    failure_id: str | None = typer.Option(None, "--id", help="The failure id to tear down."),
    all_: bool = typer.Option(False, "--all", help="Undo everything the journal records."),
    conn: ConnOption = None,
    replica_conn: ReplicaOption = None,
    context: ContextOption = None,
    infra_config: InfraOption = None,
    catalog: CatalogOption = [],  # noqa: B006 - typer copies option defaults
    override: OverrideOption = False,
) -> None:
    """Undo a fault (or --all recorded ones) and verify the target is clean; idempotent."""
    if bool(failure_id) == all_:
        raise UsageError("give either --id X or --all")
    flags = _flags(conn, replica_conn, infra_config, catalog, context, override)
    if all_:
        _teardown_all(flags)
        return
    assert failure_id is not None
    failure = get_failure(load_catalog(flags.catalog), failure_id)
    journal = Journal(faulttest_home())
    entry = _only_entry(journal, failure.id) if not flags.given_target() else None
    if entry is not None:  # injected elsewhere than the default target: go where it went
        infra = load_infra(flags.infra_config)
        catalog_ = load_catalog(flags.catalog)
        typer.echo(
            teardown_entry(
                entry,
                journal,
                catalog_,
                conn=flags.conn,
                replica_conn=flags.replica_conn,
                infra=infra,
            )
        )
        return
    injector = Injector(flags.target(failure), journal)
    result = injector.teardown(failure)
    if not result.clean:
        raise InjectionFailed(f"{failure.id} teardown left: {'; '.join(result.leftovers)}")
    what = "torn down" if result.was_injected else "was not recorded as injected; target checked"
    typer.echo(f"{failure.name} {what}: clean ({result.seconds:.1f}s)")


def _only_entry(journal: Journal, failure_id: str) -> JournalEntry | None:
    """The one journal entry for `failure_id`, if there is exactly one."""
    entries = [e for e in journal.entries() if e.failure_id == failure_id]
    return entries[0] if len(entries) == 1 else None


def _teardown_all(flags: TargetFlags) -> None:
    journal = Journal(faulttest_home())
    if not journal.entries():
        typer.echo("Nothing injected (the journal is empty).")
        return
    report = recover(
        journal,
        extra_catalogs=flags.catalog,
        conn=flags.conn,
        replica_conn=flags.replica_conn,
        infra=load_infra(flags.infra_config),
        say=typer.echo,
    )
    if not report.clean:
        raise InjectionFailed(
            "teardown --all left problems:\n  " + "\n  ".join(report.problems),
            hint="the journal keeps no passwords: for a server other than the lab, pass --conn"
            " (or FAULTTEST_CONN, or --infra-config) and run it again",
        )


# ── selftest ─────────────────────────────────────────────────────────────────


def selftest_cmd(
    ids: str | None = typer.Option(None, "--ids", help="Only these failure ids (comma list)."),
    categories: str | None = typer.Option(None, "--categories", help="Only these categories."),
    conn: ConnOption = None,
    replica_conn: ReplicaOption = None,
    context: ContextOption = None,
    infra_config: InfraOption = None,
    catalog: CatalogOption = [],  # noqa: B006 - typer copies option defaults
    override: OverrideOption = False,
) -> None:
    """Prove injection works: per fault inject → probe holds → teardown → clean."""
    from faulttest.inject.selftest import run_selftest

    flags = _flags(conn, replica_conn, infra_config, catalog, context, override)
    failures = select_failures(load_catalog(flags.catalog), ids, categories)
    infra = load_infra(flags.infra_config)
    kube = kube_cluster(flags.context, infra=infra)
    if kube is not None:
        check_cluster(kube, infra, override=flags.override)
    started_lab = None
    if not flags.given_target() and running_lab() is None:
        started_lab = _start_lab()
    try:
        report = run_selftest(
            flags.target(), failures, journal=Journal(faulttest_home()), echo=typer.echo, kube=kube
        )
    finally:
        if started_lab is not None:
            typer.echo("Stopping the lab started for the selftest.", err=True)
            started_lab.down()
    if not report.ok:
        raise typer.Exit(1)


def _start_lab() -> Lab:
    """A lab in FAULTTEST_HOME on the default ports (its errors are one clear line)."""
    from faulttest.lab import Lab

    lab = Lab(home=faulttest_home())
    print("No lab running: starting one for the selftest ...", file=sys.stderr)
    lab.up()
    return lab
