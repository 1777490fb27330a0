"""Entry point of the `faulttest` command: builds the typer app and maps errors to exit codes."""

from __future__ import annotations

import logging
import sys

import typer

from faulttest.cli import catalog_cmds, inject_cmds, lab, report_cmds, run_cmds
from faulttest.errors import FaulttestError
from helpdesk.dsn import mask

app = typer.Typer(
    name="faulttest",
    help="Failure testing for aiHelpDesk: break a real system, ask the agent, score the answer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (catalog_cmds, lab, inject_cmds, run_cmds, report_cmds):
    module.register(app)


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_MaskingFormatter("%(asctime)s level=%(levelname)s msg=%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if "-v" not in sys.argv else logging.DEBUG)


def main() -> None:
    _configure_logging()
    try:
        code = app(standalone_mode=False)  # a typer.Exit(n) comes back as n here
    except FaulttestError as exc:
        print(f"error: {mask(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
