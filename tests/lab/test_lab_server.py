"""The running lab is the PostgreSQL the issue asks for: SCRAM, settings, extension, logs,
a streaming replica, and server control that puts things back."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from faulttest.lab import Lab
from helpdesk.dsn import replace


def _show(lab: Lab, name: str, node: str = "primary") -> str:
    with lab.connect(node) as conn:  # type: ignore[arg-type]
        return str(conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0])


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("node", ["primary", "replica"])
def test_wrong_password_fails_over_tcp(lab: Lab, node: str) -> None:
    bad = replace(lab.info.node_dsn(node), password="not-the-password")  # type: ignore[arg-type]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=5).close()


def test_wrong_password_fails_over_unix_socket(lab: Lab) -> None:
    bad = replace(lab.info.dsn, host=str(lab.info.socket_dir), password="wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=5).close()


def test_right_password_connects_and_no_trust_rule(lab: Lab) -> None:
    with psycopg.connect(lab.info.dsn, connect_timeout=5) as conn:
        methods = {r[0] for r in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
        encryption = conn.execute("SHOW password_encryption").fetchone()[0]
    assert methods == {"scram-sha-256"}
    assert encryption == "scram-sha-256"


def test_settings_match_the_issue(lab: Lab) -> None:
    assert _show(lab, "max_connections") == "20"
    assert _show(lab, "shared_buffers") == "32MB"
    assert _show(lab, "wal_level") == "replica"
    assert "pg_stat_statements" in _show(lab, "shared_preload_libraries")
    assert _show(lab, "logging_collector") == "on"
    assert _show(lab, "log_lock_waits") == "on"
    assert _show(lab, "deadlock_timeout") == "200ms"
    assert _show(lab, "listen_addresses") == "127.0.0.1"
    assert lab.info.dbname == "testdb" and lab.info.user == "postgres"


def test_pg_stat_statements_created_in_testdb(lab: Lab) -> None:
    # pg_stat_statements groups statements by the shape of their parse tree, in which column
    # aliases and constants do not count: probe with a table of its own, whose oid does.
    table = f"faulttest_pss_{uuid.uuid4().hex[:12]}"
    with lab.connect() as conn:
        conn.execute(f"CREATE TABLE {table} (x int)")
        try:
            conn.execute(f"SELECT count(*) FROM {table}")
            rows = conn.execute(
                "SELECT count(*) FROM pg_stat_statements WHERE query LIKE %s",
                [f"%FROM {table}%"],
            ).fetchone()
        finally:
            conn.execute(f"DROP TABLE {table}")
    assert rows[0] >= 1


def test_server_log_readable_through_sql(lab: Lab) -> None:
    marker = f"faulttest_marker_{uuid.uuid4().hex[:8]}"
    with lab.connect() as conn:
        with pytest.raises(psycopg.errors.UndefinedColumn):
            conn.execute(f"SELECT {marker}")
        files = [r[0] for r in conn.execute("SELECT name FROM pg_ls_logdir()")]
        assert "postgresql.log" in files

        def logged() -> bool:
            text = conn.execute("SELECT pg_read_file('log/postgresql.log')").fetchone()[0]
            return marker in text

        assert _wait_for(logged, 5)
        text = conn.execute("SELECT pg_read_file('log/postgresql.log')").fetchone()[0]
    line = next(x for x in text.splitlines() if marker in x and "ERROR" in x)
    assert "postgres@testdb" in line and "app=" in line and "UTC" in line


def test_replica_streams_writes_from_primary(lab: Lab) -> None:
    table = f"faulttest_repl_{uuid.uuid4().hex[:8]}"
    with lab.connect() as primary:
        primary.execute(f"CREATE TABLE {table} (v text)")
        primary.execute(f"INSERT INTO {table} VALUES ('hello')")
    try:
        with lab.connect("replica") as replica:
            assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True

            def visible() -> bool:
                try:
                    return replica.execute(f"SELECT v FROM {table}").fetchone() == ("hello",)
                except psycopg.errors.UndefinedTable:
                    return False

            assert _wait_for(visible, 10)
        status = lab.status()
        assert status.replication is not None and status.replication.streaming
    finally:
        with lab.connect() as primary:
            primary.execute(f"DROP TABLE {table}")


def test_up_is_idempotent(lab: Lab) -> None:
    pid = lab.node("primary").pid()
    again = Lab.load(lab.home)
    assert again is not None and again.port == lab.port
    info = again.up()
    assert info.already_running is True
    assert lab.node("primary").pid() == pid


def test_status_masks_passwords(lab: Lab) -> None:
    status = lab.status()
    assert status.primary_running and status.replica_running
    assert "testpass" not in str(status.to_dict()) and "password=****" in status.dsn
    assert "testpass" not in repr(lab.info)


def test_stop_and_start_primary(lab: Lab) -> None:
    lab.stop("primary")
    try:
        assert not lab.is_running("primary")
        with pytest.raises(psycopg.OperationalError, match="refused"):
            psycopg.connect(lab.info.dsn, connect_timeout=3).close()
    finally:
        lab.start("primary")
    assert lab.is_running("primary")
    assert _show(lab, "port") == str(lab.port)
    lab.wait_streaming()


def test_kill_then_start_replica(lab: Lab) -> None:
    old_pid = lab.node("replica").pid()
    lab.kill("replica")
    try:
        assert not lab.is_running("replica")
    finally:
        lab.start("replica")
    assert lab.is_running("replica") and lab.node("replica").pid() != old_pid
    assert _show(lab, "port", "replica") == str(lab.replica_port)
    lab.wait_streaming()


def test_restart_replica(lab: Lab) -> None:
    old_pid = lab.node("replica").pid()
    lab.restart("replica")
    assert lab.node("replica").pid() != old_pid
    lab.wait_streaming()


def test_set_and_reset_reloadable_setting(lab: Lab) -> None:
    pid = lab.node("primary").pid()
    lab.set_settings("primary", {"work_mem": "8MB"})
    try:
        assert _show(lab, "work_mem") == "8MB"
        assert lab.node("primary").pid() == pid  # reload, no restart
    finally:
        lab.reset_settings("primary", ["work_mem"])
    assert _show(lab, "work_mem") == "4MB"


def test_set_setting_on_replica(lab: Lab) -> None:
    lab.set_settings("replica", {"statement_timeout": "1234ms"})
    try:
        assert _show(lab, "statement_timeout", "replica") == "1234ms"
    finally:
        lab.reset_settings("replica", ["statement_timeout"])
    assert _show(lab, "statement_timeout", "replica") == "0"


def test_set_setting_that_needs_restart(lab: Lab) -> None:
    pid = lab.node("primary").pid()
    lab.set_settings("primary", {"shared_buffers": "48MB"})
    try:
        assert _show(lab, "shared_buffers") == "48MB"
        assert lab.node("primary").pid() != pid
    finally:
        lab.reset_settings("primary", ["shared_buffers"])
        lab.wait_streaming()
    assert _show(lab, "shared_buffers") == "32MB"
