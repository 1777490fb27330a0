"""Each mutation tool against the real lab: effect, both verification levels, refusal, approval."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from helpdesk.agents import approval
from helpdesk.result import ToolCall

from .conftest import TEST_APP, execute, with_params

pytestmark = pytest.mark.lab


@pytest.fixture
def untagged(monkeypatch):
    monkeypatch.delenv("HELPDESK_INFRA_CONFIG", raising=False)
    monkeypatch.delenv(approval.ENV_VAR, raising=False)


@pytest.fixture
def tagged(lab, tmp_path, monkeypatch):
    """The lab's primary and replica registered with a `test` tag in the infrastructure config."""
    config = {
        "db_servers": {
            "lab-primary": {
                "connection_string": with_params(lab.info.dsn, password=""),
                "tags": ["test"],
            },
            "lab-replica": {
                "connection_string": with_params(lab.info.replica_dsn, password=""),
                "tags": ["chaos"],
            },
        }
    }
    path = tmp_path / "infrastructure.json"
    path.write_text(json.dumps(config))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(path))
    monkeypatch.delenv(approval.ENV_VAR, raising=False)


def mutate(registry, tool: str, dsn: str, **args):
    trace: list[ToolCall] = []
    out = registry.call(tool, {"connection_string": dsn, **args}, trace)
    assert registry.get(tool).mutating
    record = trace[0].model_dump()["mutation"]  # inspection, decision, verification in the trace
    assert record == out.data["mutation"]
    assert "testpass" not in out.text and "testpass" not in json.dumps(record)
    return out, record


def alive(admin, pid: int) -> bool:
    return bool(admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone())


def wait_for(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def blocked_pair(admin, sessions, name):
    admin.execute(f"CREATE TABLE {name} (id int primary key, v int)")
    admin.execute(f"INSERT INTO {name} VALUES (1, 0)")
    blocker = sessions.open()
    blocker.execute(f"UPDATE {name} SET v = 1 WHERE id = 1")
    waiter = sessions.open()
    sessions.in_background(waiter, f"UPDATE {name} SET v = 2 WHERE id = 1")
    assert wait_for(
        lambda: admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (blocker.info.backend_pid,),
        ).fetchone()
    )
    return blocker.info.backend_pid, waiter.info.backend_pid


def test_refused_on_an_untagged_target(lab, registry, admin, sessions, name, untagged):
    try:
        blocker, _ = blocked_pair(admin, sessions, name)
        out, record = mutate(registry, "terminate_connection", lab.info.dsn, pid=blocker)
        assert not out.ok and record["outcome"] == "refused"
        assert "not registered as a test/chaos system" in out.text
        assert record["inspection"]["has_writes"] and record["inspection"]["blocking"] == 1
        assert record["decision"]["allowed"] is False and record["action"] is None
        assert alive(admin, blocker)
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_terminate_connection_releases_the_waiter(lab, registry, admin, sessions, name, tagged):
    try:
        blocker, waiter = blocked_pair(admin, sessions, name)
        out, record = mutate(registry, "terminate_connection", lab.info.dsn, pid=blocker)
        assert out.ok, out.text
        assert record["outcome"] == "done" and record["decision"]["basis"].startswith("tag:test")
        assert any(name in lock for lock in record["inspection"]["locks"])
        assert record["verification"]["call"] == {"ok": True, "returned": True}
        assert record["verification"]["state"]["session_gone"] is True
        assert not alive(admin, blocker)
        assert wait_for(
            lambda: (
                not admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                    (waiter,),
                ).fetchone()
            )
        )
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_never_touches_the_agents_own_sessions(lab, registry, tagged):
    own = psycopg.connect(lab.info.dsn, application_name="helpdesk:database_agent", autocommit=True)
    try:
        out, record = mutate(
            registry, "terminate_connection", lab.info.dsn, pid=own.info.backend_pid
        )
        assert not out.ok and record["outcome"] == "refused" and "own sessions" in out.text
        own.execute("SELECT 1")
    finally:
        own.close()


def test_a_role_without_privilege_gets_a_clear_failure(lab, registry, admin, name, tagged):
    admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'hdt-pw'")
    try:
        weak = with_params(lab.info.dsn, user=name, password="hdt-pw")
        out, record = mutate(registry, "terminate_connection", weak, pid=admin.info.backend_pid)
        assert not out.ok and record["outcome"] == "failed", out.text
        assert record["verification"]["call"]["ok"] is False
        assert record["verification"]["call"]["error"]["sqlstate"] == "42501"
        assert "superuser" in out.text or "permission denied" in out.text
        assert "done" not in out.text.splitlines()[1]
        assert alive(admin, admin.info.backend_pid)
    finally:
        admin.execute(f"DROP ROLE {name}")


def test_cancel_query_ends_the_statement(lab, registry, admin, sessions, tagged):
    busy = sessions.open(autocommit=True)
    pid = busy.info.backend_pid
    sessions.in_background(busy, "SELECT pg_sleep(60)")
    assert wait_for(
        lambda: admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (pid,)
        ).fetchone()
    )
    out, record = mutate(registry, "cancel_query", lab.info.dsn, pid=pid)
    assert out.ok, out.text
    assert record["verification"]["state"]["statement_ended"] and alive(admin, pid)

    idle = sessions.open()
    idle.execute("SELECT 1")  # idle in transaction: nothing runs, nothing to cancel
    out, record = mutate(registry, "cancel_query", lab.info.dsn, pid=idle.info.backend_pid)
    assert not out.ok and record["outcome"] == "nothing_to_do" and "Terminate" in out.text


