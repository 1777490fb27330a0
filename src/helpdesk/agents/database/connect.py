"""Read-only PostgreSQL sessions for the diagnostic tools, and connection-failure diagnosis.

Every tool connects through `read_only_session`: a DSN or infrastructure alias, short
connect/statement/lock timeouts, a recognisable application_name, and no way to write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from helpdesk import dsn as dsnlib
from helpdesk import infra
from helpdesk.agents.base import ToolError

APPLICATION_NAME = "helpdesk:database_agent"
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 5000
LOCK_TIMEOUT_MS = 1000


class ConnectionFailure(ToolError):
    """A connection could not be opened; carries the classified problem."""

    def __init__(self, problem: ConnectionProblem) -> None:
        super().__init__(problem.describe())
        self.problem = problem


@dataclass(frozen=True)
class ConnectionProblem:
    """A classified connection failure: its kind, its taxonomy category, the server's words."""

    kind: str
    category: str
    explanation: str
    message: str  # the exact (masked) error text from libpq / the server
    target: str = ""  # masked DSN

    def describe(self) -> str:
        where = f" ({self.target})" if self.target else ""
        return f"connection failed{where}: {self.explanation}\nserver said: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "category": self.category,
            "explanation": self.explanation,
            "message": self.message,
            "target": self.target,
        }


# (kind, category, pattern, explanation). Order matters: first match wins. Covers the
# wordings of PostgreSQL 15 to 18 and of libpq / psycopg's own client-side errors.
_RULES: tuple[tuple[str, str, str, str], ...] = (
    (
        "too_many_clients",
        "connection_exhaustion",
        r"too many clients already|remaining connection slots are reserved",
        "every connection slot of the server is in use (max_connections reached)",
    ),
    (
        "role_connection_limit",
        "role_connection_limit",
        r'too many connections for role "',
        "the role's CONNECTION LIMIT is reached",
    ),
    (
        "database_connection_limit",
        "role_connection_limit",
        r'too many connections for database "',
        "the database's CONNECTION LIMIT is reached",
    ),
    (
        "hba_rejection",
        "hba_rejection",
        r"no pg_hba\.conf entry|pg_hba\.conf rejects connection",
        "pg_hba.conf has no rule that lets this client in (or a rule rejects it)",
    ),
    (
        "authentication_failed",
        "authentication_failure",
        r"authentication failed|no password supplied|password is required|"
        r"invalid password|SCRAM|fe_sendauth",
        "the server rejected the credentials (wrong password, expired password or unknown user)",
    ),
    (
        "role_missing",
        "authentication_failure",
        r'role "[^"]*" does not exist',
        "the user named in the connection string does not exist",
    ),
    (
        "database_missing",
        "database_not_found",
        r'database "[^"]*" does not exist',
        "the database named in the connection string does not exist",
    ),
    (
        "login_not_permitted",
        "connection_not_permitted",
        r"is not permitted to log in",
        "the role exists but has NOLOGIN",
    ),
    (
        "database_not_accepting",
        "connection_not_permitted",
        r"is not currently accepting connections",
        "the database does not allow connections (ALLOW_CONNECTIONS false)",
    ),
    (
        "connect_privilege",
        "connection_not_permitted",
        r"permission denied for database",
        "the role lacks the CONNECT privilege on the database",
    ),
    (
        "server_starting",
        "server_crash",
        r"the database system is (starting up|in recovery mode|not yet accepting)",
        "the server is starting up or recovering from a crash",
    ),
    (
        "ssl_mismatch",
        "connection_refused",
        r"server does not support SSL|SSL was required|SSL connection is required|"
        r"sslmode value .* invalid",
        "the client and the server disagree on SSL (sslmode in the connection string)",
    ),
    (
        "server_shutting_down",
        "connection_refused",
        r"the database system is shutting down",
        "the server is shutting down",
    ),
    (
        "unknown_host",
        "connection_refused",
        r"could not translate host name|failed to resolve host|Name or service not known|"
        r"nodename nor servname|Temporary failure in name resolution",
        "the host name does not resolve (unknown host)",
    ),
    (
        "timeout",
        "connection_refused",
        r"timeout expired|timed out|Connection timed out",
        "the server did not answer in time (network path, firewall, or overloaded server)",
    ),
    (
        "refused",
        "connection_refused",
        r"Connection refused|No such file or directory|could not connect to server|"
        r"server closed the connection unexpectedly|No route to host|Network is unreachable",
        "nothing accepts connections at that address: the server is down or not listening there",
    ),
)


def classify(message: str, target: str = "") -> ConnectionProblem:
    """Turn a connection error message into a ConnectionProblem (classification by text)."""
    masked = dsnlib.mask(message.strip())
    for kind, category, pattern, explanation in _RULES:
        if re.search(pattern, masked, re.IGNORECASE):
            return ConnectionProblem(kind, category, explanation, masked, target)
    return ConnectionProblem(
        "unknown", "connection_refused", "the connection failed", masked, target
    )


def resolve(connection_string: str) -> str:
    """A DSN as given, or the DSN of an alias registered in the infrastructure config."""
    value = connection_string.strip()
    if not value:
        raise ToolError("connection_string is empty")
    try:
        config = infra.load()
    except infra.InfraConfigError as exc:
        raise ToolError(str(exc)) from None
    if config is not None:
        value = config.resolve_dsn(value)
    if "=" not in value and "://" not in value:
        raise ToolError(
            f"{value!r} is neither a connection string nor an alias known to the "
            "infrastructure config (set HELPDESK_INFRA_CONFIG)"
        )
    return value


def _connect_kwargs(dsn: str) -> dict[str, object]:
    params = dsnlib.parse(dsn)
    kwargs: dict[str, object] = {"application_name": APPLICATION_NAME, "autocommit": True}
    if "connect_timeout" not in params:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
    return kwargs


_SESSION_SETUP = (
    f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}; "
    f"SET lock_timeout = {LOCK_TIMEOUT_MS}; "
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
)


@contextmanager
def read_only_session(connection_string: str) -> Iterator[psycopg.Connection[Any]]:
    """Open a read-only, time-limited session; raise ConnectionFailure when it cannot connect.

    The limits are SET after connecting (not passed as startup options) so that
    pg_settings.reset_val still shows what the role/database/server would give an
    application: the tools report those values.
    """
    dsn = resolve(connection_string)
    try:
        target = dsnlib.mask(dsn)
        kwargs = _connect_kwargs(dsn)
    except dsnlib.InvalidDSN as exc:
        raise ToolError(str(exc)) from None
    try:
        conn = psycopg.connect(dsn, row_factory=dict_row, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise ConnectionFailure(classify(str(exc), target)) from None
    try:
        conn.execute(_SESSION_SETUP)
        yield conn
    finally:
        conn.close()
