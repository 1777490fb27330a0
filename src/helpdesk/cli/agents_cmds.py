"""`helpdesk agents up`: the database, k8s and incident agents in one foreground process.

Each agent is a real A2A server on its own port, built from the same factories as
`helpdesk agent NAME`. Ctrl-C or SIGTERM stops them all cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from helpdesk.cli.a2a_cmds import CliError, load_agent
from helpdesk.logfmt import fields
from helpdesk.orchestrator.discovery import DATABASE, INCIDENT, K8S

log = logging.getLogger("helpdesk.agents")


@contextmanager
def _sigterm_sets(event: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM sets `event` (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: event.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_agents(host: str, ports: dict[str, int], stop: threading.Event | None = None) -> None:
    """Serve every role in `ports` until Ctrl-C, SIGTERM or `stop` is set."""
    from helpdesk.a2a.runtime import ServedAgent, ServeError, serve_in_thread

    stop = stop or threading.Event()
    agents = [load_agent(role) for role in ports]
    served: list[ServedAgent] = []
    try:
        for agent, port in zip(agents, ports.values(), strict=True):
            served.append(serve_in_thread(agent, host=host, port=port))
        log.info(
            "agents up",
            extra=fields(agents=",".join(f"{s.name}={s.url}" for s in served)),
        )
        with _sigterm_sets(stop):
            while not stop.wait(0.5):
                pass
    except ServeError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        log.info("interrupted, stopping agents")
    finally:
        for running in reversed(served):
            running.stop()
            log.info("agent stopped", extra=fields(agent=running.name))


def register(app: typer.Typer) -> None:
    agents_app = typer.Typer(help="Run the expert agents.", no_args_is_help=True)
    app.add_typer(agents_app, name="agents")

    @agents_app.command("up")
    def agents_up(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        database_port: Annotated[int, typer.Option(help="postgres_database_agent port.")] = 1100,
        k8s_port: Annotated[int, typer.Option(help="k8s_agent port.")] = 1102,
        incident_port: Annotated[int, typer.Option(help="incident_agent port.")] = 1104,
    ) -> None:
        """Start the database, k8s and incident agents (A2A) in the foreground until Ctrl-C."""
        run_agents(host, {DATABASE: database_port, K8S: k8s_port, INCIDENT: incident_port})
