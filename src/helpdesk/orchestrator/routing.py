"""Routing: which expert agent(s) a message goes to.

`rule_route` is the built-in router (words, DSNs and infrastructure aliases); with a model
configured, `delegation_tools` gives the orchestrator's LLM one `delegate_to_<agent>` tool
per available agent and the shared ToolLoop does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.agents.base import Tool, ToolOutput, ToolRegistry
from helpdesk.infra import InfraConfig
from helpdesk.orchestrator.discovery import DATABASE, INCIDENT, K8S, AgentInfo

ORCHESTRATOR_NAME = "helpdesk_orchestrator"
DELEGATE_PREFIX = "delegate_to_"


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


# Strong words name their domain on their own; weak ones ("connections", "service") only
# count when the other domain's strong words are absent.
_DB_STRONG = _words(
    r"databases?|postgres(?:ql)?|psql|pg_\w+|sql|quer(?:y|ies)|tables?|vacuum\w*|"
    r"autovacuum|bloat\w*|replicas?|replication|standby|wal|dbname|deadlocks?|"
    r"too many clients|tablespaces?|sequences?"
)
_DB_WEAK = _words(
    r"connections?|connection[_ ]string|locks?|locked|transactions?|index(?:es)?|slow|"
    r"timeouts?|read[- ]only|disk"
)
_DSN = re.compile(r"\bhost=\S+|\bpostgres(?:ql)?://\S+", re.IGNORECASE)
_K8S_STRONG = _words(
    r"pods?|kubectl|kubernetes|k8s|namespaces?|statefulsets?|replicasets?|daemonsets?|"
    r"pvcs?|persistent ?volume ?claims?|crash ?loop\w*|imagepull\w*|image pull|oomkilled|"
    r"kube[- ]?context|helm|configmaps?"
)
_K8S_WEAK = _words(r"deployments?|services?|nodes?|containers?|endpoints?|secrets?|ingress(?:es)?")
_INCIDENT_WORDS = _words(
    r"incident[ -](?:bundles?|records?|reports?)|incidents|diagnostic bundles?"
)


@dataclass(frozen=True)
class RoutePlan:
    """The roles to ask, in order, and why (shown in logs and the answer)."""

    roles: tuple[str, ...]
    reason: str


def _mentions(message: str, alias: str) -> bool:
    return re.search(rf"(?<![\w=-]){re.escape(alias)}(?![\w-])", message) is not None


def mentioned_db_servers(message: str, infra: InfraConfig | None) -> list[str]:
    return [s.name for s in (infra.db_servers if infra else []) if _mentions(message, s.name)]


def mentioned_clusters(message: str, infra: InfraConfig | None) -> list[str]:
    return [c.name for c in (infra.k8s_clusters if infra else []) if _mentions(message, c.name)]


def rule_route(message: str, infra: InfraConfig | None = None) -> RoutePlan:
    """Built-in routing: incident words → incident agent; database and/or Kubernetes words."""
    if _INCIDENT_WORDS.search(message):
        return RoutePlan((INCIDENT,), "the message asks about incident bundles")
    servers = mentioned_db_servers(message, infra)
    in_cluster = infra is not None and any(
        (server := infra.db_server(name)) is not None and bool(server.k8s_cluster)
        for name in servers
    )
    db_strong = bool(servers or _DSN.search(message) or _DB_STRONG.search(message))
    k8s_strong = bool(
        mentioned_clusters(message, infra) or _K8S_STRONG.search(message) or in_cluster
    )
    database = db_strong or (not k8s_strong and bool(_DB_WEAK.search(message)))
    kubernetes = k8s_strong or (not db_strong and bool(_K8S_WEAK.search(message)))
    if database and kubernetes:
        return RoutePlan((DATABASE, K8S), "the problem spans the database and Kubernetes")
    if kubernetes:
        return RoutePlan((K8S,), "the message is about Kubernetes objects")
    if database:
        return RoutePlan((DATABASE,), "the message is about a database")
    return RoutePlan((DATABASE,), "no specific words; the database agent looks first")


Delegate = Callable[[AgentInfo, str], ToolOutput]


def delegate_tool_name(agent_name: str) -> str:
    safe = re.sub(r"[^a-zA-Z0-9_]", "_", agent_name)
    return f"{DELEGATE_PREFIX}{safe}"[:64]


def delegation_tools(agents: list[AgentInfo], delegate: Delegate) -> ToolRegistry:
    """One `delegate_to_<agent>` tool per agent; calling it asks that agent over A2A."""
    registry = ToolRegistry(agent=ORCHESTRATOR_NAME)
    for agent in agents:
        registry.add(
            Tool(
                name=delegate_tool_name(agent.name),
                description=(
                    f"Ask the expert agent {agent.name}: {agent.description} "
                    "Write a complete, self-contained request: the symptoms, the connection "
                    "string or server alias, the Kubernetes context and namespace if known."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "message": {
                            "type": "string",
                            "description": "The request for the expert agent.",
                        }
                    },
                    "required": ["message"],
                },
                func=lambda message, _agent=agent: delegate(_agent, message),
            )
        )
    return registry
