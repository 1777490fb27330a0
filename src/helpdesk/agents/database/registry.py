"""The database agent's tool registry: every diagnostic tool with its JSON schema.

This is what the A2A service serves at `GET /schemas`, what an LLM loop offers as
functions, and what the built-in diagnostician calls (through `ToolRegistry.call`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpdesk.agents.base import Tool, ToolOutput, ToolRegistry
from helpdesk.agents.database import (
    tools_access,
    tools_activity,
    tools_log,
    tools_mutation,
    tools_queries,
    tools_replication,
    tools_server,
    tools_storage,
)

AGENT_NAME = "postgres_database_agent"

_CONN = {
    "type": "string",
    "description": "libpq connection string (key=value or postgresql:// URI) or an alias from the "
    "infrastructure config",
}


def _int(description: str, default: int, minimum: int = 1, maximum: int = 500) -> dict[str, Any]:
    return {
        "type": "integer",
        "description": description,
        "default": default,
        "minimum": minimum,
        "maximum": maximum,
    }


def _params(required: tuple[str, ...] = (), **props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"connection_string": _CONN, **props},
        "required": ["connection_string", *required],
        "additionalProperties": False,
    }


_LIMIT = _int("maximum rows shown in the text answer", 15)

_TOOLS: tuple[tuple[str, str, dict[str, Any], Callable[..., ToolOutput]], ...] = (
    (
        "check_connection",
        "Connect and report server version, role, database, primary/standby and latency; on "
        "failure, "
        "classify why (refused, authentication, pg_hba, missing database, connection limits, ...) "
        "and "
        "quote the server's message.",
        _params(),
        tools_server.check_connection,
    ),
    (
        "get_database_info",
        "Server version, uptime, recovery state, and every database with size, owner, connection "
        "limit "
        "and whether it allows connections.",
        _params(),
        tools_server.get_database_info,
    ),
    (
        "get_active_connections",
        "Client sessions (not this agent's): state, wait event, transaction/query/state age, "
        "whether the "
        "transaction has written, who blocks it, and the query.",
        _params(
            include_idle={
                "type": "boolean",
                "description": "also list plain idle sessions",
                "default": False,
            },
            limit=_int("maximum sessions shown", 30),
        ),
        tools_activity.get_active_connections,
    ),
    (
        "get_connection_stats",
        "max_connections and reserved slots versus sessions in use, by "
        "state/role/database/application, "
        "and role/database CONNECTION LIMITs with their current use.",
        _params(),
        tools_activity.get_connection_stats,
    ),
    (
        "get_database_stats",
        "Per-database counters from pg_stat_database: commits, rollbacks, cache hit ratio, temp "
        "files, "
        "deadlocks, conflicts, size, and when statistics were reset.",
        _params(),
        tools_server.get_database_stats,
    ),
    (
        "get_config_parameter",
        "Server settings from pg_settings: value, unit, source, the value a new session gets, "
        "pending "
        "restart. Name one, several (comma-separated) or a LIKE pattern; empty lists notable "
        "settings.",
        _params(
            name={"type": "string", "description": "setting name(s) or LIKE pattern", "default": ""}
        ),
        tools_server.get_config_parameter,
    ),
    (
        "get_replication_status",
        "On a primary: connected standbys with lag in bytes and seconds, replication slots with "
        "retained "
        "WAL and active flag, WAL archiver. On a standby: receive/replay positions, replay lag, "
        "whether "
        "replay is paused, WAL receiver.",
        _params(),
        tools_replication.get_replication_status,
    ),
    (
        "get_lock_info",
        "Lock requests that are waiting and notable locks held (relation, mode, session, age).",
        _params(limit=_int("maximum held locks shown", 30)),
        tools_activity.get_lock_info,
    ),
    (
        "get_table_stats",
        "User tables: live/dead tuples, dead ratio, sequential vs index scans, cache hit ratio, "
        "size, "
        "autovacuum disabled or not, last (auto)vacuum.",
        _params(
            table={
                "type": "string",
                "description": "only this table (name or schema.name)",
                "default": "",
            },
            order_by={
                "type": "string",
                "enum": ["dead", "size", "seq_scan", "reads"],
                "default": "dead",
            },
            limit=_LIMIT,
        ),
        tools_storage.get_table_stats,
    ),
    (
        "get_session_info",
        "One backend by pid: state, transaction age, whether it has written (backend_xid), the "
        "locks it "
        "holds or awaits, who blocks it and whom it blocks.",
        _params(("pid",), pid=_int("the backend process id", 0, 1, 2**31 - 1)),
        tools_activity.get_session_info,
    ),
    (
        "get_blocking_queries",
        "The blocker -> waiter tree (pg_blocking_pids): root blockers with their state, "
        "transaction age "
        "and how many sessions wait behind them.",
        _params(),
        tools_activity.get_blocking_queries,
    ),
    (
        "get_wait_events",
        "What the non-idle client sessions are waiting on, grouped by wait event.",
        _params(),
        tools_activity.get_wait_events,
    ),
    (
        "get_vacuum_status",
        "Autovacuum settings, tables with dead tuples vs their autovacuum trigger, vacuums "
        "running, "
        "the oldest snapshots holding back cleanup, and transaction ID age.",
        _params(limit=_LIMIT),
        tools_storage.get_vacuum_status,
    ),
    (
        "get_index_usage",
        "Tables read by sequential scans (rows read per scan, index scans, existing indexes) and "
        "indexes that are never used.",
        _params(limit=_LIMIT),
        tools_storage.get_index_usage,
    ),
    (
        "get_disk_usage",
        "Database sizes, largest relations, WAL directory size versus max_wal_size, temporary file "
        "volume, tablespaces.",
        _params(limit=_int("maximum relations shown", 10)),
        tools_storage.get_disk_usage,
    ),
    (
        "get_slow_queries",
        "Heaviest statements from pg_stat_statements (calls, total/mean/max time, rows per call, "
        "blocks "
        "read); explains when the extension is unavailable.",
        _params(
            order_by={
                "type": "string",
                "enum": ["total_time", "mean_time", "calls", "reads"],
                "default": "total_time",
            },
            limit=_int("maximum statements shown", 10),
        ),
        tools_queries.get_slow_queries,
    ),
    (
        "get_role_info",
        "Roles: can log in, superuser, CONNECTION LIMIT and current use, password expiry, "
        "memberships, "
        "and per-role / per-database settings (ALTER ROLE/DATABASE ... SET).",
        _params(role={"type": "string", "description": "only this role", "default": ""}),
        tools_access.get_role_info,
    ),
    (
        "get_sequence_usage",
        "Sequences by share of their range used (bounded by the owning column's type), with "
        "values left.",
        _params(limit=_LIMIT),
        tools_storage.get_sequence_usage,
    ),
    (
        "get_read_only_status",
        "Whether a new session of this role in this database can write: recovery (standby), "
        "default_transaction_read_only and where it is set.",
        _params(),
        tools_access.get_read_only_status,
    ),
    (
        "get_timeout_settings",
        "statement_timeout, lock_timeout, idle-in-transaction and transaction timeouts a new "
        "session "
        "gets, and the ALTER ROLE/DATABASE or configuration-file settings behind them.",
        _params(),
        tools_access.get_timeout_settings,
    ),
    (
        "read_server_log",
        "Recent server log entries (warnings and errors, or those matching a regex), each tagged "
        "with "
        "a signature such as deadlock, statement_timeout, disk_full, auth_failed; needs superuser, "
        "pg_monitor or pg_read_server_files.",
        _params(
            pattern={
                "type": "string",
                "description": "case-insensitive regex filter",
                "default": "",
            },
            minutes=_int("how far back to look", 60, 1, 10080),
            max_lines=_int("maximum entries shown", 40),
        ),
        tools_log.read_server_log,
    ),
)


_PID = _int("the backend process id", 0, 1, 2**31 - 1)
_GUARD = (
    " Inspects first, runs only on targets tagged test/chaos in the infrastructure config or "
    "with approval, and verifies the effect (docs/REMEDIATION.md)."
)

# Mutation tools (Tool.mutating): each inspects, asks the approval policy, acts, verifies.
_MUTATIONS: tuple[tuple[str, str, dict[str, Any], Callable[..., ToolOutput]], ...] = (
    (
        "cancel_query",
        "Cancel the statement a client session is running (pg_cancel_backend); its transaction "
        "stays open and keeps its locks." + _GUARD,
        _params(("pid",), pid=_PID),
        tools_mutation.cancel_query,
    ),
    (
        "terminate_connection",
        "End one client session (pg_terminate_backend): its open transaction is rolled back and "
        "its locks are released." + _GUARD,
        _params(("pid",), pid=_PID),
        tools_mutation.terminate_connection,
    ),
    (
        "terminate_idle_connections",
        "End client sessions idle for at least min_idle_seconds (optionally of one application "
        "or role). dry_run (the default) only lists them." + _GUARD,
        _params(
            dry_run={"type": "boolean", "description": "only list them", "default": True},
            min_idle_seconds=_int("idle at least this long", 60, 0, 86400 * 7),
            application_name={
                "type": "string",
                "description": "only this application",
                "default": "",
            },
            usename={"type": "string", "description": "only this role", "default": ""},
        ),
        tools_mutation.terminate_idle_connections,
    ),
    (
        "run_vacuum",
        "VACUUM a table (optionally FULL, which rewrites it under an ACCESS EXCLUSIVE lock, and "
        "ANALYZE) and check that its dead tuples are gone." + _GUARD,
        _params(
            ("table",),
            table={"type": "string", "description": "table name or schema.name"},
            full={
                "type": "boolean",
                "description": "VACUUM FULL (locks the table)",
                "default": False,
            },
            analyze={"type": "boolean", "description": "also ANALYZE", "default": True},
        ),
        tools_mutation.run_vacuum,
    ),
    (
        "resume_wal_replay",
        "On a standby whose WAL replay is paused: pg_wal_replay_resume(), then check that replay "
        "runs again." + _GUARD,
        _params(),
        tools_mutation.resume_wal_replay,
    ),
    (
        "drop_replication_slot",
        "Drop an INACTIVE replication slot that retains WAL (an active one is refused)." + _GUARD,
        _params(("slot_name",), slot_name={"type": "string", "description": "the slot's name"}),
        tools_mutation.drop_replication_slot,
    ),
    (
        "reset_setting",
        "Remove a setting override: ALTER ROLE [IN DATABASE] / ALTER DATABASE ... RESET, or "
        "ALTER SYSTEM RESET plus a configuration reload." + _GUARD,
        _params(
            ("name", "scope"),
            name={"type": "string", "description": "the setting, e.g. statement_timeout"},
            scope={"type": "string", "enum": ["role", "database", "system"]},
            role={"type": "string", "description": "for scope role", "default": ""},
            database={
                "type": "string",
                "description": "for scope database (or role in a database)",
                "default": "",
            },
        ),
        tools_mutation.reset_setting,
    ),
)

MUTATION_TOOLS = tuple(name for name, *_ in _MUTATIONS)


def build_registry(mutations: bool = True) -> ToolRegistry:
    """A fresh registry with every database tool (`mutations=False`: diagnostic tools only)."""
    registry = ToolRegistry(agent=AGENT_NAME)
    for name, description, parameters, func in _TOOLS:
        registry.add(Tool(name=name, description=description, parameters=parameters, func=func))
    for name, description, parameters, func in _MUTATIONS if mutations else ():
        registry.add(
            Tool(
                name=name, description=description, parameters=parameters, func=func, mutating=True
            )
        )
    return registry
