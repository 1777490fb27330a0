"""Delegation across real A2A servers with built-in routing and synthesis.

The database agent is the real one (its diagnoses come from real connection attempts and
the lab), the k8s agent the real one against a fake API server in a crash-loop state.
"""

from __future__ import annotations

import json
import logging

import pytest

from helpdesk.a2a.client import ask_sync
from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.orchestrator import build_orchestrator
from tests.orchestrator.conftest import logfmt_lines
from tests.orchestrator.experts import CONTEXT, NAMESPACE

pytestmark = pytest.mark.lab

COMPOUND = (
    "Our application cannot reach its PostgreSQL database at all. The connection string is "
    "`{dsn}`; the database runs in Kubernetes (context `{ctx}`, namespace {ns}). Please "
    "investigate both the database connectivity and the Kubernetes side."
)


@pytest.fixture
def orchestrator(experts):
    return build_orchestrator(env={}, urls=experts.urls)


def _agents(result) -> set[str]:
    return {c.agent for c in result.tool_calls}


def test_database_problem_goes_to_the_database_agent(orchestrator, lab) -> None:
    dsn = lab.info.dsn.replace("dbname=testdb", "dbname=no_such_db")
    result = orchestrator.answer(f"Users get errors connecting to {dsn} since this morning.")
    assert result.diagnosis is not None
    assert result.diagnosis.category == "database_not_found"
    assert _agents(result) == {"postgres_database_agent"}
    assert [a["agent"] for a in result.model_extra["agents"]] == ["postgres_database_agent"]
    assert lab.info.password not in result.model_dump_json()


def test_pods_message_goes_to_the_k8s_agent(orchestrator) -> None:
    result = orchestrator.answer(
        f"The ledger-api pods in namespace {NAMESPACE} (context `{CONTEXT}`) keep restarting."
    )
    assert result.diagnosis is not None
    assert result.diagnosis.category == "pod_crash_loop"
    assert _agents(result) == {"k8s_agent"}
    assert "get_pods" in {c.tool for c in result.tool_calls}


def test_compound_problem_goes_to_both_and_is_synthesised(orchestrator, refused_dsn, lab) -> None:
    result = orchestrator.answer(COMPOUND.format(dsn=refused_dsn, ctx=CONTEXT, ns=NAMESPACE))
    diagnosis = result.diagnosis
    assert diagnosis is not None
    assert diagnosis.category == "compound_crash"
    assert {"pod_crash_loop", "connection_refused"} <= set(diagnosis.contributing)
    assert _agents(result) == {"postgres_database_agent", "k8s_agent"}
    by_agent = {c.tool: c.agent for c in result.tool_calls}
    assert by_agent["check_connection"] == "postgres_database_agent"
    assert by_agent["get_pods"] == "k8s_agent"
    assert "### postgres_database_agent" in result.text and "### k8s_agent" in result.text
    assert lab.info.password not in result.model_dump_json()


def test_agents_down_are_reported_not_fatal(experts, dead_url, refused_dsn) -> None:
    orchestrator = build_orchestrator(env={}, urls=[experts.database.url, dead_url])
    result = orchestrator.answer(COMPOUND.format(dsn=refused_dsn, ctx=CONTEXT, ns=NAMESPACE))
    assert result.diagnosis is not None and result.diagnosis.category == "connection_refused"
    assert "k8s_agent" in result.text and "unavailable" in result.text
    assert _agents(result) == {"postgres_database_agent"}

    nobody = build_orchestrator(env={}, urls=[dead_url])
    alone = nobody.answer("why are the pods in namespace shop restarting?")
    assert alone.diagnosis is None
    assert "No expert agent reached a diagnosis" in alone.text
    assert "k8s_agent" in alone.text


def test_agent_that_stops_mid_session_becomes_an_error_not_a_crash(lab, tmp_path) -> None:
    from helpdesk.agents.database.agent import DatabaseAgent

    served = serve_in_thread(DatabaseAgent())
    orchestrator = build_orchestrator(env={}, urls=[served.url])
    served.stop()
    result = orchestrator.answer(f"is {lab.info.dsn} healthy?")
    assert result.diagnosis is None
    assert result.model_extra["agents"][0]["ok"] is False
    assert "Could not answer" in result.text


def test_alias_resolves_and_password_stays_out_of_logs(
    experts, lab, tmp_infra, monkeypatch, caplog
) -> None:
    masked = lab.info.dsn.replace(f"password={lab.info.password}", "").strip()
    tmp_infra.write_text(
        json.dumps(
            {
                "db_servers": {
                    "faulttest-db": {
                        "connection_string": masked,
                        "password_env": "ORCH_TEST_DB_PASSWORD",
                        "tags": ["test"],
                    }
                }
            }
        )
    )
    monkeypatch.setenv("ORCH_TEST_DB_PASSWORD", lab.info.password)
    monkeypatch.delenv("HELPDESK_INFRA_CONFIG", raising=False)  # the expert does not know it
    caplog.set_level(logging.INFO)
    orchestrator = build_orchestrator(
        env={"HELPDESK_INFRA_CONFIG": str(tmp_infra)}, urls=[experts.database.url]
    )
    result = orchestrator.answer("Please check faulttest-db, the app reports database errors.")
    checks = [c for c in result.tool_calls if c.tool == "check_connection"]
    assert checks and checks[0].ok, "the alias did not reach the expert as a working DSN"
    assert "password=****" in checks[0].args["connection_string"]
    assert lab.info.password not in "\n".join(logfmt_lines(caplog))
    assert lab.info.password not in result.model_dump_json()


def test_orchestrator_is_an_a2a_agent(orchestrator, refused_dsn, lab) -> None:
    with serve_in_thread(orchestrator) as served:
        result = ask_sync(
            served.url, COMPOUND.format(dsn=refused_dsn, ctx=CONTEXT, ns=NAMESPACE), timeout=60
        )
    assert result.diagnosis is not None and result.diagnosis.category == "compound_crash"
    assert _agents(result) == {"postgres_database_agent", "k8s_agent"}
    assert lab.info.password not in result.model_dump_json()