def test_terminate_idle_connections_dry_run_then_for_real(lab, registry, admin, sessions, tagged):
    app = f"{TEST_APP}:leak"
    leaked = [
        psycopg.connect(lab.info.dsn, application_name=app, autocommit=True) for _ in range(3)
    ]
    sessions.conns.extend(leaked)
    pids = sorted(c.info.backend_pid for c in leaked)
    time.sleep(1.1)
    out, record = mutate(
        registry,
        "terminate_idle_connections",
        lab.info.dsn,
        min_idle_seconds=1,
        application_name=app,
    )
    assert out.ok and record["outcome"] == "dry_run" and record["decision"] is None
    assert sorted(record["inspection"]["pids"]) == pids
    assert all(alive(admin, p) for p in pids)

    out, record = mutate(
        registry,
        "terminate_idle_connections",
        lab.info.dsn,
        dry_run=False,
        min_idle_seconds=1,
        application_name=app,
    )
    assert out.ok, out.text
    assert record["verification"]["call"]["returned"]["terminated"] == 3
    assert record["verification"]["state"]["still_present"] == []
    assert not any(alive(admin, p) for p in pids)


def test_run_vacuum_removes_dead_tuples(lab, registry, admin, name, tagged):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id int) WITH (autovacuum_enabled = false)",
        f"INSERT INTO {name} SELECT generate_series(1, 20000)",
        f"DELETE FROM {name} WHERE id % 10 <> 0",
    )
    try:
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert out.ok, out.text
        assert record["inspection"]["dead"] >= 15000 and record["inspection"]["autovacuum_off"]
        assert record["verification"]["call"] == {"ok": True, "returned": "VACUUM"}
        assert record["verification"]["state"]["dead_after"] == 0
        out, _ = mutate(registry, "run_vacuum", lab.info.dsn, table="hdt_no_such_table")
        assert not out.ok and "no user table" in out.text
    finally:
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_vacuum_held_back_by_an_old_snapshot_is_not_a_success(
    lab, registry, admin, sessions, name, tagged
):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id int) WITH (autovacuum_enabled = false)",
        f"INSERT INTO {name} SELECT generate_series(1, 5000)",
    )
    old = sessions.open()
    old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    old.execute(f"SELECT count(*) FROM {name}")  # this snapshot still sees the rows
    execute(lab.info.dsn, f"DELETE FROM {name}")
    try:
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert not out.ok and record["outcome"] == "verification_failed"
        assert record["verification"]["call"]["ok"] is True  # level 1 passed ...
        assert record["verification"]["state"]["ok"] is False  # ... level 2 did not
        assert "NOT verified" in out.text and "xmin" in out.text
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_resume_wal_replay_on_the_replica(lab, registry, tagged):
    with psycopg.connect(lab.info.replica_dsn, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            out, record = mutate(registry, "resume_wal_replay", lab.info.replica_dsn)
            assert out.ok, out.text
            assert record["inspection"]["pause_state"] in ("paused", "pause requested")
            assert record["verification"]["state"]["pause_state"] == "not paused"
            state = replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
            assert state == "not paused"
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
    out, record = mutate(registry, "resume_wal_replay", lab.info.dsn)
    assert not out.ok and "not a standby" in out.text


def test_drop_an_inactive_replication_slot(lab, registry, admin, name, tagged):
    admin.execute("SELECT pg_create_physical_replication_slot(%s, true)", (name,))
    try:
        out, record = mutate(registry, "drop_replication_slot", lab.info.dsn, slot_name=name)
        assert out.ok, out.text
        assert (
            record["inspection"]["active"] is False and record["verification"]["state"]["slot_gone"]
        )
    finally:
        admin.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (name,),
        )


def test_reset_a_role_setting(lab, registry, admin, name, tagged):
    admin.execute(f"CREATE ROLE {name} LOGIN")
    admin.execute(f"ALTER ROLE {name} SET statement_timeout = '50ms'")
    try:
        out, record = mutate(
            registry,
            "reset_setting",
            lab.info.dsn,
            name="statement_timeout",
            scope="role",
            role=name,
        )
        assert out.ok, out.text
        assert "statement_timeout=50ms" in record["inspection"]["overrides"][0]
        assert record["verification"]["state"]["remaining"] == []
        out, record = mutate(
            registry,
            "reset_setting",
            lab.info.dsn,
            name="statement_timeout",
            scope="role",
            role=name,
        )
        assert out.ok and record["outcome"] == "nothing_to_do"
    finally:
        admin.execute(f"DROP ROLE {name}")


def test_approval_flow(lab, registry, admin, name, untagged, monkeypatch):
    admin.execute(f"CREATE TABLE {name} (id int)")
    asked: list[approval.ApprovalRequest] = []
    try:
        approval.set_approver(lambda request: asked.append(request) or False)
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert not out.ok and record["decision"]["basis"] == "refused"
        assert asked[0].tool == "run_vacuum" and name in asked[0].summary
        assert "testpass" not in asked[0].target

        approval.set_approver(lambda request: True)
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert out.ok and record["decision"]["basis"] == "approver"
        approval.set_approver(None)

        with approval.grant(lab.info.dsn):
            out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
            assert out.ok and record["decision"]["basis"] == "grant"
        out, _ = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert not out.ok  # the grant ended with the block

        monkeypatch.setenv(approval.ENV_VAR, f"127.0.0.1:{lab.info.port}")
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert out.ok and record["decision"]["basis"] == "grant"
        monkeypatch.setenv(approval.ENV_VAR, "all")
        assert mutate(registry, "run_vacuum", lab.info.dsn, table=name)[0].ok
        monkeypatch.setenv(approval.ENV_VAR, "none")
        out, record = mutate(registry, "run_vacuum", lab.info.dsn, table=name)
        assert not out.ok and "makes no changes" in out.text
    finally:
        approval.set_approver(None)
        admin.execute(f"DROP TABLE IF EXISTS {name}")
