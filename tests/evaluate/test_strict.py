"""The strict profile, component by component, on a hand-written failure mode."""

from __future__ import annotations

import pytest

from faulttest.catalog.models import FailureMode
from faulttest.evaluate import evaluate
from faulttest.evaluate.model import JudgeRecord
from faulttest.evaluate.strict import StrictPolicy
from faulttest.evaluate.strict import evaluate as strict_evaluate
from helpdesk.result import AgentResult, Diagnosis, ToolCall

FAULT = FailureMode.model_validate(
    {
        "id": "db-table-bloat",
        "name": "Table bloat / dead tuples",
        "category": "database",
        "severity": "medium",
        "prompt": "Queries on the orders database got slow and the disk keeps growing. "
        "Connection: {{connection_string}}. What is wrong?",
        "evaluation": {
            "expected_tools": ["get_table_stats", "get_vacuum_status"],
            "expected_keywords": {"any_of": ["disk", "dead tuples", "vacuum"]},
            "expected_diagnosis": {"category": "table_bloat"},
            "must_cite": ["faulttest_bloat"],
            "forbidden": ["missing_index", "add an index"],
            "narrative": "faulttest_bloat holds ~90000 dead tuples; autovacuum is off on it.",
        },
    }
)
PROMPT = FAULT.render_prompt({"connection_string": "host=127.0.0.1 dbname=testdb password=pw"})
GOOD_TEXT = (
    "Root cause: table bloat. faulttest_bloat has 90000 dead tuples and 10000 live ones; "
    "autovacuum is disabled on it. Run VACUUM (FULL, ANALYZE) faulttest_bloat."
)


def calls(*tools: str, ok: bool = True) -> list[ToolCall]:
    return [ToolCall(agent="db", tool=t, ok=ok, error=None if ok else "boom") for t in tools]


def good(**changes) -> AgentResult:
    result = AgentResult(
        text=GOOD_TEXT,
        diagnosis=Diagnosis(category="table_bloat", evidence=["faulttest_bloat: 90000 dead"]),
        tool_calls=calls("get_table_stats", "get_vacuum_status"),
    )
    return result.model_copy(update=changes)


def score(result: AgentResult, **kwargs):
    return strict_evaluate(FAULT, result, prompt=PROMPT, **kwargs)


def test_good_answer_passes_with_full_score() -> None:
    evaluation = score(good())
    assert evaluation.passed, evaluation.failed_reasons()
    assert evaluation.score == 1.0
    assert evaluation.keyword_pass and evaluation.diagnosis_pass and evaluation.tool_evidence


def test_keyword_given_away_by_the_prompt_earns_nothing() -> None:
    result = good(text="Root cause: table bloat in faulttest_bloat; the disk grows.")
    component = score(result).component("keywords")
    assert not component.passed
    assert "'disk'" in component.reason and "earn nothing" in component.reason


def test_keyword_must_be_a_whole_word() -> None:
    result = good(text="Root cause: table bloat in faulttest_bloat; autovacuum off; deadtuples.")
    assert not score(result).keyword_pass


def test_all_keywords_in_prompt_make_the_component_not_applicable() -> None:
    fault = FAULT.model_copy(deep=True)
    fault.evaluation.expected_keywords.any_of = ["disk"]
    component = strict_evaluate(fault, good(), prompt=PROMPT).component("keywords")
    assert component.passed and not component.applicable and component.weight == 0.0


def test_tool_names_in_words_are_not_evidence() -> None:
    result = good(text=GOOD_TEXT + " I ran get_table_stats and get_vacuum_status.", tool_calls=[])
    evaluation = score(result)
    assert not evaluation.tool_evidence
    assert not evaluation.passed


def test_failed_tool_calls_do_not_count() -> None:
    result = good(tool_calls=calls("get_table_stats", "get_vacuum_status", ok=False))
    component = score(result).component("tool_evidence")
    assert not component.passed
    assert "failed calls do not count" in component.reason


def test_half_the_expected_tools_is_enough_by_default_but_policy_can_require_all() -> None:
    result = good(tool_calls=calls("get_table_stats"))
    assert score(result).tool_evidence
    assert not score(result, policy=StrictPolicy(min_tool_fraction=1.0)).tool_evidence


