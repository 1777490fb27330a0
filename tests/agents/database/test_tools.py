"""Each diagnostic tool against the real lab: healthy, and with its condition created for real."""

from __future__ import annotations

import time

import psycopg
import pytest

from helpdesk.agents.base import ToolArgumentError
from helpdesk.result import ToolCall

from .conftest import execute

pytestmark = pytest.mark.lab

READ_TOOLS_NO_ARGS = (
    "check_connection",
    "get_database_info",
    "get_active_connections",
    "get_connection_stats",
    "get_database_stats",
    "get_config_parameter",
    "get_replication_status",
    "get_lock_info",
    "get_table_stats",
    "get_blocking_queries",
    "get_wait_events",
    "get_vacuum_status",
    "get_index_usage",
    "get_disk_usage",
    "get_slow_queries",
    "get_role_info",
    "get_sequence_usage",
    "get_read_only_status",
    "get_timeout_settings",
    "read_server_log",
)


def call(registry, tool: str, dsn: str, **args):
    trace: list[ToolCall] = []
    out = registry.call(tool, {"connection_string": dsn, **args}, trace)
    assert trace[0].tool == tool and "testpass" not in str(trace[0].args)
    return out


def wait_until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_every_tool_works_on_a_healthy_lab(lab, registry):
    for tool in READ_TOOLS_NO_ARGS:
        out = call(registry, tool, lab.info.dsn)
        assert out.ok, f"{tool}: {out.text}"
        assert out.text and len(out.text) < 8000
        assert "testpass" not in out.text


def test_every_tool_reports_a_connection_failure(lab, registry, free_tcp_port):
    bad = f"host=127.0.0.1 port={free_tcp_port} dbname=testdb user=postgres password=testpass"
    for tool in READ_TOOLS_NO_ARGS:
        out = call(registry, tool, bad)
        assert out.data["error"]["category"] == "connection_refused"
        assert out.ok is (tool == "check_connection")  # only the check itself "succeeds" at it


def test_schemas_and_argument_validation(registry):
    names = {s["name"] for s in registry.schemas()}
    assert set(READ_TOOLS_NO_ARGS) | {"get_session_info"} <= names
    for schema in registry.schemas():
        assert schema["parameters"]["required"][0] == "connection_string"
    with pytest.raises(ToolArgumentError):
        registry.call("get_session_info", {"connection_string": "x"})
    with pytest.raises(ToolArgumentError):
        registry.call("get_table_stats", {"connection_string": "x", "order_by": "nonsense"})
    with pytest.raises(ToolArgumentError):
        registry.call("read_server_log", {"connection_string": "x", "pattern": "(unclosed"})


def test_sessions_are_read_only_with_timeouts(lab):
    from helpdesk.agents.database.connect import read_only_session

    with read_only_session(lab.info.dsn) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "5s"
        assert (
            conn.execute("SHOW application_name")
            .fetchone()["application_name"]
            .startswith("helpdesk:")
        )
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE hdt_should_not_exist (x int)")


def test_idle_in_transaction_session_and_blocking_tree(lab, registry, admin, sessions, name):
    admin.execute(f"CREATE TABLE {name} (id int primary key, v int)")
    try:
        admin.execute(f"INSERT INTO {name} VALUES (1, 0)")
        blocker = sessions.open()
        blocker.execute(f"UPDATE {name} SET v = 1 WHERE id = 1")
        blocker_pid = blocker.info.backend_pid
        waiter = sessions.open()
        sessions.in_background(waiter, f"UPDATE {name} SET v = 2 WHERE id = 1")
        tree = wait_until(
            lambda: call(registry, "get_blocking_queries", lab.info.dsn).data["roots"]
        )
        assert tree[0]["pid"] == blocker_pid and tree[0]["state"] == "idle in transaction"
        assert tree[0]["has_writes"] and tree[0]["blocked_sessions"] == 1

        active = call(registry, "get_active_connections", lab.info.dsn).data["sessions"]
        mine = {s["pid"]: s for s in active}
        assert mine[blocker_pid]["has_writes"] and mine[waiter.info.backend_pid]["blocked_by"] == [
            blocker_pid
        ]
        assert all(not s["application_name"].startswith("helpdesk:") for s in active)

        info = call(registry, "get_session_info", lab.info.dsn, pid=blocker_pid).data
        assert info["state"] == "idle in transaction" and info["blocking"] == [
            waiter.info.backend_pid
        ]
        assert any(lock["relation"] == f"public.{name}" for lock in info["locks"])

        locks = call(registry, "get_lock_info", lab.info.dsn).data
        assert any(w["pid"] == waiter.info.backend_pid for w in locks["waiting"])
        waits = call(registry, "get_wait_events", lab.info.dsn).data["waits"]
        assert any(w["wait_event_type"] == "Lock" for w in waits)
        stats = call(registry, "get_connection_stats", lab.info.dsn).data
        assert any(s["state"] == "idle in transaction" for s in stats["by_state"])
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE {name}")


