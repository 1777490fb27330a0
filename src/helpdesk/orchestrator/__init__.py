"""The orchestrator (`helpdesk_orchestrator`): discovers the expert agents, routes a problem
report to them over A2A and synthesises one answer with one SPEC §6 result.
"""

from helpdesk.orchestrator.agent import Orchestrator, build_orchestrator
from helpdesk.orchestrator.discovery import (
    DEFAULT_AGENT_URLS,
    ROLES,
    AgentInfo,
    Roster,
    Unavailable,
    agent_urls,
    discover,
)
from helpdesk.orchestrator.routing import ORCHESTRATOR_NAME, RoutePlan, rule_route
from helpdesk.orchestrator.synthesis import Delegation, merge_diagnoses, synthesize

__all__ = [
    "DEFAULT_AGENT_URLS",
    "ORCHESTRATOR_NAME",
    "ROLES",
    "AgentInfo",
    "Delegation",
    "Orchestrator",
    "RoutePlan",
    "Roster",
    "Unavailable",
    "agent_urls",
    "build_orchestrator",
    "discover",
    "merge_diagnoses",
    "rule_route",
    "synthesize",
]