def test_must_cite_from_text_or_evidence() -> None:
    no_fact_text = good(text="Root cause: table bloat, 90000 dead tuples, run VACUUM.")
    assert score(no_fact_text).component("must_cite").passed  # the evidence list names it
    neither = no_fact_text.model_copy(
        update={"diagnosis": Diagnosis(category="table_bloat", evidence=["90000 dead"])}
    )
    component = score(neither).component("must_cite")
    assert not component.passed and "faulttest_bloat" in component.reason


def test_contributing_category_does_not_replace_the_primary() -> None:
    result = good(diagnosis=Diagnosis(category="disk_pressure", contributing=["table_bloat"]))
    evaluation = score(result)
    assert not evaluation.passed
    assert "only contributing" in evaluation.component("category").reason


@pytest.mark.parametrize("where", ["primary", "contributing"])
def test_forbidden_category_fails(where) -> None:
    diagnosis = (
        Diagnosis(category="missing_index")
        if where == "primary"
        else Diagnosis(category="table_bloat", contributing=["missing_index"])
    )
    evaluation = score(good(diagnosis=diagnosis))
    assert not evaluation.component("forbidden").passed
    assert not evaluation.passed and evaluation.score == 0.0


def test_forbidden_claim_fails() -> None:
    evaluation = score(good(text=GOOD_TEXT + " Also add an index on orders."))
    assert not evaluation.component("forbidden").passed
    assert not evaluation.passed


def test_text_only_category_is_inferred_by_rule() -> None:
    result = AgentResult.text_only(GOOD_TEXT).model_copy(
        update={"tool_calls": calls("get_table_stats", "get_vacuum_status")}
    )
    evaluation = score(result)
    assert evaluation.category == "table_bloat"
    assert evaluation.category_source == "inferred"
    assert evaluation.passed, evaluation.failed_reasons()


def test_text_only_without_tool_calls_fails() -> None:
    evaluation = score(AgentResult.text_only(GOOD_TEXT))
    assert not evaluation.passed
    assert "no tool calls recorded" in evaluation.component("tool_evidence").reason


def test_text_only_uses_the_judge_category_when_judged() -> None:
    judge = JudgeRecord(
        score=0.9,
        passed=True,
        category="disk_pressure",
        model="m",
        rubric_version="r",
        reasoning="x",
    )
    result = AgentResult.text_only(GOOD_TEXT).model_copy(
        update={"tool_calls": calls("get_table_stats")}
    )
    evaluation = score(result, judge=judge)
    assert evaluation.category_source == "judge"
    assert evaluation.category == "disk_pressure"
    assert not evaluation.passed


def test_a_failing_judge_fails_the_answer() -> None:
    judge = JudgeRecord(score=0.3, passed=False, model="m", rubric_version="r", reasoning="thin")
    evaluation = score(good(), judge=judge)
    assert not evaluation.passed
    assert evaluation.judge == judge
    assert not evaluation.component("judge").passed
    assert 0.0 < evaluation.score < 1.0


def test_empty_answer_fails() -> None:
    evaluation = score(AgentResult.text_only(""))
    assert not evaluation.passed and evaluation.score == 0.0


def test_structured_shotgun_through_contributing_fails() -> None:
    many = ["disk_pressure", "missing_index", "cache_performance", "deadlock", "read_only"]
    evaluation = score(good(diagnosis=Diagnosis(category="table_bloat", contributing=many)))
    assert not evaluation.component("not_shotgun").passed


def test_a_thorough_answer_ruling_out_a_few_categories_is_not_a_shotgun() -> None:
    text = GOOD_TEXT + " Ruled out: replication lag, lock blocking, connection exhaustion."
    assert score(good(text=text)).passed


def test_scores_stay_in_range_and_dispatch_works() -> None:
    for result in (good(), AgentResult.text_only("nothing"), AgentResult.text_only(PROMPT)):
        for profile in ("strict", "compat"):
            evaluation = evaluate(FAULT, result, profile=profile, prompt=PROMPT)
            assert 0.0 <= evaluation.score <= 1.0
            assert evaluation.profile == profile
    with pytest.raises(ValueError, match="unknown evaluation profile"):
        evaluate(FAULT, good(), profile="lenient")  # type: ignore[arg-type]