def test_table_stats_and_vacuum_status_see_dead_tuples(lab, registry, admin, name):
    admin.execute(f"CREATE TABLE {name} (id int) WITH (autovacuum_enabled = false)")
    try:
        execute(
            lab.info.dsn,
            f"INSERT INTO {name} SELECT generate_series(1, 20000)",
            f"DELETE FROM {name} WHERE id % 10 <> 0",
        )

        def dead():
            rows = call(registry, "get_table_stats", lab.info.dsn, table=name).data["tables"]
            return rows if rows and rows[0]["n_dead_tup"] >= 18000 else None

        row = wait_until(dead)[0]
        assert row["table_name"] == f"public.{name}" and row["autovacuum_disabled"]
        assert row["dead_ratio"] > 0.8
        vac = call(registry, "get_vacuum_status", lab.info.dsn).data
        entry = next(t for t in vac["tables"] if t["table_name"] == f"public.{name}")
        assert entry["needs_vacuum"] and entry["autovacuum_disabled"]
    finally:
        admin.execute(f"DROP TABLE {name}")


def test_sequence_usage_bounded_by_column_type(lab, registry, admin, name):
    admin.execute(f"CREATE TABLE {name} (id serial primary key, x int)")
    try:
        admin.execute(f"SELECT setval('{name}_id_seq', 2147000000)")
        seqs = call(registry, "get_sequence_usage", lab.info.dsn).data["sequences"]
        seq = next(s for s in seqs if s["sequence_name"] == f"public.{name}_id_seq")
        assert seq["effective_max"] == 2147483647 and seq["pct_used"] > 99.9
        assert seq["remaining"] == 2147483647 - 2147000000
    finally:
        admin.execute(f"DROP TABLE {name}")


def test_replication_status_on_primary_and_paused_replica(lab, registry, admin, name):
    primary = call(registry, "get_replication_status", lab.info.dsn).data
    assert primary["role"] == "primary" and primary["standbys"][0]["state"] == "streaming"
    replica = psycopg.connect(lab.info.replica_dsn, autocommit=True)
    try:
        replica.execute("SELECT pg_wal_replay_pause()")
        admin.execute(f"CREATE TABLE {name} AS SELECT generate_series(1, 50000) AS id")
        status = wait_until(
            lambda: (
                (s := call(registry, "get_replication_status", lab.info.replica_dsn).data)[
                    "replay_lag_bytes"
                ]
                > 1_000_000
                and s
            )
        )
        assert status["role"] == "standby" and status["replay_paused"]
        assert status["replay_pause_state"] in ("paused", "pause requested")
        lagging = call(registry, "get_replication_status", lab.info.dsn).data["standbys"][0]
        assert lagging["replay_lag_bytes"] > 1_000_000
    finally:
        replica.execute("SELECT pg_wal_replay_resume()")
        replica.close()
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_inactive_slot_retains_wal(lab, registry, admin, name):
    admin.execute("SELECT pg_create_physical_replication_slot(%s, true)", (name,))
    try:
        admin.execute(f"CREATE TABLE {name} AS SELECT generate_series(1, 30000) AS id")
        slots = call(registry, "get_replication_status", lab.info.dsn).data["slots"]
        slot = next(s for s in slots if s["slot_name"] == name)
        assert slot["active"] is False and slot["retained_bytes"] > 500_000
    finally:
        admin.execute("SELECT pg_drop_replication_slot(%s)", (name,))
        admin.execute(f"DROP TABLE IF EXISTS {name}")


