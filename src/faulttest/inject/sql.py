"""The `sql` action: run a script (file or inline) once on the primary or the replica.

Statements run one by one in autocommit mode, so that VACUUM, CREATE DATABASE and
friends work; a script is split on top-level semicolons (quotes, dollar quotes and
comments respected). `detach: true` (Go catalogs) runs the script as a background session.
"""

from __future__ import annotations

import logging
import re

import psycopg

from faulttest.catalog.models import SessionsAction, SessionSpec, SqlAction
from faulttest.errors import InjectionFailed, UsageError
from faulttest.inject import sessions
from faulttest.inject.context import Context
from helpdesk.dsn import mask

log = logging.getLogger(__name__)

_TOKEN = re.compile(
    r"""(?P<dollar>\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)
      | (?P<quote>'(?:[^']|'')*'?)
      | (?P<ident>"(?:[^"]|"")*"?)
      | (?P<line>--[^\n]*)
      | (?P<block>/\*.*?(?:\*/|\Z))
      | (?P<semi>;)""",
    re.VERBOSE | re.DOTALL,
)


def split_statements(script: str) -> list[str]:
    """Top-level statements of `script`, without trailing semicolons or empty ones."""
    statements, start, pos = [], 0, 0
    while (match := _TOKEN.search(script, pos)) is not None:
        pos = match.end()
        if match.lastgroup == "dollar":
            close = script.find(match.group(), pos)
            pos = len(script) if close < 0 else close + len(match.group())
        elif match.lastgroup == "semi":
            statements.append(script[start : match.start()])
            start = pos
    statements.append(script[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    stripped = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL)
    return bool(stripped.strip())


def script_text(action: SqlAction, ctx: Context) -> str:
    if action.script_inline is not None:
        return action.script_inline
    path = ctx.failure.resolve_path(action.script or "")
    try:
        return path.read_text()
    except OSError as exc:
        raise UsageError(
            f"{ctx.failure.id}: cannot read SQL script {path}: {exc.strerror}"
        ) from None


def run(action: SqlAction, ctx: Context) -> None:
    statements = split_statements(script_text(action, ctx))
    if action.detach:
        spec = SessionSpec(name="detached", sql=statements)
        sessions.run(SessionsAction(type="sessions", target=action.target, sessions=[spec]), ctx)
        return
    timeout_ms = int(ctx.failure.timeout * 1000)
    try:
        with ctx.target.connect(action.target, database=action.database) as conn:
            conn.execute(f"SET statement_timeout = {timeout_ms}")
            conn.execute("SET lock_timeout = '10s'")
            for statement in statements:
                _execute(conn, statement, action, ctx)
    except psycopg.OperationalError as exc:
        if not action.ignore_errors:
            raise InjectionFailed(
                f"{ctx.failure.id}: cannot connect: {mask(str(exc).strip())}"
            ) from None
        log.info("%s: sql on %s skipped: %s", ctx.failure.id, action.target.value, exc)


def _execute(conn: psycopg.Connection, statement: str, action: SqlAction, ctx: Context) -> None:
    try:
        conn.execute(statement.encode())  # bytes: no client-side placeholder parsing
    except psycopg.Error as exc:
        first_line = statement.splitlines()[0][:80]
        message = f"{ctx.failure.id}: SQL failed ({first_line}): {str(exc).strip()}"
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        if not action.ignore_errors:
            raise InjectionFailed(mask(message)) from None
        log.info("%s", mask(message))
