"""Rule-based synthesis: the primary root cause, merged evidence, named traces, summed usage."""

from __future__ import annotations

from helpdesk.orchestrator import Delegation, merge_diagnoses, synthesize
from helpdesk.orchestrator.discovery import DATABASE, K8S
from helpdesk.result import AgentResult, Diagnosis, ModelInfo, ToolCall, Usage


def _result(category: str | None, agent: str, confidence: float = 0.8, tools=("t",)) -> AgentResult:
    diagnosis = (
        Diagnosis(
            category=category,
            summary=f"{category} seen",
            confidence=confidence,
            evidence=[f"{agent}: {category}"],
            recommended_actions=[f"fix {category}"],
        )
        if category
        else None
    )
    return AgentResult(
        text=f"{agent} says {category}",
        diagnosis=diagnosis,
        tool_calls=[ToolCall(tool=t) for t in tools],
        usage=Usage(llm_calls=1, input_tokens=10, output_tokens=5),
    )


def _db(category, **kw) -> Delegation:
    return Delegation("postgres_database_agent", DATABASE, result=_result(category, "db", **kw))


def _k8s(category, **kw) -> Delegation:
    return Delegation("k8s_agent", K8S, result=_result(category, "k8s", **kw))


def test_refused_database_with_crashing_pods_is_compound_crash() -> None:
    merged = merge_diagnoses([_db("connection_refused"), _k8s("pod_crash_loop")])
    assert merged is not None and merged.category == "compound_crash"
    assert merged.contributing == ["pod_crash_loop", "connection_refused"]
    assert merged.evidence == ["k8s: pod_crash_loop", "db: connection_refused"]


def test_refused_database_with_service_without_endpoints_is_compound_no_endpoints() -> None:
    for cause in ("no_endpoints", "scaled_to_zero", "pod_unschedulable", "image_pull_failure"):
        merged = merge_diagnoses([_db("connection_refused"), _k8s(cause)])
        assert merged is not None and merged.category == "compound_no_endpoints", cause


def test_unrelated_problems_are_not_compound() -> None:
    merged = merge_diagnoses(
        [_db("table_bloat", confidence=0.9), _k8s("pod_crash_loop", confidence=0.6)]
    )
    assert merged is not None and merged.category == "table_bloat"
    assert merged.contributing == ["pod_crash_loop"]
    only_k8s = merge_diagnoses([_k8s("pod_crash_loop")])
    assert only_k8s is not None and only_k8s.category == "pod_crash_loop"


def test_a_problem_beats_healthy_and_nothing_gives_none() -> None:
    merged = merge_diagnoses([_db("healthy", confidence=0.95), _k8s("oom_killed", confidence=0.5)])
    assert merged is not None and merged.category == "oom_killed"
    assert merge_diagnoses([_db(None), Delegation("k8s_agent", K8S, error="down")]) is None


def test_synthesis_names_every_call_and_sums_usage() -> None:
    down = Delegation("incident_agent", "incident", url="http://x", error="unreachable")
    result = synthesize(
        [_db("connection_refused", tools=("a", "b")), _k8s("pod_crash_loop", tools=("c",)), down],
        ModelInfo(vendor="builtin", name="rules"),
        notes=["something was not checked"],
    )
    assert [(c.agent, c.tool) for c in result.tool_calls] == [
        ("postgres_database_agent", "a"),
        ("postgres_database_agent", "b"),
        ("k8s_agent", "c"),
    ]
    assert result.usage == Usage(llm_calls=2, input_tokens=20, output_tokens=10)
    assert result.diagnosis is not None and result.diagnosis.category == "compound_crash"
    assert result.text.startswith("## Investigation Summary")
    assert "Could not answer: unreachable" in result.text
    assert "something was not checked" in result.text
    assert [a["ok"] for a in result.model_extra["agents"]] == [True, True, False]
