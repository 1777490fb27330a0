"""The LLM judge interface: rubric request, verdict parsing, failing closed."""

from __future__ import annotations

import json

import pytest

from faulttest.evaluate.judge import (
    PASS_MARK,
    RUBRIC,
    RUBRIC_VERSION,
    JudgeError,
    JudgeRequest,
    RubricJudge,
    parse_verdict,
    run_judge,
)
from faulttest.evaluate.strict import evaluate
from tests.evaluate.test_strict import FAULT, PROMPT, good


class ScriptedLLM:
    """Returns canned replies and records what it was asked."""

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.asked: list[tuple[str, str]] = []

    def __call__(self, system: str, user: str) -> str:
        self.asked.append((system, user))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def verdict(**fields) -> str:
    body = {"score": 0.9, "category": "table_bloat", "reasoning": "Names the bloated table."}
    body.update(fields)
    return json.dumps(body)


def test_judge_sees_prompt_narrative_answer_and_transcript_masked() -> None:
    llm = ScriptedLLM(verdict())
    record = run_judge(RubricJudge(llm, model="judge-model"), FAULT, good(), PROMPT)
    system, user = llm.asked[0]
    assert system == RUBRIC
    assert "Queries on the orders database" in user
    assert FAULT.evaluation.narrative in user
    assert "faulttest_bloat has 90000 dead tuples" in user
    assert "get_vacuum_status" in user and "-> ok" in user
    assert "password=pw" not in user and "password=****" in user
    assert record.model == "judge-model"
    assert record.rubric_version == RUBRIC_VERSION
    assert record.passed and record.score == 0.9


def test_verdict_in_a_code_fence_parses() -> None:
    record = parse_verdict("```json\n" + verdict(score=0.5) + "\n```", model="m")
    assert record.score == 0.5
    assert not record.passed  # below the pass mark
    assert PASS_MARK > 0.5


def test_explicit_passed_false_is_respected() -> None:
    assert not parse_verdict(verdict(passed=False), model="m").passed


@pytest.mark.parametrize(
    "reply",
    [
        "I think it is fine.",
        "{not json}",
        "[1, 2]",
        verdict(score=1.5),
        verdict(score=True),
        verdict(score="0.9"),
        verdict(reasoning=""),
        verdict(category="made_up"),
    ],
)
def test_unusable_verdicts_fail_closed(reply) -> None:
    with pytest.raises(JudgeError):
        parse_verdict(reply, model="m")


def test_client_failure_is_a_judge_error_with_masked_message() -> None:
    llm = ScriptedLLM(ConnectionError("cannot reach host=x password=secret"))
    with pytest.raises(JudgeError) as caught:
        run_judge(RubricJudge(llm, model="m"), FAULT, good(), PROMPT)
    assert "secret" not in str(caught.value)


def test_judge_record_flows_into_the_strict_evaluation() -> None:
    record = RubricJudge(ScriptedLLM(verdict()), model="m").judge(
        JudgeRequest.build(FAULT, good(), PROMPT)
    )
    evaluation = evaluate(FAULT, good(), prompt=PROMPT, judge=record)
    assert evaluation.passed
    assert evaluation.judge is not None and evaluation.judge.reasoning == "Names the bloated table."
