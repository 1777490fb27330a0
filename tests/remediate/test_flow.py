"""The remediation step on the real lab with a scripted agent: honesty check, polling, scoring.

The "agent" here is a plain function that really changes (or does not change) the lab, so
the recovery probes, the timing and the verdicts are measured, not assumed.
"""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from faulttest.catalog.models import FailureMode
from faulttest.evaluate.judge import RubricJudge
from faulttest.evaluate.model import Evaluation
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal
from faulttest.remediate import fold_into, remediate
from faulttest.remediate.guidance import judge_advice
from faulttest.report.models import FaultResult, Status
from faulttest.targets import LabTarget
from helpdesk.result import AgentResult, Diagnosis, ToolCall

pytestmark = pytest.mark.lab


def fault(table: str, recovery: str, **remediation: object) -> FailureMode:
    """A fault that creates `table` (with a flag row); recovery is checked by `recovery`."""
    return FailureMode.model_validate(
        {
            "id": f"rem-{table}",
            "name": "remediation test fault",
            "category": "database",
            "severity": "low",
            "owns": {"tables": [table]},
            "inject": {
                "type": "sql",
                "script_inline": f"CREATE TABLE {table} (broken bool); "
                f"INSERT INTO {table} VALUES (true)",
            },
            "verify": {"type": "sql", "query": f"SELECT EXISTS (SELECT FROM {table})"},
            "prompt": "something is wrong at {{connection_string}}",
            "remediation": {
                "allowed_tools": ["repair_flag"],
                "recovery": {"type": "sql", "query": recovery.format(table=table)},
                **remediation,
            },
        }
    )


@pytest.fixture
def injector(lab, tmp_path) -> Injector:  # type: ignore[no-untyped-def]
    return Injector(LabTarget(lab), Journal(tmp_path))


@pytest.fixture
def table() -> str:
    return f"hdt_rem_{uuid.uuid4().hex[:8]}"


def agent_that(dsn: str, statement: str | None, tool: str, delay: float = 0.0):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def ask(prompt: str) -> AgentResult:
        asked.append(prompt)
        if statement is not None:
            time.sleep(delay)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(statement)
        calls = [ToolCall(tool=tool, args={"connection_string": dsn}, ok=True)]
        return AgentResult(text="fixed", tool_calls=calls if statement else [])

    return ask, asked


def passed_result() -> FaultResult:
    evaluation = Evaluation(profile="strict", failure_id="x", passed=True, score=1.0)
    return FaultResult.scored(
        failure_id="x", failure_name="x", category="database",
        evaluation=evaluation, agent_result=AgentResult(text="diagnosis"),
    )  # fmt: skip


def test_a_real_fix_is_measured_until_the_recovery_check_holds(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)")
    injection = injector.inject(failure)
    try:
        ask, asked = agent_that(lab.info.dsn, f"UPDATE {table} SET broken = false", "repair_flag",
                                delay=0.3)  # fmt: skip
        diagnosis = AgentResult(text="d", diagnosis=Diagnosis(category="healthy", summary="s"))
        result = remediate(failure, injector, injection, injection.prompt, diagnosis, ask)
        assert result.recovery_held_before is False and result.recovered, result
        assert 0.3 <= result.time_to_recover < 5 and result.score == 1.0
        assert result.actions == ["repair_flag(): ok"] and result.disallowed_actions == []
        assert "authorised" in asked[0] and "repair_flag" in asked[0]
        assert injection.prompt.strip() in asked[0]
    finally:
        injector.teardown(failure)


def test_an_agent_that_changes_nothing_is_not_recovered(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)", timeout=1)
    injection = injector.inject(failure)
    try:
        ask, _ = agent_that(lab.info.dsn, None, "repair_flag")
        result = remediate(failure, injector, injection, injection.prompt, None, ask)
        assert not result.recovered and not result.attempted and result.score == 0.0
        assert result.duration >= 1.0 and result.time_to_recover is None
        folded = fold_into(passed_result(), result)
        assert folded.status is Status.FAILED and "not recovered within" in folded.reason
    finally:
        injector.teardown(failure)


