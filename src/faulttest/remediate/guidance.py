"""Judging advice by rule, for faults no agent tool can fix (guidance-only).

Without an LLM judge, the advice passes when it names the action that fixes the cause
(e.g. "start the server" for a stopped server); the rules are per diagnosis category,
with the fault's expected keywords as the fallback.
"""

from __future__ import annotations

import re

from faulttest.catalog.models import FailureMode
from helpdesk.result import AgentResult

# category -> a pattern the advice must match (the fix a person makes)
ADVICE: dict[str, str] = {
    "connection_refused": r"\bstart\b[^.\n]{0,40}\b(server|postgres(ql)?|database|service)\b|"
    r"pg_ctl\s+start|systemctl\s+start",
    "authentication_failure": r"\bpassword\b[^.\n]{0,80}\b(fix|correct|update|reset|change|rotat)|"
    r"\b(fix|correct|update|reset|change)\b[^.\n]{0,80}\bpassword\b",
    "database_not_found": r"create database|existing database|point[^.\n]{0,60}database|"
    r"(correct|fix)[^.\n]{0,40}(database name|connection string)",
    "connection_exhaustion": r"\bpool\b|pgbouncer|restart|pg_terminate_backend|"
    r"free[^.\n]{0,20}connections|max_connections",
    "cache_performance": r"\bindex\b|shared_buffers",
    "missing_index": r"create[^.\n]{0,20}index",
    "hba_rejection": r"pg_hba",
}


def advice_text(answer: AgentResult) -> str:
    actions = answer.diagnosis.recommended_actions if answer.diagnosis else []
    return "\n".join([answer.text, *actions])


def judge_advice(failure: FailureMode, answer: AgentResult) -> tuple[bool, str]:
    """(advice names the fix, the rule that decided)."""
    text = advice_text(answer)
    expected = failure.evaluation.expected_diagnosis
    category = expected.category if expected else ""
    pattern = ADVICE.get(category)
    if pattern is not None:
        match = re.search(pattern, text, re.IGNORECASE)
        return match is not None, f"{category}: /{pattern}/"
    keywords = failure.evaluation.expected_keywords.any_of
    hit = [k for k in keywords if re.search(rf"\b{re.escape(k)}\b", text, re.IGNORECASE)]
    return bool(hit), f"expected keywords: {', '.join(keywords) or '(none)'}"
