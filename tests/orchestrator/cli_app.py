"""A `helpdesk`-like command for the CLI tests: the orchestrator, gateway and agents command
modules registered on a fresh typer app, wired the way `helpdesk.cli.main` wires them.

Run as `python -m tests.orchestrator.cli_app ARGS`; no arguments starts the REPL.
"""

from __future__ import annotations

import sys

import typer

from helpdesk.cli import agents_cmds, gateway_cmds, orchestrator_cmds
from helpdesk.cli.a2a_cmds import CliError
from helpdesk.logfmt import configure

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
for module in (agents_cmds, gateway_cmds, orchestrator_cmds):
    module.register(app)


@app.command("ask")
def ask(message: str, as_json: bool = typer.Option(False, "--json")) -> None:
    orchestrator_cmds.ask_via_orchestrator(message, as_json)


def main() -> None:
    configure()
    try:
        if len(sys.argv) == 1:
            sys.exit(orchestrator_cmds.repl())
        app(standalone_mode=False)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
