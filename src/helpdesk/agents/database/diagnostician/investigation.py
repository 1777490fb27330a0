"""The investigation: which tools run, in which order, against which server.

Connectivity first (a failure there is the diagnosis), then the tools the symptoms
point at, then the rest of a broad health sweep, then a drill-down into the session
that matters most. Every call goes through the registry so it lands in the trace.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from helpdesk import dsn as dsnlib
from helpdesk.agents.base import ToolError, ToolOutput, ToolRegistry, mask_args
from helpdesk.agents.database import connect
from helpdesk.agents.database.diagnostician.findings import DEADLOCK_WINDOW_MIN, LONG_QUERY_S
from helpdesk.agents.database.diagnostician.request import Request
from helpdesk.result import ToolCall

log = logging.getLogger(__name__)

# Tools each hinted category makes us run first.
FOCUS: dict[str, tuple[str, ...]] = {
    "connection_exhaustion": (
        "get_connection_stats",
        "get_active_connections",
        "get_config_parameter",
    ),
    "role_connection_limit": ("get_connection_stats", "get_role_info"),
    "lock_blocking": ("get_blocking_queries", "get_lock_info", "get_active_connections"),
    "idle_in_transaction": ("get_active_connections", "get_blocking_queries"),
    "long_running_query": ("get_active_connections", "get_blocking_queries"),
    "deadlock": ("get_lock_info", "get_blocking_queries", "get_database_stats", "read_server_log"),
    "table_bloat": ("get_table_stats", "get_vacuum_status", "get_disk_usage"),
    "disk_pressure": ("get_disk_usage", "read_server_log", "get_replication_status"),
    "wal_accumulation": ("get_replication_status", "get_disk_usage"),
    "replication_lag": ("get_replication_status", "get_database_info"),
    "read_only": ("get_read_only_status", "read_server_log"),
    "statement_timeout": ("get_timeout_settings", "read_server_log", "get_role_info"),
    "sequence_exhaustion": ("get_sequence_usage", "read_server_log"),
    "cache_performance": (
        "get_database_stats",
        "get_table_stats",
        "get_config_parameter",
        "get_slow_queries",
    ),
    "missing_index": ("get_index_usage", "get_slow_queries", "get_table_stats"),
}

SWEEP: tuple[str, ...] = (
    "get_connection_stats",
    "get_active_connections",
    "get_blocking_queries",
    "get_lock_info",
    "get_wait_events",
    "get_database_stats",
    "get_table_stats",
    "get_vacuum_status",
    "get_index_usage",
    "get_slow_queries",
    "get_replication_status",
    "get_read_only_status",
    "get_timeout_settings",
    "get_role_info",
    "get_sequence_usage",
    "get_disk_usage",
    "get_database_info",
    "read_server_log",
    "get_config_parameter",
)

_ARGS: dict[str, dict[str, Any]] = {
    "read_server_log": {"minutes": DEADLOCK_WINDOW_MIN, "max_lines": 30},
    "get_slow_queries": {"limit": 15},
    "get_table_stats": {"limit": 10},
}


@dataclass
class Node:
    """What the tools returned for one server."""

    target: str
    outputs: dict[str, ToolOutput] = field(default_factory=dict)

    def data(self, tool: str) -> Any:
        """The structured output of `tool`, or None when it was not run or failed."""
        out = self.outputs.get(tool)
        if out is None or not out.ok or (out.data or {}).get("ok") is False:
            return None
        return out.data

    @property
    def failure(self) -> dict[str, Any] | None:
        out = self.outputs.get("check_connection")
        if out is None or (out.ok and (out.data or {}).get("ok", True)):
            return None
        return (out.data or {}).get("error") or {
            "kind": "error",
            "category": "connection_refused",
            "message": out.text,
            "explanation": out.text,
        }

    @property
    def in_recovery(self) -> bool:
        info = self.data("check_connection")
        return bool(info and info.get("in_recovery"))


@dataclass
class Observations:
    primary: Node | None = None
    replica: Node | None = None
    trace: list[ToolCall] = field(default_factory=list)


class Investigation:
    """Runs the tools for one request and collects their outputs."""

    def __init__(self, registry: ToolRegistry) -> None:
        self.registry = registry

    def run(self, request: Request) -> Observations:
        obs = Observations()
        obs.primary, obs.replica = self._assign_roles(request, obs)
        primary, standby = obs.primary, obs.replica
        if primary is not None and primary.failure is None:
            self._sweep(primary, request, obs)
            self._watch_young_statements(primary, obs)
            self._drill_down(primary, obs)
        elif primary is not None and (primary.failure or {}).get("kind") == "database_missing":
            self._list_databases(primary, obs)
        if standby is not None and standby.failure is None:
            self._call(standby, "get_replication_status", obs)
            self._call(standby, "get_read_only_status", obs)
        return obs

    def _assign_roles(self, request: Request, obs: Observations) -> tuple[Node | None, Node | None]:
        """Connect to every target; the servers themselves say which is the primary.

        The message's labels only order the candidates: the first reachable server that is
        not in recovery is the primary, the first one in recovery the replica.
        """
        labelled = [t for t in (request.primary, *request.others, request.replica) if t]
        nodes = [self._connect(t, obs) for t in dict.fromkeys(labelled)]
        up = [n for n in nodes if n.failure is None]
        primary = next((n for n in up if not n.in_recovery), None)
        standby = next((n for n in up if n.in_recovery and n is not primary), None)
        if request.replica and standby is None:
            standby = next(
                (n for n in nodes if n.target == request.replica and n is not primary), None
            )
        if primary is None:
            down = [n for n in nodes if n.failure is not None and n is not standby]
            primary = down[0] if down else (standby if standby and not request.replica else None)
            if primary is standby:
                standby = None
        return primary, standby

    def _call(self, node: Node, tool: str, obs: Observations, **extra: Any) -> ToolOutput:
        args = {"connection_string": node.target, **_ARGS.get(tool, {}), **extra}
        try:
            out = self.registry.call(tool, args, obs.trace)
        except Exception as exc:  # a tool bug must cost one observation, not the diagnosis
            log.warning("tool %s raised %s", tool, type(exc).__name__, exc_info=True)
            message = f"internal error in {tool}: {type(exc).__name__}: {dsnlib.mask(str(exc))}"
            out = ToolOutput(text=message, ok=False)
            obs.trace.append(
                ToolCall(
                    agent=self.registry.agent,
                    tool=tool,
                    args=mask_args(args),
                    ok=False,
                    error=message[:500],
                )
            )
        node.outputs[tool if not extra else f"{tool}:{next(iter(extra.values()))}"] = out
        return out

    def _connect(self, target: str, obs: Observations) -> Node:
        node = Node(target)
        self._call(node, "check_connection", obs)
        return node

    def _sweep(self, node: Node, request: Request, obs: Observations) -> None:
        focused = [tool for category in sorted(request.hints) for tool in FOCUS.get(category, ())]
        for tool in dict.fromkeys([*focused, *SWEEP]):
            self._call(node, tool, obs)

    def _list_databases(self, node: Node, obs: Observations) -> None:
        """The named database is missing: list the ones that exist, via the maintenance database."""
        try:
            maintenance = dsnlib.replace(connect.resolve(node.target), dbname="postgres")
        except (dsnlib.InvalidDSN, ToolError):
            return
        out = self.registry.call("get_database_info", {"connection_string": maintenance}, obs.trace)
        node.outputs["get_database_info"] = out

    def _watch_young_statements(self, node: Node, obs: Observations) -> None:
        """Statements that started just before we looked: watch them for a moment.

        A diagnosis is a snapshot; a statement that started 0.2 s ago may be the one that
        runs for an hour. Sample the sessions again once the youngest active statement has
        run LONG_QUERY_S (waiting at most that long).
        """
        active = node.data("get_active_connections")
        if not active:
            return
        young = [
            s["query_age_s"]
            for s in active["sessions"]
            if s["state"] == "active"
            and not s["blocked_by"]
            and s["query_age_s"] is not None
            and s["query_age_s"] < LONG_QUERY_S
        ]
        if young:
            time.sleep(LONG_QUERY_S - min(young) + 0.05)
            self._call(node, "get_active_connections", obs)

    def _drill_down(self, node: Node, obs: Observations) -> None:
        """Look closer at the session that matters most: a root blocker, else the oldest one."""
        pid = _session_of_interest(node)
        if pid is not None:
            out = self._call(node, "get_session_info", obs, pid=pid)
            node.outputs["get_session_info"] = out


def _session_of_interest(node: Node) -> int | None:
    blocking = node.data("get_blocking_queries")
    if blocking and blocking["roots"]:
        return blocking["roots"][0]["pid"]
    active = node.data("get_active_connections")
    if not active:
        return None
    open_sessions = [
        s for s in active["sessions"] if s["state"] != "idle" and s["xact_age_s"] is not None
    ]
    open_sessions.sort(key=lambda s: -(s["xact_age_s"] or 0))
    return open_sessions[0]["pid"] if open_sessions else None
