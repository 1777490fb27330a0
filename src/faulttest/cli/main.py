"""Entry point of the `faulttest` command: builds the typer app and maps errors to exit codes."""

from __future__ import annotations

import logging
import sys

import typer

from faulttest.cli import catalog_cmds, inject_cmds, lab, report_cmds, run_cmds
from faulttest.errors import FaulttestError
from helpdesk.dsn import mask
from helpdesk.logfmt import configure

app = typer.Typer(
    name="faulttest",
    help="Failure testing for aiHelpDesk: break a real system, ask the agent, score the answer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (catalog_cmds, lab, inject_cmds, run_cmds, report_cmds):
    module.register(app)


def _configure_logging() -> None:
    """faulttest's own progress and every warning on stderr (logfmt, masked); `-v` adds the
    agents' and libraries' info logs."""
    verbose = "-v" in sys.argv or "--verbose" in sys.argv
    configure(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("faulttest").setLevel(logging.INFO)
    if verbose:
        sys.argv = [a for a in sys.argv if a not in ("-v", "--verbose")]


def main() -> None:
    """Run the CLI; typer reports usage errors (exit 2), we report FaulttestErrors in one line."""
    _configure_logging()
    try:
        app()  # standalone mode: raises SystemExit with the command's exit code
    except FaulttestError as exc:
        print(f"error: {mask(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
