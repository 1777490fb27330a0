"""`faulttest run --judge`: the rubric judge asked through a real OpenAI SDK client against a
scripted fake of the OpenAI API; the agent is the real built-in database agent over A2A."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from faulttest.lab import Lab
from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.database.agent import DatabaseAgent
from tests.fakes.llm_server import ScriptedLLMServer
from tests.fakes.openai_api import OpenAIFake
from tests.run.conftest import faulttest, leftovers, only_report


@pytest.fixture(scope="module")
def builtin_db_agent() -> Iterator[ServedAgent]:
    served = serve_in_thread(DatabaseAgent())
    yield served
    served.stop()


def _judged_run(
    verdict: str, home: Path, cwd: Path, agent: ServedAgent
) -> tuple[object, ScriptedLLMServer]:
    fake = OpenAIFake()
    server = ScriptedLLMServer(
        [fake.text_turn(verdict)],
        validator=fake.validate,
        forbidden=("testpass",),
        error_body=fake.error_body,
    )
    with server:
        env = {
            "HELPDESK_MODEL_VENDOR": "openai",
            "HELPDESK_MODEL_NAME": fake.model,
            "HELPDESK_API_KEY": "sk-fake-judge-key",
            "HELPDESK_MODEL_BASE_URL": server.url + "/v1",
        }
        done = faulttest(
            "run", "--ids", "db-table-bloat", "--judge", "--db-agent", agent.url,
            home=home, cwd=cwd, env=env,
        )  # fmt: skip
    return done, server


def test_the_judge_grades_the_answer_and_is_recorded(
    lab: Lab, faulttest_home: Path, tmp_path: Path, builtin_db_agent: ServedAgent
) -> None:
    verdict = json.dumps(
        {
            "score": 0.9,
            "category": "table_bloat",
            "reasoning": "Names faulttest_bloat and its dead tuples, seen by get_table_stats.",
        }
    )
    done, server = _judged_run(verdict, faulttest_home, tmp_path, builtin_db_agent)
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    assert not server.violations and not server.problems, server.violations + server.problems
    (request,) = server.model_requests
    body = request.json
    assert "tools" not in body, "the judge is offered no tools"
    sent = json.dumps(body)
    assert "faulttest_bloat" in sent and "get_table_stats" in sent, "answer and transcript"
    assert "autovacuum" in sent, "the expected narrative"
    report = only_report(tmp_path)
    result = report["results"][0]
    assert result["status"] == "passed"
    judge = result["judge"]
    assert judge["model"] == "openai/gpt-4.1-mini" and judge["score"] == 0.9
    assert judge["rubric_version"] and "faulttest_bloat" in judge["reasoning"]
    assert report["environment"]["judge_model"] == "openai/gpt-4.1-mini"
    assert report["environment"]["model"].startswith("builtin")
    assert not leftovers(lab)


def test_a_low_judge_score_fails_the_fault(
    lab: Lab, faulttest_home: Path, tmp_path: Path, builtin_db_agent: ServedAgent
) -> None:
    verdict = json.dumps(
        {"score": 0.2, "category": "table_bloat", "reasoning": "Evidence is thin and vague."}
    )
    done, _ = _judged_run(verdict, faulttest_home, tmp_path, builtin_db_agent)
    assert done.returncode == 1, done.stdout + done.stderr  # type: ignore[attr-defined]
    result = only_report(tmp_path)["results"][0]
    assert result["status"] == "failed" and result["judge"]["score"] == 0.2


def test_an_unreadable_verdict_is_an_error_never_a_pass(
    lab: Lab, faulttest_home: Path, tmp_path: Path, builtin_db_agent: ServedAgent
) -> None:
    done, _ = _judged_run("Looks fine to me!", faulttest_home, tmp_path, builtin_db_agent)
    assert done.returncode == 1, done.stdout + done.stderr  # type: ignore[attr-defined]
    result = only_report(tmp_path)["results"][0]
    assert result["status"] == "error" and result["error"].startswith("judge error")
    assert result["agent_result"] is not None, "the answer is kept for inspection"
    assert not leftovers(lab)
