"""Which A2A agent answers which fault: URLs given by the user, or agents served in-process.

Database (and host) faults go to the database agent, Kubernetes faults to the k8s agent,
compound faults to the orchestrator (SPEC §2). Without a URL, the agent of this
distribution is started as a real A2A server on a free loopback port the first time a
fault needs it, and stopped when the run ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from faulttest.catalog.models import FailureMode, FaultCategory
from faulttest.errors import UsageError
from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.base import Agent

log = logging.getLogger(__name__)

DATABASE, KUBERNETES, ORCHESTRATOR = "database", "kubernetes", "orchestrator"
ROLE_OF = {
    FaultCategory.DATABASE: DATABASE,
    FaultCategory.HOST: DATABASE,
    FaultCategory.KUBERNETES: KUBERNETES,
    FaultCategory.COMPOUND: ORCHESTRATOR,
}
FLAG_OF = {DATABASE: "--db-agent", KUBERNETES: "--k8s-agent", ORCHESTRATOR: "--orchestrator"}


@dataclass
class AgentUrls:
    database: str | None = None
    kubernetes: str | None = None
    orchestrator: str | None = None


class AgentStartError(UsageError):
    """An in-process agent could not be built (bad model or infrastructure settings)."""


@dataclass
class AgentSet:
    """The agents of one run; a context manager that stops what it started.

    `in_process=False` means: only the URLs given, no agent of our own (a fault whose
    agent is missing is then skipped with the flag to pass).
    """

    urls: AgentUrls = field(default_factory=AgentUrls)
    in_process: bool = True
    _served: dict[str, ServedAgent] = field(default_factory=dict)

    def __enter__(self) -> AgentSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for role in list(self._served):
            served = self._served.pop(role)
            with contextlib.suppress(Exception):
                served.stop()

    # ── routing ──
    def url_for(self, failure: FailureMode) -> str | None:
        """The URL of the agent that answers `failure`, starting ours if needed."""
        return self._url(ROLE_OF[failure.category])

    def missing_reason(self, failure: FailureMode) -> str | None:
        """Why no agent can answer this fault (it is then skipped), or None."""
        role = ROLE_OF[failure.category]
        if getattr(self.urls, role) or self.in_process:
            return None
        return f"no agent for {failure.category.value} faults (pass {FLAG_OF[role]} URL)"

    def _url(self, role: str) -> str | None:
        given = getattr(self.urls, role)
        if given:
            return given
        if not self.in_process:
            return None
        if role not in self._served:
            self._served[role] = self._serve(role)
        return self._served[role].url

    # ── in-process agents ──
    def _serve(self, role: str) -> ServedAgent:
        builders: dict[str, Callable[[], Agent]] = {
            DATABASE: _database_agent,
            KUBERNETES: _k8s_agent,
            ORCHESTRATOR: self._orchestrator,
        }
        agent = _built(builders[role])
        served = serve_in_thread(agent)
        log.info("serving %s in-process at %s", served.name, served.url)
        return served

    def _orchestrator(self) -> Agent:
        from helpdesk.orchestrator import build_orchestrator

        experts = [u for u in (self._url(DATABASE), self._url(KUBERNETES)) if u]
        return build_orchestrator(urls=experts)

    def describe(self) -> str:
        """`database=URL, ...` for every agent given or started so far."""
        urls = {role: getattr(self.urls, role) for role in (DATABASE, KUBERNETES, ORCHESTRATOR)}
        urls.update({role: served.url for role, served in self._served.items()})
        parts = [f"{role}={url}" for role, url in urls.items() if url]
        return ", ".join(parts) or "none started"


def _database_agent() -> Agent:
    from helpdesk.agents.database.factory import create_agent

    return create_agent()


def _k8s_agent() -> Agent:
    from helpdesk.agents.k8s.agent import K8sAgent

    return K8sAgent.from_env()


def _built(build: Callable[[], Agent]) -> Agent:
    from helpdesk.infra import InfraConfigError
    from helpdesk.llm.config import LLMConfigError

    try:
        return build()
    except (LLMConfigError, InfraConfigError) as exc:
        raise AgentStartError(f"cannot start the in-process agent: {exc}") from None
