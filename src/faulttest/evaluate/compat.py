"""The `compat` profile: aiHelpDesk's Go scoring, reproduced for comparison only.

0.5 × keyword any-of hit + 0.3 × category-word overlap + 0.2 × tool evidence, all read
from the answer text by case-insensitive substring search, as the Go evaluator does;
pass at score ≥ 0.6 with a keyword hit. It is easy to fool; `strict` is the verdict.
"""

from __future__ import annotations

from faulttest.catalog.models import FailureMode
from faulttest.evaluate.model import Component, Evaluation
from helpdesk.result import AgentResult
from helpdesk.taxonomy import words

WEIGHTS = {"keywords": 0.5, "category": 0.3, "tool_evidence": 0.2}
PASS_SCORE = 0.6
MIN_CATEGORY_OVERLAP = 0.5  # Go credits the category words only from half of them upwards

# Text that the Go evaluator takes as a sign that a tool ran: the tool's name or words its
# output typically contains. Tools not listed are never found (Go skips unknown tools too).
TOOL_TEXT: dict[str, tuple[str, ...]] = {
    "check_connection": ("check_connection", "connection", "reachable", "refused"),
    "get_database_info": ("get_database_info", "server_version", "version", "postgresql"),
    "get_active_connections": (
        "get_active_connections",
        "pg_stat_activity",
        "active",
        "idle",
        "pid",
    ),
    "get_connection_stats": (
        "get_connection_stats",
        "max_connections",
        "connections",
        "numbackends",
    ),
    "get_database_stats": ("get_database_stats", "blks_hit", "blks_read", "cache hit", "hit ratio"),
    "get_config_parameter": ("get_config_parameter", "setting", "parameter", "configuration"),
    "get_replication_status": ("get_replication_status", "replication", "replay", "standby", "lag"),
    "get_lock_info": ("get_lock_info", "pg_locks", "lock", "granted", "blocked", "waiting"),
    "get_table_stats": ("get_table_stats", "n_dead_tup", "dead tuples", "autovacuum", "vacuum"),
    "get_session_info": ("get_session_info", "session", "pid", "state"),
    "get_blocking_queries": ("get_blocking_queries", "blocking", "blocked"),
    "get_vacuum_status": ("get_vacuum_status", "last_autovacuum", "vacuum"),
    "get_disk_usage": ("get_disk_usage", "database size", "pg_database_size"),
    "get_slow_queries": ("get_slow_queries", "pg_stat_statements", "mean_exec_time"),
    "get_role_info": ("get_role_info", "rolconnlimit", "connection limit", "role"),
    "get_sequence_usage": ("get_sequence_usage", "sequence", "last_value"),
    "read_server_log": ("read_server_log", "log", "fatal", "error"),
    "get_pods": ("get_pods", "pod", "running", "pending", "crashloopbackoff"),
    "get_service": ("get_service", "clusterip", "service"),
    "get_endpoints": ("get_endpoints", "endpoint", "address"),
    "get_events": ("get_events", "event", "warning", "backoff"),
    "describe_pod": ("describe_pod", "conditions", "container", "restart"),
}


def _keyword_component(failure: FailureMode, lower: str) -> Component:
    any_of = failure.evaluation.expected_keywords.any_of
    if not any_of:
        return Component(name="keywords", passed=True, score=1.0, reason="no keywords expected")
    hit = next((k for k in any_of if k.lower() in lower), None)
    reason = f"substring {hit!r} found" if hit else f"none of {any_of} found"
    return Component(
        name="keywords", passed=hit is not None, score=1.0 if hit else 0.0, reason=reason
    )


def _category_component(failure: FailureMode, lower: str) -> Component:
    expected = failure.evaluation.expected_diagnosis
    if expected is None:
        return Component(name="category", passed=True, score=1.0, reason="no category expected")
    parts = words(expected.category)
    present = [w for w in parts if w.lower() in lower]
    ratio = len(present) / len(parts)
    passed = ratio >= MIN_CATEGORY_OVERLAP
    reason = f"{len(present)}/{len(parts)} words of {expected.category!r} in the text"
    return Component(name="category", passed=passed, score=ratio if passed else 0.0, reason=reason)


def _tool_component(failure: FailureMode, lower: str) -> Component:
    expected = failure.evaluation.expected_tools
    if not expected:
        return Component(name="tool_evidence", passed=True, score=1.0, reason="no tools expected")
    seen = [t for t in expected if any(p in lower for p in TOOL_TEXT.get(t, ()))]
    score = len(seen) / len(expected)
    reason = f"{len(seen)}/{len(expected)} tools evidenced by words in the text: {seen or 'none'}"
    return Component(name="tool_evidence", passed=score > 0.5, score=score, reason=reason)


def evaluate(failure: FailureMode, result: AgentResult, *, prompt: str | None = None) -> Evaluation:
    """Score like the Go evaluator: from `result.text` alone (`prompt` is ignored, as Go does)."""
    del prompt
    lower = result.text.lower()
    components = [
        _keyword_component(failure, lower),
        _category_component(failure, lower),
        _tool_component(failure, lower),
    ]
    for index, component in enumerate(components):
        components[index] = component.model_copy(
            update={"weight": WEIGHTS[component.name], "mandatory": component.name == "keywords"}
        )
    score = round(sum(c.weight * c.score for c in components), 4)
    keyword_hit = components[0].passed
    return Evaluation(
        profile="compat",
        failure_id=failure.id,
        passed=score >= PASS_SCORE and keyword_hit,
        score=score,
        category=failure.evaluation.expected_diagnosis.category
        if components[1].passed and failure.evaluation.expected_diagnosis
        else None,
        category_source="inferred" if components[1].passed else "none",
        components=components,
    )
