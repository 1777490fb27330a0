"""Remediation by the built-in diagnostician: fix what it diagnosed when asked, or say who must.

Only standard, safe fixes run, and only through the mutation tools (which inspect, ask
the approval policy and verify): ending the sessions that block others, ending leaked
idle sessions, VACUUM of bloated tables, resuming paused WAL replay. Everything else is
guidance: plainly what a person must do and why no tool of this agent can do it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from helpdesk import dsn as dsnlib
from helpdesk.agents.base import ToolOutput, ToolRegistry
from helpdesk.agents.database.diagnostician.conclusion import Conclusion
from helpdesk.agents.database.diagnostician.findings import BLOAT_MIN_DEAD, BLOAT_MIN_RATIO
from helpdesk.agents.database.diagnostician.investigation import Node, Observations

# "fix it", "please resolve this", "you are authorised to terminate ...", "remediate"
_FIX = re.compile(
    r"\b(fix|fixing|remediate|remediation|repair|rectify|resolve)\b|"
    r"\bauthori[sz]ed to\b|\bpermitted to (?:change|fix|terminate|vacuum|resume)\b",
    re.IGNORECASE,
)
MAX_ROUNDS = 3  # blocking chains: a new root may appear once the first one is gone
MAX_TABLES = 3
IDLE_MIN_SECONDS = 5
# contributing categories fixed too (the session-level ones are covered by the primary fix)
INDEPENDENT_FIXES = (
    "table_bloat",
    "replication_lag",
)  # leaked sessions: idle at least this long (applications idle for ms)

# What a person must do when no tool of this agent can fix the cause.
PERSON_MUST: dict[str, str] = {
    "connection_refused": "Start the PostgreSQL server (e.g. `pg_ctl start -D <data dir>` or "
    "`systemctl start postgresql`) and read its log to learn why it stopped; no database tool "
    "can start a server that is not running.",
    "authentication_failure": "Fix the password (or user) in the application's connection "
    "settings, or reset the role's password with `ALTER ROLE <role> PASSWORD '...'`; the "
    "credentials are outside what a database tool may change.",
    "hba_rejection": "Add a pg_hba.conf rule for this client (host, database, user, method) "
    "and reload the server (`SELECT pg_reload_conf()`).",
    "database_not_found": "Point the connection string at an existing database (or create the "
    "database with `CREATE DATABASE <name>` if it is really missing); the connection string "
    "belongs to its owner.",
    "connection_not_permitted": "Let the role log in (`ALTER ROLE <role> LOGIN`) or the "
    "database accept connections (`ALTER DATABASE <db> ALLOW_CONNECTIONS true`), or grant "
    "CONNECT; a person must decide whether that access is wanted.",
    "connection_exhaustion": "Free connections from outside: every slot, the superuser-reserved "
    "ones included, is taken, so no tool can even log in to end sessions. Restart (or scale "
    "down) the application's connection pool that leaks idle sessions, or restart PostgreSQL; "
    "then cap the pool size or put PgBouncer in front.",
    "role_connection_limit": "End idle sessions of that role in the application, or raise its "
    "limit (`ALTER ROLE <role> CONNECTION LIMIT n`).",
    "server_crash": "Check the server log for the crash cause before anything else.",
}


def wants_fix(message: str) -> bool:
    """Does the person ask the agent to fix the problem (not only to diagnose it)?"""
    return bool(_FIX.search(message))


@dataclass
class Action:
    tool: str
    args: dict[str, Any]
    outcome: str
    ok: bool
    summary: str

    def line(self) -> str:
        said = self.summary.split(":", 1)[0].lower()
        if said.startswith(("done", "refused", "not verified", "dry run")):
            return f"`{self.tool}` {self._target()}: {self.summary}"
        return f"`{self.tool}` {self._target()}: {self.outcome.replace('_', ' ')}: {self.summary}"

    def _target(self) -> str:
        shown = {k: v for k, v in self.args.items() if k != "connection_string"}
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "(server)"


@dataclass
class Remediation:
    """What was done (each action with its verified outcome) and what a person must do."""

    attempted: bool = False
    actions: list[Action] = field(default_factory=list)
    guidance: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> bool:
        return bool(self.actions) and all(a.ok for a in self.actions) and not self.guidance

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "fixed": self.fixed,
            "actions": [
                {"tool": a.tool, "outcome": a.outcome, "ok": a.ok, "summary": a.summary}
                for a in self.actions
            ],
            "guidance": self.guidance,
        }

    def markdown(self) -> str:
        lines = ["### Remediation"]
        if self.actions:
            lines += [f"{i}. {a.line()}" for i, a in enumerate(self.actions, 1)]
        else:
            lines.append("No change was made.")
        if self.guidance:
            lines += ["", "### What a person must do", *[f"- {g}" for g in self.guidance]]
        return dsnlib.mask("\n".join(lines))


class Remediator:
    """Applies the standard fix for the diagnosed category, through the registry's tools."""

    def __init__(self, registry: ToolRegistry, obs: Observations) -> None:
        self.registry = registry
        self.obs = obs
        self.result = Remediation()

    def run(self, conclusion: Conclusion) -> Remediation:
        primary = self.obs.primary
        failure = primary.failure if primary is not None else None
        if failure is not None:
            category = failure.get("category", "connection_refused")
            self._person(category, "the server cannot be reached to change anything")
            return self.result
        self._fix(conclusion.category, conclusion)
        if not self.result.actions and not self.result.guidance:
            actions = conclusion.primary.actions if conclusion.primary else []
            if conclusion.category != "healthy":
                self._person(
                    conclusion.category, "no session or object to change was found", actions
                )
        for extra in conclusion.contributing:  # independent problems found alongside
            if extra.category in INDEPENDENT_FIXES and extra.category != conclusion.category:
                self._fix(extra.category, conclusion)
        return self.result

    def _fix(self, category: str, conclusion: Conclusion) -> None:
        node = self.obs.primary
        if category == "healthy" or node is None:
            return
        if category in ("lock_blocking", "idle_in_transaction", "deadlock"):
            self._end_blockers(node)
        elif category == "long_running_query":
            if not self._end_blockers(node):
                self._cancel_long_statement(node)
        elif category == "connection_exhaustion":
            self._end_idle_sessions(node)
        elif category == "table_bloat":
            self._vacuum(node)
        elif category == "replication_lag":
            self._resume_replay(conclusion)
        elif category == conclusion.category:  # no standard fix: say who must act
            actions = conclusion.primary.actions if conclusion.primary else []
            self._person(category, "no safe, standard change fixes it automatically", actions)

    # ── the fixes ──
    def _end_blockers(self, node: Node) -> bool:
        ended = False
        for _ in range(MAX_ROUNDS):
            tree = self._read(node, "get_blocking_queries")
            roots = [r["pid"] for r in (tree or {}).get("roots", [])]
            if not roots:
                break
            for pid in roots[:3]:
                out = self._act("terminate_connection", node.target, pid=pid)
                ended = ended or out.ok
                if not out.ok:
                    return ended
        return ended

    def _cancel_long_statement(self, node: Node) -> None:
        active = node.data("get_active_connections") or {"sessions": []}
        running = [
            s
            for s in active["sessions"]
            if s["state"] == "active" and not s["blocked_by"] and s["query_age_s"] is not None
        ]
        if running:
            longest = max(running, key=lambda s: s["query_age_s"])
            self._act("cancel_query", node.target, pid=longest["pid"])

    def _end_idle_sessions(self, node: Node) -> None:
        stats = node.data("get_connection_stats") or {}
        groups = stats.get("by_role_db") or []
        top = groups[0] if groups else {}
        args: dict[str, Any] = {"dry_run": False, "min_idle_seconds": IDLE_MIN_SECONDS}
        if top.get("application_name"):
            args["application_name"] = top["application_name"]
        if top.get("usename"):
            args["usename"] = top["usename"]
        self._act("terminate_idle_connections", node.target, **args)

    def _vacuum(self, node: Node) -> None:
        tables = (node.data("get_table_stats") or {}).get("tables", [])
        bloated = [
            t
            for t in tables
            if t["n_dead_tup"] >= BLOAT_MIN_DEAD and t["dead_ratio"] >= BLOAT_MIN_RATIO
        ]
        for table in sorted(bloated, key=lambda t: -t["n_dead_tup"])[:MAX_TABLES]:
            self._act("run_vacuum", node.target, table=table["table_name"])

    def _resume_replay(self, conclusion: Conclusion) -> None:
        replica = self.obs.replica
        status = replica.data("get_replication_status") if replica else None
        if replica is not None and status and status.get("replay_paused"):
            self._act("resume_wal_replay", replica.target)
        elif conclusion.category == "replication_lag":
            actions = conclusion.primary.actions if conclusion.primary else []
            self._person("replication_lag", "replay is not paused; the cause is elsewhere", actions)

    # ── plumbing ──
    def _read(self, node: Node, tool: str) -> dict[str, Any] | None:
        out = self.registry.call(tool, {"connection_string": node.target}, self.obs.trace)
        return out.data if out.ok else None

    def _act(self, tool: str, target: str, **args: Any) -> ToolOutput:
        self.result.attempted = True
        call = {"connection_string": target, **args}
        if tool not in self.registry:
            out = ToolOutput(text=f"this agent has no {tool} tool", ok=False)
        else:
            out = self.registry.call(tool, call, self.obs.trace)
        record = (out.data or {}).get("mutation", {}) if isinstance(out.data, dict) else {}
        outcome = record.get("outcome", "done" if out.ok else "failed")
        headline = out.text.splitlines()[1] if len(out.text.splitlines()) > 1 else out.text
        self.result.actions.append(Action(tool, call, outcome, out.ok, headline))
        if outcome == "refused":
            self.result.guidance.append(
                f"I was not allowed to run `{tool}` on this server ({headline}). A person can "
                "make the change, or approve it for this agent."
            )
        return out

    def _person(self, category: str, why: str, actions: list[str] | None = None) -> None:
        advice = PERSON_MUST.get(category)
        if advice is None:
            steps = "; ".join(actions or []) or "see the recommended actions above"
            advice = f"A person must act ({why}): {steps}"
        self.result.guidance.append(advice)
