"""`DatabaseAgent`: the postgres_database_agent, its tools and a pluggable brain.

The brain turns a message into an AgentResult using the tools; the built-in
diagnostician is the default, and an LLM tool loop can be plugged in the same way.
"""

from __future__ import annotations

from typing import Protocol

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.database.diagnostician import BuiltinDiagnostician
from helpdesk.agents.database.registry import AGENT_NAME, build_registry
from helpdesk.result import AgentResult

DESCRIPTION = (
    "PostgreSQL expert: diagnoses connection failures, exhausted or limited connections, "
    "locks and deadlocks, stuck transactions, long queries, bloat, cache and index problems, "
    "replication lag, WAL retention, disk, read-only and timeout settings, and sequences."
)


class Brain(Protocol):
    """Whatever reasons over the tools: the built-in diagnostician or an LLM loop."""

    def run(self, message: str, registry: ToolRegistry) -> AgentResult: ...


class DatabaseAgent:
    """The database expert agent (implements `helpdesk.agents.base.Agent`)."""

    name = AGENT_NAME
    description = DESCRIPTION

    def __init__(self, brain: Brain | None = None, tools: ToolRegistry | None = None) -> None:
        self.tools = tools or build_registry()
        self.brain: Brain = brain or BuiltinDiagnostician()

    def answer(self, message: str) -> AgentResult:
        return self.brain.run(message, self.tools)
