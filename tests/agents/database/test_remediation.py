"""The built-in diagnostician fixes what it diagnosed when asked (and allowed), or says who must."""

from __future__ import annotations

import time

import psycopg
import pytest

from helpdesk.agents import approval
from helpdesk.agents.database.agent import DatabaseAgent
from helpdesk.agents.database.diagnostician import remediation
from helpdesk.agents.database.diagnostician.remediation import wants_fix

from .test_mutation_tools import alive, blocked_pair, tagged, untagged  # noqa: F401 (fixtures)

pytestmark = pytest.mark.lab


def mutations(result) -> list:  # type: ignore[no-untyped-def]
    return [c for c in result.tool_calls if (c.model_extra or {}).get("mutation")]


def test_fix_intent() -> None:
    assert wants_fix("Now fix it.") and wants_fix("You are authorised to end sessions")
    assert not wants_fix("Queries hang on the orders table. Please investigate.")


@pytest.mark.usefixtures("tagged")
def test_diagnosis_alone_changes_nothing(lab, admin, sessions, name) -> None:  # type: ignore[no-untyped-def]
    try:
        blocker, _ = blocked_pair(admin, sessions, name)
        result = DatabaseAgent().answer(f"Updates hang on {lab.info.dsn}. Please look.")
        assert result.diagnosis.category in ("idle_in_transaction", "lock_blocking")
        assert mutations(result) == [] and alive(admin, blocker)
        assert "### Remediation" not in result.text
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.usefixtures("tagged")
def test_asked_to_fix_it_ends_the_blocker_on_a_tagged_target(lab, admin, sessions, name) -> None:  # type: ignore[no-untyped-def]
    try:
        blocker, _ = blocked_pair(admin, sessions, name)
        result = DatabaseAgent().answer(f"Updates hang on {lab.info.dsn}. Please fix it.")
        calls = mutations(result)
        assert [c.tool for c in calls] == ["terminate_connection"]
        record = calls[0].model_extra["mutation"]
        assert record["inspection"]["pid"] == blocker and record["outcome"] == "done"
        assert not alive(admin, blocker)
        assert result.model_extra["remediation"]["fixed"] is True
        assert "### Remediation" in result.text and "done and verified" in result.text
        assert "testpass" not in result.model_dump_json()
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.usefixtures("untagged")
def test_asked_to_fix_it_on_an_untagged_target_is_refused_with_guidance(
    lab, admin, sessions, name
) -> None:  # type: ignore[no-untyped-def]
    try:
        blocker, _ = blocked_pair(admin, sessions, name)
        result = DatabaseAgent().answer(f"Updates hang on {lab.info.dsn}. Please fix it.")
        assert [c.model_extra["mutation"]["outcome"] for c in mutations(result)] == ["refused"]
        assert alive(admin, blocker)
        assert "### What a person must do" in result.text and "not allowed" in result.text
        assert result.model_extra["remediation"]["fixed"] is False
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.usefixtures("untagged")
def test_a_stopped_server_gets_plain_guidance(free_tcp_port) -> None:  # type: ignore[no-untyped-def]
    dsn = f"host=127.0.0.1 port={free_tcp_port} dbname=testdb user=postgres password=testpass"
    with approval.grant(dsn):
        result = DatabaseAgent().answer(f"The app cannot reach {dsn}. Fix it.")
    assert result.diagnosis.category == "connection_refused" and mutations(result) == []
    assert "Start the PostgreSQL server" in result.text


@pytest.mark.usefixtures("tagged")
def test_leaked_idle_sessions_are_ended_when_the_agent_can_still_log_in(
    lab, admin, sessions
) -> None:  # type: ignore[no-untyped-def]
    app = "hdtest:database:leaky-pool"
    max_conn = int(admin.execute("SHOW max_connections").fetchone()[0])
    reserved = int(admin.execute("SHOW superuser_reserved_connections").fetchone()[0])
    in_use = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    ).fetchone()[0]
    count = max_conn - reserved - in_use  # every slot an ordinary role may use
    leaked = [psycopg.connect(lab.info.dsn, application_name=app) for _ in range(count)]
    sessions.conns.extend(leaked)
    time.sleep(remediation.IDLE_MIN_SECONDS + 0.5)
    result = DatabaseAgent().answer(
        f"New connections to {lab.info.dsn} are rejected: too many clients. Fix it."
    )
    assert result.diagnosis.category == "connection_exhaustion"
    calls = mutations(result)
    assert [c.tool for c in calls] == ["terminate_idle_connections"]
    record = calls[0].model_extra["mutation"]
    assert record["outcome"] == "done" and record["inspection"]["matched"] == count
    assert record["inspection"]["by_application"] == {app: count}
    assert not any(alive(admin, c.info.backend_pid) for c in leaked)
