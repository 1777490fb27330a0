"""How a diagnostic tool runs: open a read-only session, run its queries, map failures.

A tool body receives an open connection and returns a ToolOutput; connection failures
become a classified `ok=False` output, query failures a short error with the SQLSTATE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.database.connect import ConnectionFailure, read_only_session
from helpdesk.dsn import mask

Body = Callable[[psycopg.Connection], ToolOutput]
AGENT_APPLICATION_PATTERN = "helpdesk:%%"  # `%%`: the SQL is sent through psycopg's formatting


def not_own(alias: str = "") -> str:
    """SQL condition excluding this agent's sessions from a pg_stat_activity query."""
    prefix = f"{alias}." if alias else ""
    return (
        f"{prefix}pid <> pg_backend_pid() AND "
        f"coalesce({prefix}application_name, '') NOT LIKE '{AGENT_APPLICATION_PATTERN}'"
    )


def run(connection_string: str, body: Body) -> ToolOutput:
    """Run `body` in a read-only session on `connection_string` and map every failure."""
    try:
        with read_only_session(connection_string) as conn:
            return body(conn)
    except ConnectionFailure as exc:
        return ToolOutput(
            text=exc.problem.describe(), data={"error": exc.problem.as_dict()}, ok=False
        )
    except psycopg.Error as exc:
        return query_failure(exc)


def query_failure(exc: psycopg.Error) -> ToolOutput:
    state = getattr(exc, "sqlstate", None)
    message = mask(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    hint = {
        "42501": " (the role lacks the privilege; grant pg_monitor / pg_read_all_stats for full "
        "detail)",
        "57014": " (cancelled by the tool's statement_timeout)",
        "55P03": " (the tool's lock_timeout expired)",
    }.get(state or "", "")
    return ToolOutput(
        text=f"error: query failed [{state or 'no sqlstate'}]: {message}{hint}",
        data={"error": {"kind": "query_error", "sqlstate": state, "message": message}},
        ok=False,
    )


def rows(conn: psycopg.Connection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """All rows of a query as dicts (the session uses a dict row factory)."""
    return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def one(conn: psycopg.Connection, sql: str, params: Any = None) -> dict[str, Any]:
    found = rows(conn, sql, params)
    return found[0] if found else {}


def optional_rows(conn: psycopg.Connection, sql: str, params: Any = None) -> list[dict] | None:
    """Rows, or None when the role may not run the query (privilege, missing feature)."""
    try:
        with conn.transaction():
            return rows(conn, sql, params)
    except (
        psycopg.errors.InsufficientPrivilege,
        psycopg.errors.UndefinedFunction,
        psycopg.errors.UndefinedTable,
        psycopg.errors.UndefinedObject,
        psycopg.errors.ObjectNotInPrerequisiteState,
        psycopg.errors.FeatureNotSupported,
    ):
        return None
