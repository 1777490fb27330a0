"""Entry point of the `helpdesk` command: builds the typer app and turns errors into one line.

Exit codes: 0 ok, 1 the agent or server failed, 2 bad usage; logs go to stderr (logfmt).
"""

from __future__ import annotations

import logging
import sys

import typer

from helpdesk.a2a.client import AgentError
from helpdesk.cli import a2a_cmds, agents_cmds, gateway_cmds, incident_cmds, orchestrator_cmds
from helpdesk.dsn import mask
from helpdesk.logfmt import configure

app = typer.Typer(
    name="helpdesk",
    help="aiHelpDesk: an AI operations help desk for PostgreSQL and Kubernetes.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (a2a_cmds, agents_cmds, incident_cmds, orchestrator_cmds, gateway_cmds):
    module.register(app)


@app.callback(invoke_without_command=True)
def _interactive(ctx: typer.Context) -> None:
    """No command: the orchestrator's interactive session (User -> / Agent ->)."""
    if ctx.invoked_subcommand is None:
        raise typer.Exit(orchestrator_cmds.repl())


def main() -> None:
    configure(logging.DEBUG if "-v" in sys.argv else logging.INFO)
    try:
        code = app(standalone_mode=False)  # a typer.Exit(n) comes back as n here
    except (AgentError, a2a_cmds.CliError) as exc:
        print(f"error: {mask(str(exc))}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 1))
    except (KeyboardInterrupt, typer.Abort):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors (typer's vendored click)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
