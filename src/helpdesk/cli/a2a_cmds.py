"""`helpdesk agent NAME` (serve an expert agent over A2A) and `helpdesk ask` (ask one)."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Annotated

import typer

from helpdesk.a2a.client import DEFAULT_TIMEOUT, ask_sync
from helpdesk.agents.base import Agent
from helpdesk.dsn import mask
from helpdesk.infra import InfraConfigError
from helpdesk.llm.config import LLMConfigError
from helpdesk.result import AgentResult

# Agent name on the command line -> (module, factory, default port). A factory reads the
# model configuration (SPEC §10) and gives the agent the built-in or an LLM brain.
AGENTS: dict[str, tuple[str, str, int]] = {
    "database": ("helpdesk.agents.database.factory", "create_agent", 1100),
    "k8s": ("helpdesk.agents.k8s.factory", "create_agent", 1102),
    "incident": ("helpdesk.agents.incident.agent", "IncidentAgent", 1104),
}


class CliError(Exception):
    """A user-facing CLI failure: one line on stderr and an exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_agent(name: str) -> Agent:
    """Instantiate the expert agent called `name` (e.g. `database`)."""
    if name not in AGENTS:
        raise CliError(f"unknown agent {name!r}; available: {', '.join(AGENTS)}", exit_code=2)
    module_name, factory_name, _ = AGENTS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CliError(f"agent {name!r} is not available in this installation ({exc})") from None
    try:
        agent: Agent = getattr(module, factory_name)()
    except (LLMConfigError, InfraConfigError) as exc:
        raise CliError(f"configuration: {exc}", exit_code=2) from None
    return agent


def _add_serve_command(agent_app: typer.Typer, name: str, default_port: int) -> None:
    """`helpdesk agent NAME [--host] [--port]`: one command per entry of AGENTS."""

    def serve_agent(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = default_port,
    ) -> None:
        from helpdesk.a2a.runtime import ServeError, serve

        agent = load_agent(name)
        try:
            serve(agent, host=host, port=port)
        except ServeError as exc:
            raise CliError(str(exc)) from None

    agent_app.command(
        name,
        help=f"Serve the {name} agent (A2A 1.0 and 0.3, /tool/NAME, /schemas) until Ctrl-C.",
    )(serve_agent)


def register(app: typer.Typer) -> None:
    agent_app = typer.Typer(help="Serve an expert agent over A2A.", no_args_is_help=True)
    app.add_typer(agent_app, name="agent")

    for agent_name, (_, _, default_port) in AGENTS.items():
        _add_serve_command(agent_app, agent_name, default_port)

    @app.command("ask")
    def ask_cmd(
        message: Annotated[str, typer.Argument(help="The problem report; '-' reads stdin.")],
        agent: Annotated[
            str | None,
            typer.Option(
                "--agent", help="Base URL of one A2A agent; omit to ask the orchestrator."
            ),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the full agent result as JSON.")
        ] = False,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = (
            DEFAULT_TIMEOUT
        ),
    ) -> None:
        """Send one message to an A2A agent (or, without --agent, the orchestrator)."""
        if agent is None:
            from helpdesk.cli.orchestrator_cmds import ask_via_orchestrator

            ask_via_orchestrator(message, as_json=as_json, timeout=timeout)
            return
        text = sys.stdin.read() if message == "-" else message
        if not text.strip():
            raise CliError("the message is empty", exit_code=2)
        result = ask_sync(agent, text, timeout=timeout)
        if as_json:
            typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        else:
            typer.echo(render(result))


def render(result: AgentResult) -> str:
    """The answer for a person: the text, then the diagnosis line and the tools used."""
    footer: list[str] = []
    if result.diagnosis is not None:
        d = result.diagnosis
        line = f"Diagnosis: {d.category} (confidence {d.confidence:.2f})"
        if line not in result.text:  # the built-in answer already starts with it
            footer.append(line)
    if result.tool_calls:
        used = ", ".join(dict.fromkeys(c.tool for c in result.tool_calls))
        footer.append(f"Tools used ({len(result.tool_calls)} calls): {used}")
    text = mask(result.text.rstrip())
    return "\n\n".join([text, "\n".join(footer)]) if footer else text
