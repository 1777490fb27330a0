"""The agent as others use it: name, tools, the brain seam, and resilience to a broken tool."""

from __future__ import annotations

import pytest

from helpdesk.agents.base import Tool, ToolRegistry
from helpdesk.agents.database import AGENT_NAME, DatabaseAgent, build_registry
from helpdesk.result import AgentResult


class EchoBrain:
    """A stand-in brain: proves any brain with run(message, registry) plugs in."""

    def run(self, message: str, registry: ToolRegistry) -> AgentResult:
        return AgentResult(text=f"{len(list(registry))} tools for: {message}")


def test_identity_and_brain_seam():
    agent = DatabaseAgent(brain=EchoBrain())
    assert agent.name == AGENT_NAME == "postgres_database_agent"
    assert "check_connection" in agent.tools
    assert agent.answer("hi").text.endswith("tools for: hi")


@pytest.mark.lab
def test_a_tool_that_crashes_costs_one_observation(lab):
    registry = build_registry()

    def broken(connection_string: str, **_: object):
        raise RuntimeError("boom")

    original = registry.get("get_sequence_usage")
    registry.add(Tool(original.name, original.description, original.parameters, broken))
    result = DatabaseAgent(tools=registry).answer(f"Check {lab.info.dsn}")
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    failed = [c for c in result.tool_calls if not c.ok]
    assert [c.tool for c in failed] == ["get_sequence_usage"]
    assert "testpass" not in result.model_dump_json()
