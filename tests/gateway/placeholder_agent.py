"""A stand-in for an expert agent whose tools this build does not include.

It serves the agent's usual name over A2A so discovery and routing work, and answers
honestly that it cannot investigate: no tools, no diagnosis.
"""

from __future__ import annotations

from helpdesk.agents.base import ToolRegistry
from helpdesk.result import AgentResult, ModelInfo

NOT_AVAILABLE = "this agent's tools are not available in this build"


class PlaceholderAgent:
    """Implements `helpdesk.agents.base.Agent` with no tools; every answer says so."""

    def __init__(self, name: str, capabilities: str) -> None:
        self.name = name
        self.description = f"{capabilities} — {NOT_AVAILABLE}."
        self.tools = ToolRegistry(agent=name)
        self.capabilities = capabilities

    def answer(self, message: str) -> AgentResult:
        text = (
            f"{self.name}: {NOT_AVAILABLE}, so I cannot investigate this ({self.capabilities}). "
            "Install a build that includes them, or ask another agent."
        )
        return AgentResult(
            text=text, diagnosis=None, model=ModelInfo(vendor="builtin", name="none")
        )
