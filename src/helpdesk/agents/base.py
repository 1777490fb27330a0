"""The shapes every agent shares: a tool with a JSON schema, a registry, and the Agent protocol.

The A2A service, the REST gateway and the LLM tool loop only see these, so a new
agent or tool plugs in without touching them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from helpdesk.dsn import mask
from helpdesk.result import AgentResult, ToolCall


class ToolError(Exception):
    """A tool could not do its job; the message is safe to show (passwords masked)."""


class ToolArgumentError(ToolError):
    """The arguments do not fit the tool's schema (HTTP 4xx at the edges)."""


@dataclass
class ToolOutput:
    """What a tool returns: compact text for people and LLMs, structured data for rules."""

    text: str
    data: Any = None
    ok: bool = True


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments (an "object" schema)
    func: Callable[..., ToolOutput]
    mutating: bool = False

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass
class ToolRegistry:
    agent: str
    tools: dict[str, Tool] = field(default_factory=dict)

    def add(self, tool: Tool) -> Tool:
        self.tools[tool.name] = tool
        return tool

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __contains__(self, name: str) -> bool:
        return name in self.tools

    def get(self, name: str) -> Tool:
        try:
            return self.tools[name]
        except KeyError:
            raise ToolArgumentError(
                f"unknown tool {name!r}; available: {', '.join(self.tools)}"
            ) from None

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self]

    def call(
        self, name: str, args: dict[str, Any], trace: list[ToolCall] | None = None
    ) -> ToolOutput:
        """Run one tool, validating its arguments, and append a masked record to `trace`."""
        tool = self.get(name)
        started = time.perf_counter()
        try:
            validate_args(tool, args)
            output = tool.func(**args)
        except ToolError as exc:
            output = ToolOutput(text=f"error: {mask(str(exc))}", ok=False)
            if isinstance(exc, ToolArgumentError) and trace is None:
                raise
        if trace is not None:
            trace.append(
                ToolCall(
                    agent=self.agent,
                    tool=name,
                    args=mask_args(args),
                    ok=output.ok,
                    error=None if output.ok else output.text[:500],
                    duration_ms=int((time.perf_counter() - started) * 1000),
                    **_mutation_record(tool, output),
                )
            )
        return output


def _mutation_record(tool: Tool, output: ToolOutput) -> dict[str, Any]:
    """A mutating tool's inspection, decision and verification, kept in the trace."""
    if tool.mutating and isinstance(output.data, dict) and "mutation" in output.data:
        return {"mutation": output.data["mutation"]}
    return {}


def mask_args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: mask(v) if isinstance(v, str) else v for k, v in args.items()}


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


def validate_args(tool: Tool, args: dict[str, Any]) -> None:
    """Check arguments against the tool's (flat) JSON schema; raise ToolArgumentError."""
    if not isinstance(args, dict):
        raise ToolArgumentError(f"{tool.name}: arguments must be a JSON object")
    props: dict[str, Any] = tool.parameters.get("properties", {})
    missing = [p for p in tool.parameters.get("required", []) if p not in args]
    if missing:
        raise ToolArgumentError(f"{tool.name}: missing required argument(s): {', '.join(missing)}")
    unknown = [a for a in args if a not in props]
    if unknown:
        raise ToolArgumentError(
            f"{tool.name}: unknown argument(s): {', '.join(unknown)}; expected: {', '.join(props)}"
        )
    for name, value in args.items():
        expected = props[name].get("type")
        py_type = _JSON_TYPES.get(expected) if isinstance(expected, str) else None
        bad_bool = expected in ("integer", "number") and isinstance(value, bool)
        if py_type is not None and (not isinstance(value, py_type) or bad_bool):
            raise ToolArgumentError(f"{tool.name}: argument {name!r} must be of type {expected}")
        allowed = props[name].get("enum")
        if allowed is not None and value not in allowed:
            raise ToolArgumentError(f"{tool.name}: argument {name!r} must be one of {allowed}")


class Agent(Protocol):
    """An expert agent: a name, a description, its tools, and a way to answer a message."""

    name: str
    description: str
    tools: ToolRegistry

    def answer(self, message: str) -> AgentResult:
        """Investigate the person's message and return the SPEC §6 result (blocking)."""
        ...