def test_a_fix_with_a_tool_the_fault_does_not_allow_scores_less(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)")
    injection = injector.inject(failure)
    try:
        ask, _ = agent_that(lab.info.dsn, f"DELETE FROM {table}", "run_vacuum")
        result = remediate(failure, injector, injection, injection.prompt, None, ask)
        assert result.recovered and result.disallowed_actions == ["run_vacuum"]
        assert result.score == 0.5
    finally:
        injector.teardown(failure)


def test_a_recovery_check_that_holds_before_the_fix_flags_the_fault_broken(
    lab, injector, table
) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT true")  # holds whatever the state: a broken definition
    injection = injector.inject(failure)
    try:
        ask, asked = agent_that(lab.info.dsn, None, "repair_flag")
        result = remediate(failure, injector, injection, injection.prompt, None, ask)
        assert result.recovery_held_before is True and not result.recovered
        assert "fault definition is broken" in (result.error or "")
        assert asked == []  # the agent was never asked
        folded = fold_into(passed_result(), result)
        assert folded.status is Status.ERROR and "remediation error" in (folded.error or "")
    finally:
        injector.teardown(failure)


def test_guidance_only_advice_is_judged_by_rule() -> None:
    refused = FailureMode.model_validate(
        {
            "id": "g", "name": "g", "category": "database", "severity": "low",
            "prompt": "p", "inject": {"type": "sql", "script_inline": "SELECT 1"},
            "evaluation": {"expected_diagnosis": {"category": "connection_refused"}},
            "remediation": {"guidance_only": True},
        }
    )  # fmt: skip
    good = AgentResult(text="Start the PostgreSQL server with pg_ctl start and read its log.")
    vague = AgentResult(text="The connection was refused. Please look into it.")
    assert judge_advice(refused, good)[0] is True
    assert judge_advice(refused, vague)[0] is False


def test_a_fault_gone_before_the_request_is_not_credited(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)")
    injection = injector.inject(failure)
    try:
        assert failure.remediation is not None
        after_injection = injector.check(failure.remediation.recovery, injection.agent_dsn)
        assert not after_injection.held
        with psycopg.connect(lab.info.dsn, autocommit=True) as conn:  # changed while diagnosing
            conn.execute(f"UPDATE {table} SET broken = false")
        ask, asked = agent_that(lab.info.dsn, None, "repair_flag")
        result = remediate(
            failure, injector, injection, injection.prompt, None, ask,
            after_injection=after_injection,
        )  # fmt: skip
        assert result.recovery_held_before is False and not result.recovered
        assert "gone before the remediation request" in (result.error or "") and asked == []
    finally:
        injector.teardown(failure)


def scripted_judge(reply: str) -> RubricJudge:
    """The real rubric judge over a scripted completion (the LLM is the only double)."""
    seen: list[tuple[str, str]] = []

    def complete(system: str, user: str) -> str:
        seen.append((system, user))
        return reply

    judge = RubricJudge(complete, model="scripted")
    judge.seen = seen  # type: ignore[attr-defined]
    return judge


def test_with_judge_the_approach_is_graded_too(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)")
    injection = injector.inject(failure)
    try:
        ask, _ = agent_that(lab.info.dsn, f"UPDATE {table} SET broken = false", "repair_flag")
        judge = scripted_judge('{"score": 0.2, "category": null, "reasoning": "No inspection."}')
        result = remediate(failure, injector, injection, injection.prompt, None, ask, judge=judge)
        assert result.recovered and result.judge is not None and not result.judge.passed
        assert result.score == 0.2 and not result.passed and "judge failed" in result.reason
        system, user = judge.seen[0]  # type: ignore[attr-defined]
        assert "FIX" in system and "repair_flag" in user and "recover: yes" in user
        assert "testpass" not in user
    finally:
        injector.teardown(failure)


def test_a_judge_that_cannot_answer_is_an_error(lab, injector, table) -> None:  # type: ignore[no-untyped-def]
    failure = fault(table, "SELECT NOT EXISTS (SELECT FROM {table} WHERE broken)")
    injection = injector.inject(failure)
    try:
        ask, _ = agent_that(lab.info.dsn, f"UPDATE {table} SET broken = false", "repair_flag")
        judge = scripted_judge("I think it was fine")
        result = remediate(failure, injector, injection, injection.prompt, None, ask, judge=judge)
        assert result.recovered and "judge error" in (result.error or "") and not result.passed
    finally:
        injector.teardown(failure)