def test_read_only_and_timeouts_per_database_and_role(lab, registry, admin, name):
    db = f"{name}_db"
    admin.execute(f"CREATE DATABASE {db}")
    admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'")
    try:
        admin.execute(f"ALTER DATABASE {db} SET default_transaction_read_only = on")
        admin.execute(f"ALTER ROLE {name} SET statement_timeout = '1ms'")
        db_dsn = (
            f"host={lab.info.host} port={lab.info.port} dbname={db} user=postgres password=testpass"
        )
        ro = call(registry, "get_read_only_status", db_dsn).data
        assert ro["default_read_only"] and ro["writes_rejected"] and not ro["in_recovery"]
        assert (
            ro["overrides"][0]["reset_statement"]
            == f"ALTER DATABASE {db} RESET default_transaction_read_only;"
        )
        assert not call(registry, "get_read_only_status", lab.info.dsn).data["writes_rejected"]
        assert call(registry, "get_read_only_status", lab.info.replica_dsn).data["in_recovery"]

        role_dsn = (
            f"host={lab.info.host} port={lab.info.port} dbname=testdb user={name} password=pw"
        )
        timeouts = call(registry, "get_timeout_settings", role_dsn)
        assert timeouts.ok, timeouts.text  # the tool itself is not cancelled by the 1 ms timeout
        assert timeouts.data["effective_ms"]["statement_timeout"] == 1
        assert timeouts.data["overrides"][0]["value_ms"] == 1
        roles = call(registry, "get_role_info", lab.info.dsn, role=name).data["roles"]
        assert "statement_timeout=1ms" in roles[0]["settings"]
    finally:
        admin.execute(f"DROP DATABASE {db} WITH (FORCE)")
        admin.execute(f"DROP ROLE {name}")


def test_slow_queries_and_index_usage(lab, registry, admin, name):
    admin.execute(
        f"CREATE TABLE {name} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g"
    )
    try:
        admin.execute(f"ANALYZE {name}")
        with psycopg.connect(lab.info.dsn, autocommit=True) as conn:
            for i in range(20):
                conn.execute(f"SELECT v FROM {name} WHERE id = %s", (i * 7,))
        out = call(registry, "get_slow_queries", lab.info.dsn, order_by="total_time", limit=50)
        assert out.data["available"]
        stmt = next(s for s in out.data["statements"] if f"FROM {name} WHERE" in s["query"])
        assert stmt["calls"] == 20 and stmt["rows_per_call"] == 1
        assert all("pg_stat_activity" not in s["query"] for s in out.data["statements"])
        tables = wait_until(
            lambda: [
                t
                for t in call(registry, "get_index_usage", lab.info.dsn).data["tables"]
                if t["table_name"] == f"public.{name}" and t["seq_scan"] >= 20
            ]
        )
        assert tables[0]["avg_rows_per_seq_scan"] >= 40000 and tables[0]["idx_scan"] == 0
    finally:
        admin.execute(f"DROP TABLE {name}")


def test_read_server_log_finds_a_fresh_error(lab, registry, admin, name):
    admin.execute(f"CREATE TEMP SEQUENCE {name} MAXVALUE 2")
    admin.execute(f"SELECT nextval('{name}'), nextval('{name}')")
    with pytest.raises(psycopg.errors.SequenceGeneratorLimitExceeded):
        admin.execute(f"SELECT nextval('{name}')")
    out = wait_until(
        lambda: (
            (o := call(registry, "read_server_log", lab.info.dsn, pattern=name, minutes=5)).data[
                "entries"
            ]
            and o
        )
    )
    assert out.data["entries"][-1]["signature"] == "sequence_max"
    assert out.data["counts"]["sequence_max"] >= 1


def test_database_stats_disk_usage_and_config(lab, registry):
    stats = call(registry, "get_database_stats", lab.info.dsn).data["databases"]
    assert any(d["datname"] == lab.info.dbname and d["is_current"] for d in stats)
    disk = call(registry, "get_disk_usage", lab.info.dsn).data
    assert disk["wal"]["bytes"] > 0 and disk["max_wal_size_bytes"] > 0
    cfg = call(
        registry, "get_config_parameter", lab.info.dsn, name="max_connections,shared_buffers"
    ).data
    assert cfg["settings"]["max_connections"]["setting"] == "20"
    pattern = call(registry, "get_config_parameter", lab.info.dsn, name="autovacuum%").data
    assert "autovacuum_naptime" in pattern["settings"]


def test_storage_tools_do_not_queue_behind_an_exclusive_lock(lab, registry, admin, sessions, name):
    """Size functions and index definitions lock the table: the tools must skip a locked one."""
    admin.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, v text)")
    try:
        admin.execute(f"SELECT * FROM {name} WHERE v = 'x'")  # give it a sequential scan
        locker = sessions.open()
        locker.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
        for tool in ("get_table_stats", "get_index_usage", "get_disk_usage", "get_vacuum_status"):
            started = time.perf_counter()
            out = call(registry, tool, lab.info.dsn)
            assert out.ok, f"{tool}: {out.text}"
            assert time.perf_counter() - started < 0.9, f"{tool} waited for the lock"
    finally:
        sessions.close(lab.info.dsn)
        admin.execute(f"DROP TABLE {name}")
