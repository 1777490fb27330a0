"""The built-in diagnostician: message in, SPEC §6 result out, with no LLM.

It knows only the person's message and what the tools return; the rules it applies
are listed in RULES and documented in docs/DIAGNOSTICIAN.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.database.diagnostician import rules_server, rules_sessions, rules_storage
from helpdesk.agents.database.diagnostician.conclusion import conclude
from helpdesk.agents.database.diagnostician.findings import Finding
from helpdesk.agents.database.diagnostician.investigation import Investigation, Node, Observations
from helpdesk.agents.database.diagnostician.remediation import Remediator, wants_fix
from helpdesk.agents.database.diagnostician.report import diagnosis, markdown
from helpdesk.agents.database.diagnostician.request import Request, parse
from helpdesk.result import AgentResult, ModelInfo

log = logging.getLogger(__name__)

MODEL = ModelInfo(vendor="builtin", name="builtin-diagnostician/1")

NodeRule = Callable[[Node, Request], list[Finding]]

# Rules evaluated on the primary (the server the person's application writes to).
RULES: tuple[NodeRule, ...] = (
    rules_sessions.connection_usage,
    rules_sessions.connection_limits,
    rules_sessions.role_access,
    rules_sessions.blocking,
    rules_sessions.idle_transactions,
    rules_sessions.long_queries,
    rules_sessions.deadlocks,
    rules_storage.bloat,
    rules_storage.cache,
    rules_storage.missing_index,
    rules_storage.sequences,
    rules_storage.disk,
    rules_server.wal_retention,
    rules_server.timeouts,
    rules_server.crash,
)

NO_TARGET = (
    "I need a connection string to investigate: give a libpq DSN such as "
    "`host=db.example port=5432 dbname=app user=app password=...`, a postgresql:// URI, "
    "or the name of a server from the infrastructure config."
)


class BuiltinDiagnostician:
    """The deterministic brain of the database agent."""

    model = MODEL

    def run(self, message: str, registry: ToolRegistry) -> AgentResult:
        request = parse(message)
        if request.primary is None and request.replica is None:
            return AgentResult(text=NO_TARGET, model=MODEL)
        obs = Investigation(registry).run(request)
        findings = evaluate(obs, request)
        conclusion = conclude(findings, request.hints)
        text = markdown(conclusion, obs)
        remediation = None
        if wants_fix(message):  # asked to fix it: act through the mutation tools, or advise
            remediation = Remediator(registry, obs).run(conclusion)
            text += "\n\n" + remediation.markdown()
        result = AgentResult(
            text=text, diagnosis=diagnosis(conclusion), tool_calls=obs.trace, model=MODEL
        )
        if remediation is not None:  # AgentResult allows extra keys (SPEC §6 superset)
            result = AgentResult.model_validate(
                {**result.model_dump(), "remediation": remediation.as_dict()}
            )
        return result


def evaluate(obs: Observations, request: Request) -> list[Finding]:
    """All findings for the observations; a failed connection to the primary is final."""
    primary = obs.primary
    main = primary if primary is not None else obs.replica
    if main is not None and main.failure is not None:
        failed = rules_sessions.connection_failure(main)
        return [failed] if failed else []
    findings: list[Finding] = []
    if primary is not None:
        for rule in RULES:
            findings += _safely(rule.__name__, partial(rule, primary, request))
        findings += _safely("read_only", lambda: rules_server.read_only(primary, request, True))
    findings += _safely("replication", lambda: rules_server.replication(obs, request))
    return findings


def _safely(name: str, rule: Callable[[], list[Finding]]) -> list[Finding]:
    """A rule that trips over unexpected tool data is skipped (and logged), not fatal."""
    try:
        return rule()
    except Exception:
        log.warning("diagnostician rule %s failed", name, exc_info=True)
        return []
