"""Agent discovery: fetch the card of every agent in HELPDESK_AGENT_URLS, never fatally.

An agent that does not answer is listed as unavailable, with the capabilities the person
loses, so the orchestrator starts with whatever is up and says what is missing.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from helpdesk.a2a.client import AgentError, fetch_card_sync
from helpdesk.logfmt import fields

log = logging.getLogger("helpdesk.orchestrator")

URLS_VAR = "HELPDESK_AGENT_URLS"
DEFAULT_AGENT_URLS = ("http://localhost:1100", "http://localhost:1102", "http://localhost:1104")

DATABASE, K8S, INCIDENT = "database", "k8s", "incident"


@dataclass(frozen=True)
class Role:
    """What kind of expert an agent is: the name it usually has and what it can do."""

    key: str
    agent_name: str
    default_port: int
    capabilities: str


ROLES: dict[str, Role] = {
    DATABASE: Role(
        DATABASE,
        "postgres_database_agent",
        1100,
        "PostgreSQL diagnosis and safe fixes (connections, locks, bloat, replication, ...)",
    ),
    K8S: Role(
        K8S, "k8s_agent", 1102, "Kubernetes diagnosis (pods, services, endpoints, events, PVCs)"
    ),
    INCIDENT: Role(
        INCIDENT, "incident_agent", 1104, "incident bundles (tar.gz of diagnostics) and their list"
    ),
}


def role_of(agent_name: str) -> str | None:
    """The role key of an agent, by its well-known name or by words in it."""
    lowered = agent_name.lower()
    for role in ROLES.values():
        if lowered == role.agent_name:
            return role.key
    if "postgres" in lowered or "database" in lowered:
        return DATABASE
    if "k8s" in lowered or "kube" in lowered:
        return K8S
    if "incident" in lowered:
        return INCIDENT
    return None


def _role_by_port(url: str) -> str | None:
    port = urlsplit(url).port
    return next((r.key for r in ROLES.values() if r.default_port == port), None)


@dataclass
class AgentInfo:
    """A discovered agent: its card's name, description and skills, and where it answers."""

    name: str
    url: str
    description: str = ""
    skills: list[str] = field(default_factory=list)

    @property
    def role(self) -> str | None:
        return role_of(self.name)


@dataclass
class Unavailable:
    """An agent URL that did not answer with a card, and what is lost without it."""

    url: str
    reason: str
    role: str | None

    @property
    def expected_name(self) -> str:
        return ROLES[self.role].agent_name if self.role else f"agent at {self.url}"

    @property
    def capabilities(self) -> str:
        return ROLES[self.role].capabilities if self.role else "unknown capabilities"


CardFetcher = Callable[[str], Any]


@dataclass
class Roster:
    """The agents the orchestrator can delegate to, and the ones it could not reach."""

    available: list[AgentInfo] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    fetch: CardFetcher = field(default=fetch_card_sync, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def by_role(self, role: str) -> AgentInfo | None:
        return next((a for a in self.available if a.role == role), None)

    def by_name(self, name: str) -> AgentInfo | None:
        return next((a for a in self.available if a.name == name), None)

    def missing(self, role: str) -> Unavailable | None:
        return next((u for u in self.unavailable if u.role == role), None)

    def retry(self, role: str | None = None) -> AgentInfo | None:
        """Probe the unavailable URLs again (those that may hold a `role` agent, or all).

        Returns the available agent of `role` afterwards, if any.
        """
        with self._lock:  # the gateway answers requests in parallel threads
            if role is not None and (present := self.by_role(role)) is not None:
                return present
            for gone in [u for u in self.unavailable if role is None or u.role in (role, None)]:
                found = _probe(gone.url, self.fetch)
                if isinstance(found, AgentInfo):
                    self.unavailable.remove(gone)
                    self.available.append(found)
                    log.info("discovered agent", extra=fields(name=found.name, url=found.url))
            return self.by_role(role) if role is not None else None

    def describe_missing(self) -> list[str]:
        return [
            f"{u.expected_name} ({u.url}) is unavailable: no {u.capabilities}"
            if u.role
            else f"the agent at {u.url} is unavailable: its capabilities are unknown"
            for u in self.unavailable
        ]


def agent_urls(env: Mapping[str, str] | None = None) -> list[str]:
    """The agent URLs from HELPDESK_AGENT_URLS (comma list), or the three local defaults."""
    env = os.environ if env is None else env
    raw = env.get(URLS_VAR, "")
    urls = [u.strip().rstrip("/") for u in raw.split(",") if u.strip()]
    return urls or list(DEFAULT_AGENT_URLS)


def _probe(url: str, fetch: CardFetcher) -> AgentInfo | Unavailable:
    try:
        card = fetch(url)
    except AgentError as exc:
        return Unavailable(url=url, reason=str(exc), role=_role_by_port(url))
    except Exception as exc:  # a broken card must not stop the orchestrator
        reason = f"unreadable agent card at {url}: {type(exc).__name__}: {exc}"
        return Unavailable(url=url, reason=reason, role=_role_by_port(url))
    return AgentInfo(
        name=card.name,
        url=url,
        description=card.description,
        skills=[s.id for s in card.skills],
    )


def discover(urls: list[str], fetch: CardFetcher = fetch_card_sync) -> Roster:
    """Fetch every agent card (in parallel) and log each outcome in aiHelpDesk's style."""
    for url in urls:
        log.info("discovering agent", extra=fields(url=url))
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(urls)))) as pool:
        outcomes = list(pool.map(lambda u: _probe(u, fetch), urls))
    roster = Roster(fetch=fetch)
    for outcome in outcomes:
        if isinstance(outcome, AgentInfo):
            roster.available.append(outcome)
            log.info("discovered agent", extra=fields(name=outcome.name, url=outcome.url))
        else:
            roster.unavailable.append(outcome)
            log.warning(
                "agent unavailable",
                extra=fields(
                    url=outcome.url,
                    agent=outcome.expected_name,
                    lost=outcome.capabilities,
                    error=outcome.reason,
                ),
            )
    expected = [a.name for a in roster.available] + [u.expected_name for u in roster.unavailable]
    log.info("expected expert agents", extra=fields(agents=",".join(expected)))
    return roster
