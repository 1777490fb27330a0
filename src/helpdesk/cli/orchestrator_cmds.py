"""The orchestrator at the command line: the bare `helpdesk` REPL, `helpdesk ask` without
`--agent`, and `helpdesk orchestrator` (the orchestrator served over A2A, port 1106).

Bad settings become one `CliError` line; unreachable agents are only logged.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TextIO

import typer

from helpdesk.a2a.client import DEFAULT_TIMEOUT
from helpdesk.cli.a2a_cmds import CliError, render
from helpdesk.infra import InfraConfigError
from helpdesk.llm import LLMConfigError
from helpdesk.orchestrator import Orchestrator, build_orchestrator

USER_PROMPT = "User -> "
AGENT_PROMPT = "Agent -> "
HISTORY_VAR = "HELPDESK_HISTORY_FILE"
DEFAULT_PORT = 1106


def make_orchestrator(timeout: float = DEFAULT_TIMEOUT) -> Orchestrator:
    """The orchestrator from the environment; bad model/infra settings exit with code 2."""
    try:
        return build_orchestrator(timeout=timeout)
    except (LLMConfigError, InfraConfigError) as exc:
        raise CliError(str(exc), exit_code=2) from None


def ask_via_orchestrator(
    message: str, as_json: bool = False, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """`helpdesk ask "..." [--json]` without --agent: the orchestrator routes the question."""
    text = sys.stdin.read() if message == "-" else message
    if not text.strip():
        raise CliError("the message is empty", exit_code=2)
    result = make_orchestrator(timeout).answer(text)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        typer.echo(render(result))


def _history_file() -> Path:
    return Path(os.environ.get(HISTORY_VAR) or Path.home() / ".helpdesk_history")


def _enable_history() -> Callable[[], None]:
    """Line editing and a persistent history on a terminal; returns the save function."""
    if not sys.stdin.isatty():
        return lambda: None
    try:
        import readline
    except ImportError:  # not every platform ships readline
        return lambda: None
    path = _history_file()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def repl(
    orchestrator: Orchestrator | None = None,
    read: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> int:
    """The interactive `User -> ` / `Agent -> ` loop; Ctrl-D (or `exit`) ends it with 0."""
    out = out or sys.stdout
    orchestrator = orchestrator or make_orchestrator()
    save_history = _enable_history()
    try:
        while True:
            try:
                line = read(USER_PROMPT)
            except EOFError:
                out.write("\n")
                return 0
            except KeyboardInterrupt:  # Ctrl-C at the prompt drops the line, like a shell
                out.write("\n")
                continue
            if line.strip() in ("exit", "quit"):
                return 0
            if line.strip():
                out.write(f"{AGENT_PROMPT}{_answer(orchestrator, line)}\n\n")
                out.flush()
    finally:
        save_history()


def _answer(orchestrator: Orchestrator, line: str) -> str:
    try:
        return render(orchestrator.answer(line))
    except KeyboardInterrupt:
        return "(interrupted)"


def register(app: typer.Typer) -> None:
    @app.command("orchestrator")
    def orchestrator_cmd(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for each expert.")] = (
            DEFAULT_TIMEOUT
        ),
    ) -> None:
        """Serve helpdesk_orchestrator over A2A (agents from HELPDESK_AGENT_URLS) until Ctrl-C."""
        from helpdesk.a2a.runtime import ServeError, serve

        orchestrator = make_orchestrator(timeout)
        try:
            serve(orchestrator, host=host, port=port)
        except ServeError as exc:
            raise CliError(str(exc)) from None
