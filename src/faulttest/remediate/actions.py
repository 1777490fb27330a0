"""The changes an agent made, read from its trace: mutating tool calls and their outcomes."""

from __future__ import annotations

from typing import Any

from helpdesk.result import AgentResult, ToolCall

# Mutation tools of the aiHelpDesk agents; other agents' calls count when the trace
# carries a `mutation` record or the catalog allows the tool.
KNOWN_MUTATIONS = frozenset(
    {
        "cancel_query",
        "terminate_connection",
        "terminate_idle_connections",
        "run_vacuum",
        "resume_wal_replay",
        "drop_replication_slot",
        "reset_setting",
        "delete_pod",
        "restart_workload",
        "scale_workload",
    }
)


def mutating_calls(answer: AgentResult, allowed: list[str]) -> list[ToolCall]:
    return [
        c
        for c in answer.tool_calls
        if _record(c) is not None or c.tool in KNOWN_MUTATIONS or c.tool in allowed
    ]


def describe(call: ToolCall) -> str:
    """`terminate_connection(pid=4242): done`."""
    args = ", ".join(f"{k}={_plain(v)}" for k, v in call.args.items() if k != "connection_string")
    record = _record(call)
    outcome = (record or {}).get("outcome") or ("ok" if call.ok else "failed")
    return f"{call.tool}({args}): {outcome}"


def _record(call: ToolCall) -> dict[str, Any] | None:
    extra = call.model_extra or {}
    record = extra.get("mutation")
    return record if isinstance(record, dict) else None


def _plain(value: Any) -> Any:
    """Numbers that crossed A2A (protobuf Struct) come back as floats: 4242.0 -> 4242."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
