"""`helpdesk incident create|list`: incident bundles from the command line, without an agent.

`helpdesk agent incident` (in a2a_cmds) serves the same tools over A2A; these commands
call the library directly, for scripts and for a person at a shell during an incident.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from helpdesk.agents.incident.layer import human_size
from helpdesk.cli.a2a_cmds import CliError

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Incident directory (default: $HELPDESK_INCIDENT_DIR)."),
]


def register(app: typer.Typer) -> None:
    incident_app = typer.Typer(help="Create and list incident bundles.", no_args_is_help=True)
    app.add_typer(incident_app, name="incident")

    @incident_app.command("create")
    def create(
        conn: Annotated[
            str | None, typer.Option("--conn", help="PostgreSQL DSN or infrastructure alias.")
        ] = None,
        context: Annotated[str | None, typer.Option("--context", help="Kube context.")] = None,
        namespace: Annotated[
            str | None, typer.Option("--namespace", "-n", help="Kubernetes namespace.")
        ] = None,
        description: Annotated[str, typer.Option(help="What happened.")] = "",
        callback_url: Annotated[
            str | None, typer.Option("--callback-url", help="POST the result JSON here.")
        ] = None,
        directory: DirOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Collect a bundle: database, kubernetes, os and storage layers; passwords masked."""
        from helpdesk.agents.incident.archive import BundleLeak
        from helpdesk.agents.incident.bundle import create_incident_bundle

        try:
            result = create_incident_bundle(
                conn, context, namespace, description, callback_url, directory=directory
            )
        except (OSError, BundleLeak) as exc:
            raise CliError(f"the incident bundle could not be written: {exc}") from None
        typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary())

    @incident_app.command("list")
    def list_cmd(
        directory: DirOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    ) -> None:
        """List the bundles in the incident directory, newest first."""
        from helpdesk.agents.incident.bundle import incident_dir, list_incidents

        found = list_incidents(directory)
        if as_json:
            typer.echo(json.dumps([s.to_dict() for s in found], indent=2))
            return
        if not found:
            typer.echo(f"no incident bundles in {incident_dir(directory)}")
            return
        typer.echo(f"{'ID':<14}{'TIME':<22}{'SIZE':>10}  {'LAYERS':<30}DESCRIPTION")
        for s in found:
            layers = "UNREADABLE" if s.unreadable else ",".join(s.layers)
            typer.echo(
                f"{s.id:<14}{s.time:<22}{human_size(s.size):>10}  {layers:<30}"
                f"{s.description.splitlines()[0][:60] if s.description else ''}"
            )
        typer.echo(f"Total: {len(found)} bundles in {incident_dir(directory)}")
