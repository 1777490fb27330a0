"""Entry point of the `helpdesk` command."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="helpdesk",
    help="aiHelpDesk: an AI operations help desk for PostgreSQL and Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
