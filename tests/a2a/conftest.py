"""Small but real agents for the A2A tests: real tools, real ToolRegistry, real AgentResult."""

from __future__ import annotations

import time

import pytest

from helpdesk.agents.base import Tool, ToolError, ToolOutput, ToolRegistry
from helpdesk.result import AgentResult, Diagnosis

SECRET = "s3cr3t-Pa55"


def _add(a: int, b: int) -> ToolOutput:
    return ToolOutput(text=f"{a} + {b} = {a + b}", data={"sum": a + b})


def _echo(text: str) -> ToolOutput:
    return ToolOutput(text=text, data={"length": len(text)})


def _describe_target(connection_string: str) -> ToolOutput:
    if "host=" not in connection_string:
        raise ToolError(f"cannot parse {connection_string}")
    return ToolOutput(text=f"target: {connection_string}", data={"dsn": connection_string})


class ArithAgent:
    """Adds the numbers it finds in the message with its `add` tool; says `healthy`."""

    name = "arith_agent"
    description = "Adds numbers; a tiny real agent for protocol tests."

    def __init__(self) -> None:
        self.tools = ToolRegistry(self.name)
        self.tools.add(
            Tool(
                "add",
                "Add two integers.",
                {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                },
                _add,
            )
        )
        self.tools.add(
            Tool(
                "echo",
                "Echo a text.",
                {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
                _echo,
            )
        )
        self.tools.add(
            Tool(
                "describe_target",
                "Describe a connection string.",
                {
                    "type": "object",
                    "properties": {"connection_string": {"type": "string"}},
                    "required": ["connection_string"],
                },
                _describe_target,
            )
        )

    def answer(self, message: str) -> AgentResult:
        trace: list = []
        numbers = [int(w) for w in message.replace(",", " ").split() if w.lstrip("-").isdigit()]
        a, b = (numbers + [0, 0])[:2]
        total = self.tools.call("add", {"a": a, "b": b}, trace).data["sum"]
        dsn = next((w for w in message.split("`") if "host=" in w), None)
        lines = [f"The sum is {total}."]
        if dsn:
            lines.append(self.tools.call("describe_target", {"connection_string": dsn}, trace).text)
        return AgentResult(
            text="\n".join(lines),
            diagnosis=Diagnosis(
                category="healthy", summary=f"sum {total}", confidence=1.0, evidence=lines
            ),
            tool_calls=trace,
        )


class BrokenAgent(ArithAgent):
    """An agent whose reasoning crashes (with a password in the exception text)."""

    name = "broken_agent"

    def answer(self, message: str) -> AgentResult:
        raise RuntimeError(f"cannot connect to host=db password={SECRET}")


class SlowAgent(ArithAgent):
    """An agent that thinks for a while (for timeouts)."""

    name = "slow_agent"

    def answer(self, message: str) -> AgentResult:
        time.sleep(1.5)
        return super().answer(message)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def arith_agent() -> ArithAgent:
    return ArithAgent()
