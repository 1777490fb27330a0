"""How a database mutation runs: inspect → decide → act → verify, all recorded.

Mutations use their own session (not read-only, short lock timeout, application_name
`helpdesk:database_agent:mutation` so that no tool ever reports or terminates it). The
approval policy (`helpdesk.agents.approval`) decides between inspection and action; a
call that returned false, or a state that did not change, is reported as a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from helpdesk import dsn as dsnlib
from helpdesk.agents import approval
from helpdesk.agents.base import ToolError, ToolOutput
from helpdesk.agents.database.connect import CONNECT_TIMEOUT_S, ConnectionFailure, classify, resolve

AGENT_NAME = "postgres_database_agent"
APPLICATION_NAME = "helpdesk:database_agent:mutation"
LOCK_TIMEOUT_MS = 2000
STATEMENT_TIMEOUT_MS = 120_000  # VACUUM FULL of a large table takes a while
VERIFY_TIMEOUT_S = 5.0
VERIFY_INTERVAL_S = 0.1

Conn = psycopg.Connection


class Stop(Exception):
    """Inspection found a reason not to act (no such object, nothing to do, unsafe)."""

    def __init__(self, outcome: str, message: str, ok: bool = False) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.ok = ok


@dataclass
class Record:
    """The trace record of one mutation (what `ToolCall.mutation` carries)."""

    tool: str
    target: str
    inspection: dict[str, Any] = field(default_factory=dict)
    decision: dict[str, Any] | None = None
    action: dict[str, Any] | None = None
    verification: dict[str, Any] = field(default_factory=dict)
    outcome: str = "pending"

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "target": self.target,
            "outcome": self.outcome,
            "inspection": self.inspection,
            "decision": self.decision,
            "action": self.action,
            "verification": self.verification,
        }


@dataclass
class Plan:
    """One mutation: what to inspect, how to describe it, what to do, how to check it."""

    tool: str
    inspect: Callable[[Conn], dict[str, Any]]
    summary: Callable[[dict[str, Any]], str]
    act: Callable[[Conn, dict[str, Any]], dict[str, Any]]  # {"returned": ..., "ok": bool}
    check: Callable[[Conn, dict[str, Any]], tuple[bool, dict[str, Any]]]
    dry_run: bool = False
    verify_timeout: float = VERIFY_TIMEOUT_S


@contextmanager
def mutation_session(connection_string: str) -> Iterator[Conn]:
    """A writable session with a short lock timeout; ConnectionFailure when it cannot connect."""
    dsn = resolve(connection_string)
    try:
        target = dsnlib.mask(dsn)
        params = dsnlib.parse(dsn)
    except dsnlib.InvalidDSN as exc:
        raise ToolError(str(exc)) from None
    kwargs: dict[str, Any] = {"application_name": APPLICATION_NAME, "autocommit": True}
    if "connect_timeout" not in params:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        conn = psycopg.connect(dsn, row_factory=dict_row, **kwargs)
    except psycopg.OperationalError as exc:
        raise ConnectionFailure(classify(str(exc), target)) from None
    try:
        conn.execute(
            f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET lock_timeout = {LOCK_TIMEOUT_MS}"
        )
        yield conn
    finally:
        conn.close()


def execute(connection_string: str, plan: Plan) -> ToolOutput:
    """Run a plan and return its output; every step lands in `data["mutation"]`."""
    try:
        dsn = resolve(connection_string)
    except ToolError as exc:
        return ToolOutput(text=f"error: {exc}", ok=False)
    record = Record(tool=plan.tool, target=dsnlib.mask(dsn))
    try:
        with mutation_session(dsn) as conn:
            return _steps(conn, dsn, plan, record)
    except ConnectionFailure as exc:
        record.outcome = "connection_failed"
        record.inspection = {"error": exc.problem.as_dict()}
        return _output(record, False, exc.problem.describe())
    except psycopg.Error as exc:
        record.outcome = "failed"
        record.verification = {"call": {"ok": False, "error": _error(exc)}}
        return _output(record, False, f"{plan.tool} failed: {_error(exc)['message']}")


def _steps(conn: Conn, dsn: str, plan: Plan, record: Record) -> ToolOutput:
    try:
        record.inspection = plan.inspect(conn)
    except Stop as stop:
        record.outcome = stop.outcome
        return _output(record, stop.ok, stop.message)
    summary = plan.summary(record.inspection)
    if plan.dry_run:
        record.outcome = "dry_run"
        return _output(record, True, f"dry run, nothing changed: {summary}")
    decision = approval.decide_db(dsn, AGENT_NAME, plan.tool, summary)
    record.decision = decision.as_dict()
    if not decision.allowed:
        record.outcome = "refused"
        return _output(record, False, f"refused: {decision.reason}. Planned: {summary}")
    try:
        record.action = plan.act(conn, record.inspection)
    except psycopg.Error as exc:
        record.outcome = "failed"
        record.verification = {"call": {"ok": False, "error": _error(exc)}}
        return _output(record, False, f"{summary}: the server refused: {_error(exc)['message']}")
    call_ok = bool(record.action.get("ok"))
    record.verification["call"] = {"ok": call_ok, "returned": record.action.get("returned")}
    state_ok, observed, waited = _poll(conn, plan, record.inspection)
    record.verification["state"] = {"ok": state_ok, "waited_s": waited, **observed}
    if call_ok and state_ok:
        record.outcome = "done"
        return _output(record, True, f"done and verified: {summary}")
    record.outcome = "verification_failed"
    level = "the call itself reported failure" if not call_ok else "the state did not change"
    return _output(record, False, f"NOT verified ({level}): {summary}")


def _poll(conn: Conn, plan: Plan, inspection: dict[str, Any]) -> tuple[bool, dict[str, Any], float]:
    started = time.monotonic()
    while True:
        ok, observed = plan.check(conn, inspection)
        waited = round(time.monotonic() - started, 2)
        if ok or waited >= plan.verify_timeout:
            return ok, observed, waited
        time.sleep(VERIFY_INTERVAL_S)


def _error(exc: psycopg.Error) -> dict[str, Any]:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"sqlstate": getattr(exc, "sqlstate", None), "message": dsnlib.mask(text)}


def _output(record: Record, ok: bool, headline: str) -> ToolOutput:
    lines = [f"{record.tool} on {record.target}: {record.outcome}", headline]
    if record.inspection:
        lines.append(f"inspection: {_compact(record.inspection)}")
    if record.decision:
        lines.append(f"decision: {record.decision['basis']}: {record.decision['reason']}")
    if record.verification:
        lines.append(f"verification: {_compact(record.verification)}")
    text = dsnlib.mask("\n".join(lines))
    return ToolOutput(text=text, data={"mutation": record.as_dict()}, ok=ok)


def _compact(value: dict[str, Any]) -> str:
    parts = []
    for key, item in value.items():
        if isinstance(item, dict):
            parts.append(f"{key}=({_compact(item)})")
        elif isinstance(item, list) and len(item) > 8:
            parts.append(f"{key}=[{len(item)} items]")
        else:
            parts.append(f"{key}={item}")
    return ", ".join(parts)
