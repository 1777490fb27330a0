"""A small real tool registry for the loop tests: read-only checks against the lab PostgreSQL.

The tools connect with whatever DSN the loop hands them, so a test passes only when the
real password reached the tool although the model only ever saw `****`.
"""

from __future__ import annotations

import psycopg

from helpdesk.agents.base import Tool, ToolError, ToolOutput, ToolRegistry
from helpdesk.dsn import mask

AGENT = "postgres_database_agent"
_DSN = {"type": "string", "description": "libpq connection string of the server"}


def _connect(connection_string: str) -> psycopg.Connection:
    try:
        return psycopg.connect(connection_string, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ToolError(f"connection failed: {mask(str(exc)).strip()}") from None


def check_connection(connection_string: str) -> ToolOutput:
    with _connect(connection_string) as conn:
        row = conn.execute(
            "SELECT current_database(), current_user, current_setting('server_version'),"
            " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    assert row is not None
    database, user, version, sessions = row
    return ToolOutput(
        text=(
            f"connected: database={database} user={user} server_version={version}"
            f" client_sessions={sessions}"
        ),
        data={"database": database, "user": user, "server_version": version},
    )


def get_setting(connection_string: str, name: str) -> ToolOutput:
    with _connect(connection_string) as conn:
        row = conn.execute(
            "SELECT setting, coalesce(unit, '') FROM pg_settings WHERE name = %s", (name,)
        ).fetchone()
    if row is None:
        raise ToolError(f"no setting named {name!r}")
    return ToolOutput(text=f"{name} = {row[0]}{row[1]}", data={"name": name, "setting": row[0]})


def pg_registry() -> ToolRegistry:
    registry = ToolRegistry(agent=AGENT)
    registry.add(
        Tool(
            "check_connection",
            "Connect and report database, user, server version and the number of client sessions.",
            {
                "type": "object",
                "properties": {"connection_string": _DSN},
                "required": ["connection_string"],
            },
            check_connection,
        )
    )
    registry.add(
        Tool(
            "get_setting",
            "Read one server setting from pg_settings.",
            {
                "type": "object",
                "properties": {"connection_string": _DSN, "name": {"type": "string"}},
                "required": ["connection_string", "name"],
            },
            get_setting,
        )
    )
    return registry
