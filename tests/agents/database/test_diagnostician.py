"""The built-in diagnostician against real conditions created on the lab, one per (B) category.

Each test builds its condition with its own objects and sessions, asks the agent with a
symptom-only message, and checks the structured category, the cited facts and the trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from faulttest.lab import Lab, free_port
from helpdesk.agents.database import DatabaseAgent
from helpdesk.result import AgentResult

from .conftest import TEST_APP, execute, with_params

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def agent() -> DatabaseAgent:
    return DatabaseAgent()


def ask(agent: DatabaseAgent, text: str, dsn: str) -> AgentResult:
    result = agent.answer(f"{text} The connection_string is `{dsn}`. Please investigate.")
    dumped = result.model_dump_json()
    assert "testpass" not in dumped and "password=pw " not in dumped
    assert result.model.vendor == "builtin"
    return result


def expect(result: AgentResult, category: str, *cites: str, tools: tuple[str, ...] = ()) -> None:
    assert result.diagnosis is not None, result.text
    assert result.diagnosis.category == category, result.text
    for fact in cites:
        assert fact in result.text, f"{fact!r} not cited:\n{result.text}"
    called = {c.tool for c in result.tool_calls if c.ok}
    assert set(tools) <= called, f"missing tools {set(tools) - called}"


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition did not appear"
        time.sleep(0.1)


def scalar(dsn: str, sql: str, params=None):
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


# --- healthy and connection failures -------------------------------------------------


def test_healthy_lab(lab, agent):
    result = agent.answer(
        f"Is everything fine with the primary {lab.info.dsn} and the replica "
        f"{lab.info.replica_dsn}?"
    )
    expect(
        result, "healthy", tools=("check_connection", "get_replication_status", "get_table_stats")
    )
    assert all(c.ok for c in result.tool_calls)


def test_connection_refused(lab, agent, free_tcp_port):
    result = ask(
        agent,
        "Every request fails with a database error.",
        with_params(lab.info.dsn, port=free_tcp_port),
    )
    expect(result, "connection_refused", "Connection refused")
    assert [c.tool for c in result.tool_calls] == ["check_connection"]  # the diagnosis stops there


def test_authentication_failure(lab, agent):
    result = ask(
        agent,
        "Since the deployment the service cannot connect.",
        with_params(lab.info.dsn, password="wrong-one"),
    )
    expect(result, "authentication_failure", "password authentication failed")


def test_database_not_found(lab, agent, name):
    result = ask(agent, "The new job cannot connect.", with_params(lab.info.dsn, dbname=name))
    expect(
        result,
        "database_not_found",
        f'database "{name}" does not exist',
        "databases that exist on this server:",
        lab.info.dbname,
        tools=("check_connection", "get_database_info"),
    )


@pytest.fixture
def role(admin, name) -> Iterator[str]:
    admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'pw'")
    yield name
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
    )
    admin.execute(f"DROP OWNED BY {name}")
    admin.execute(f"DROP ROLE {name}")


def test_connection_not_permitted(lab, agent, admin, role):
    admin.execute(f"ALTER ROLE {role} NOLOGIN")
    result = ask(
        agent, "The app cannot log in.", with_params(lab.info.dsn, user=role, password="pw")
    )
    expect(
        result, "connection_not_permitted", "not permitted to log in", f"ALTER ROLE {role} LOGIN"
    )


def test_role_connection_limit(lab, agent, admin, role, sessions):
    admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 2")
    role_dsn = with_params(lab.info.dsn, user=role, password="pw")
    sessions.open(role_dsn)
    sessions.open(role_dsn)
    result = ask(agent, "New connections are rejected.", role_dsn)
    expect(result, "role_connection_limit", f'too many connections for role "{role}"')


def test_role_connection_limit_seen_by_a_superuser(lab, agent, admin, role, sessions):
    admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 1")
    sessions.open(with_params(lab.info.dsn, user=role, password="pw"))
    result = ask(agent, f"The {role} service gets 'too many connections' errors.", lab.info.dsn)
    expect(result, "role_connection_limit", role)


def test_hba_rejection(lab, agent, admin, role):
    hba = Path(admin.execute("SHOW hba_file").fetchone()[0])
    original = hba.read_text()
    try:
        hba.write_text(f"host all {role} 127.0.0.1/32 reject\n" + original)
        admin.execute("SELECT pg_reload_conf()")
        result = ask(
            agent, "The app cannot connect.", with_params(lab.info.dsn, user=role, password="pw")
        )
    finally:
        hba.write_text(original)
        admin.execute("SELECT pg_reload_conf()")
    expect(result, "hba_rejection", "pg_hba.conf")


def test_connection_exhaustion(lab, agent, sessions):
    try:
        for _ in range(25):
            sessions.open(autocommit=True)
    except psycopg.OperationalError:
        pass
    result = ask(agent, "Our application cannot open new connections.", lab.info.dsn)
    sessions.close(lab.info.dsn)
    expect(result, "connection_exhaustion", "too many clients")


# --- sessions and locks ------------------------------------------------------------


@pytest.fixture
def table(admin, name) -> Iterator[str]:
    admin.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, balance int NOT NULL)")
    admin.execute(f"INSERT INTO {name} SELECT g, 100 FROM generate_series(1, 1000) g")
    yield name
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        (TEST_APP,),
    )
    admin.execute(f"DROP TABLE IF EXISTS {name}")


def blocked(dsn: str) -> bool:
    return bool(scalar(dsn, "SELECT count(*) FROM pg_locks WHERE NOT granted"))


def test_lock_blocking_by_a_running_statement(lab, agent, sessions, table):
    batch = sessions.open()
    batch.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    sessions.in_background(batch, "SELECT pg_sleep(60)")
    for _ in range(2):
        sessions.in_background(sessions.open(autocommit=True), f"SELECT count(*) FROM {table}")
    wait_for(lambda: blocked(lab.info.dsn))
    time.sleep(1.2)
    result = ask(agent, f"Queries on the {table} table hang for minutes.", lab.info.dsn)
    expect(
        result,
        "lock_blocking",
        f"public.{table}",
        "AccessExclusiveLock",
        f"pg_terminate_backend({batch.info.backend_pid})",
        tools=(
            "get_blocking_queries",
            "get_lock_info",
            "get_session_info",
            "get_active_connections",
        ),
    )
    assert "long_running_query" in result.diagnosis.contributing


def test_idle_in_transaction_blocker(lab, agent, sessions, table):
    holder = sessions.open()
    holder.execute(f"UPDATE {table} SET balance = 0 WHERE id = 1")
    sessions.in_background(
        sessions.open(autocommit=True), f"UPDATE {table} SET balance = 1 WHERE id = 1"
    )
    wait_for(lambda: blocked(lab.info.dsn))
    result = ask(agent, "Payments are stuck and time out.", lab.info.dsn)
    expect(
        result,
        "idle_in_transaction",
        f"pg_terminate_backend({holder.info.backend_pid})",
        f"public.{table}",
    )
    assert "lock_blocking" in result.diagnosis.contributing


def test_idle_in_transaction_without_waiters(lab, agent, sessions, table):
    holder = sessions.open()
    holder.execute(f"UPDATE {table} SET balance = 0 WHERE id = 2")
    time.sleep(2.5)
    result = ask(
        agent, "Something is odd with the database; vacuum seems not to clean up.", lab.info.dsn
    )
    expect(result, "idle_in_transaction", str(holder.info.backend_pid), "has written: yes")


def test_long_running_query(lab, agent, sessions):
    """Asked right after it started: the agent watches young statements for a moment."""
    runner = sessions.open(autocommit=True)
    sessions.in_background(runner, "SELECT pg_sleep(60)")
    wait_for(
        lambda: scalar(
            lab.info.dsn,
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'",
        )
    )
    result = ask(agent, "The nightly report has not finished.", lab.info.dsn)
    expect(
        result,
        "long_running_query",
        f"pid {runner.info.backend_pid}",
        "pg_sleep",
        f"pg_cancel_backend({runner.info.backend_pid})",
    )


def test_deadlock_with_queued_transfers(lab, agent, sessions, table, name):
    other = f"{name}_b"
    execute(
        lab.info.dsn,
        f"CREATE TABLE {other} (id int PRIMARY KEY, balance int)",
        f"INSERT INTO {other} VALUES (1, 0), (2, 0)",
    )
    try:
        holder = sessions.open()
        holder.execute(f"UPDATE {table} SET balance = balance - 10 WHERE id = 1")
        sessions.in_background(holder, "SELECT pg_sleep(60)")
        for _ in range(2):
            sessions.in_background(
                sessions.open(autocommit=True),
                f"UPDATE {table} SET balance = balance + 10 WHERE id = 1",
            )
        before = scalar(
            lab.info.dsn,
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
        )
        a, b = sessions.open(), sessions.open()
        a.execute(f"UPDATE {other} SET balance = 1 WHERE id = 1")
        b.execute(f"UPDATE {other} SET balance = 1 WHERE id = 2")
        crossing = [
            sessions.in_background(a, f"UPDATE {other} SET balance = 2 WHERE id = 2"),
            sessions.in_background(b, f"UPDATE {other} SET balance = 2 WHERE id = 1"),
        ]
        for thread in crossing:
            thread.join(5)
        a.rollback()
        b.rollback()
        wait_for(
            lambda: (
                scalar(
                    lab.info.dsn,
                    "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
                )
                > before
            )
        )
        wait_for(lambda: blocked(lab.info.dsn))
        result = ask(
            agent,
            "Money transfers hang for a long time, and now and then one fails with a "
            "database error and is rolled back.",
            lab.info.dsn,
        )
        expect(
            result,
            "deadlock",
            "deadlock detected",
            f"public.{table}",
            tools=(
                "get_lock_info",
                "get_blocking_queries",
                "get_database_stats",
                "read_server_log",
            ),
        )
        assert "lock_blocking" in result.diagnosis.contributing
    finally:
        sessions.close(lab.info.dsn)
        execute(lab.info.dsn, f"DROP TABLE IF EXISTS {other}")


# --- tables, indexes, sequences ----------------------------------------------------


def test_table_bloat(lab, agent, name):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = false)",
        f"INSERT INTO {name} SELECT g, md5(g::text) FROM generate_series(1, 100000) g",
        f"DELETE FROM {name} WHERE id % 10 <> 0",
    )
    try:
        result = ask(
            agent, "The database uses more disk than expected and queries get slower.", lab.info.dsn
        )
        expect(
            result,
            "table_bloat",
            f"public.{name}",
            "90000 dead",
            f"VACUUM (FULL, ANALYZE) public.{name};",
            tools=("get_table_stats", "get_vacuum_status", "get_disk_usage"),
        )
        assert "disk_pressure" not in result.diagnosis.contributing
    finally:
        execute(lab.info.dsn, f"DROP TABLE {name}")


def test_cache_performance(lab, agent, name):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} WITH (fillfactor = 10, autovacuum_enabled = false) AS "
        "SELECT g AS id, g % 1000 AS device, repeat(md5(g::text), 6) AS payload "
        "FROM generate_series(1, 20000) g",
        "SELECT pg_stat_reset()",
        *[f"SELECT count(*) FROM {name}"] * 4,
        *[f"SELECT device, count(*) FROM {name} WHERE id % 7 = 3 GROUP BY device LIMIT 5"] * 3,
    )
    try:
        result = ask(
            agent, "The database is much slower than usual and disk reads are high.", lab.info.dsn
        )
        expect(
            result,
            "cache_performance",
            f"public.{name}",
            "hit ratio",
            tools=(
                "get_database_stats",
                "get_table_stats",
                "get_config_parameter",
                "get_slow_queries",
            ),
        )
        assert "table_bloat" not in result.diagnosis.contributing
    finally:
        execute(lab.info.dsn, f"DROP TABLE {name}", "SELECT pg_stat_reset()")


def test_missing_index(lab, agent, name):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id int PRIMARY KEY, email text, created date)",
        f"INSERT INTO {name} SELECT g, 'user' || g || '@example.com', current_date "
        "FROM generate_series(1, 60000) g",
        f"ANALYZE {name}",
    )
    try:
        with psycopg.connect(lab.info.dsn, autocommit=True) as conn:
            for i in range(30):
                conn.execute(
                    f"SELECT id FROM {name} WHERE email = %s", (f"user{i * 97}@example.com",)
                )
        result = ask(agent, "Customer lookups are slow.", lab.info.dsn)
        expect(
            result,
            "missing_index",
            f"public.{name}",
            "email",
            f"CREATE INDEX CONCURRENTLY ON public.{name} (email);",
            tools=("get_index_usage",),
        )
    finally:
        execute(lab.info.dsn, f"DROP TABLE {name}")


def test_sequence_exhaustion(lab, agent, name):
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id serial PRIMARY KEY, note text)",
        f"SELECT setval('{name}_id_seq', 2147480000)",
    )
    try:
        result = ask(agent, "Inserts of new orders started failing.", lab.info.dsn)
        expect(result, "sequence_exhaustion", f"public.{name}_id_seq", "3647 values left")
    finally:
        execute(lab.info.dsn, f"DROP TABLE {name}")


# --- replication, WAL, disk --------------------------------------------------------


def test_replication_lag_paused_replay(lab, agent, name):
    with psycopg.connect(lab.info.replica_dsn, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            execute(
                lab.info.dsn,
                f"CREATE TABLE {name} AS SELECT g AS id, md5(g::text) AS v "
                "FROM generate_series(1, 40000) g",
            )
            result = agent.answer(
                f"Dashboards that read from the replica at {lab.info.replica_dsn} show stale "
                "numbers: "
                f"data written through the primary at {lab.info.dsn} is missing there."
            )
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
            execute(lab.info.dsn, f"DROP TABLE IF EXISTS {name}")
    expect(
        result,
        "replication_lag",
        "paused",
        "pg_wal_replay_resume()",
        tools=("get_replication_status",),
    )


def test_inactive_slot_retains_wal(lab, agent, name):
    execute(
        lab.info.dsn,
        f"SELECT pg_create_physical_replication_slot('{name}', true)",
        f"CREATE TABLE {name} AS SELECT g AS id, md5(g::text) AS v "
        "FROM generate_series(1, 40000) g",
    )
    try:
        result = ask(agent, "Disk usage on the database server keeps growing.", lab.info.dsn)
        expect(result, "wal_accumulation", name, f"pg_drop_replication_slot('{name}')")
    finally:
        execute(
            lab.info.dsn,
            f"SELECT pg_drop_replication_slot('{name}')",
            f"DROP TABLE IF EXISTS {name}",
        )


@pytest.fixture
def full_volume_lab(tmp_path, name) -> Iterator[tuple[Lab, Path]]:
    """A private single-node server and a 4 MB tmpfs it can write to.

    Private: a same-host replica would replay CREATE TABLESPACE into the same directory.
    The server is stopped before the volume is unmounted (pending fsyncs must not PANIC).
    Skipped where mounting is not allowed (needs root).
    """
    volume = Path(f"/tmp/{name}_vol")  # the server's user must reach it: not under tmp_path (0700)
    volume.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(volume)], capture_output=True
    )
    if mounted.returncode != 0:
        volume.rmdir()
        pytest.skip("cannot mount a small filesystem here (needs root)")
    solo = Lab(home=tmp_path / "solo", port=free_port(), replica=False)
    try:
        solo.up()
        owner = solo.info.data_dir.stat()
        os.chown(volume, owner.st_uid, owner.st_gid)
        yield solo, volume
    finally:
        solo.down()
        subprocess.run(["umount", str(volume)], check=False)
        volume.rmdir()


def test_disk_pressure_on_a_full_tablespace(agent, name, full_volume_lab):
    """A real ENOSPC: a table in a tablespace on a 4 MB filesystem fills it up."""
    solo, volume = full_volume_lab
    dsn = solo.info.dsn
    execute(
        dsn,
        f"CREATE TABLESPACE {name} LOCATION '{volume}'",
        f"CREATE TABLE {name} (payload text) TABLESPACE {name}",
    )
    with pytest.raises(psycopg.errors.DiskFull):
        execute(
            dsn,
            f"INSERT INTO {name} SELECT repeat(md5(g::text), 20) FROM generate_series(1, 20000) g",
        )
    result = ask(agent, "Writes to the database started failing.", dsn)
    expect(result, "disk_pressure", "No space left on device", tools=("read_server_log",))


# --- settings ----------------------------------------------------------------------


@pytest.fixture
def database(admin, name) -> Iterator[str]:
    db = f"{name}_db"
    admin.execute(f"CREATE DATABASE {db}")
    yield db
    admin.execute(f"DROP DATABASE {db} WITH (FORCE)")


def test_read_only_database(lab, agent, admin, database):
    admin.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    dsn = with_params(lab.info.dsn, dbname=database)
    with (
        psycopg.connect(dsn, autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("CREATE TABLE t (x int)")
    result = ask(agent, "Our service cannot save anything: every insert fails.", dsn)
    expect(
        result,
        "read_only",
        "default_transaction_read_only",
        f"ALTER DATABASE {database} RESET default_transaction_read_only;",
    )


def test_statement_timeout_on_the_role(lab, agent, admin, role):
    admin.execute(f"ALTER ROLE {role} SET statement_timeout = '1ms'")
    dsn = with_params(lab.info.dsn, user=role, password="pw")
    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT count(*) FROM generate_series(1, 3000000)")
    result = ask(agent, "Most queries of the reporting service fail since this morning.", dsn)
    expect(result, "statement_timeout", "1 ms", f"ALTER ROLE {role} RESET statement_timeout;")


# --- variants: other ways the same problems show up --------------------------------


def test_slots_nearly_exhausted_seen_through_a_reserved_slot(lab, agent, sessions):
    """Ordinary slots are all taken; the superuser still gets in and sees who holds them."""
    stats = agent.tools.call("get_connection_stats", {"connection_string": lab.info.dsn}).data
    free = stats["available_to_ordinary_roles"] - (
        stats["client_connections"] - stats["own_connections"]
    )
    for _ in range(free):
        sessions.open(autocommit=True)
    result = ask(agent, "The application gets connection errors.", lab.info.dsn)
    expect(result, "connection_exhaustion", "max_connections=20", TEST_APP)


def test_replication_lag_seen_from_the_primary_only(lab, agent, name):
    with psycopg.connect(lab.info.replica_dsn, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            execute(
                lab.info.dsn,
                f"CREATE TABLE {name} AS SELECT g AS id, md5(g::text) AS v "
                "FROM generate_series(1, 40000) g",
            )
            result = ask(agent, "Reports on the standby are out of date.", lab.info.dsn)
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")
            execute(lab.info.dsn, f"DROP TABLE IF EXISTS {name}")
    expect(result, "replication_lag", "pg_stat_replication", "replay lag")


def test_statement_timeout_on_the_database(lab, agent, admin, database):
    admin.execute(f"ALTER DATABASE {database} SET statement_timeout = '50ms'")
    result = ask(agent, "Reports time out.", with_params(lab.info.dsn, dbname=database))
    expect(
        result, "statement_timeout", "50 ms", f"ALTER DATABASE {database} RESET statement_timeout;"
    )


def test_read_only_server_setting(lab, agent, admin):
    admin.execute("ALTER SYSTEM SET default_transaction_read_only = on")
    admin.execute("SELECT pg_reload_conf()")
    try:
        wait_for(lambda: scalar(lab.info.dsn, "SHOW default_transaction_read_only") == "on")
        result = ask(agent, "Nothing can be saved any more.", lab.info.dsn)
    finally:
        admin.execute("ALTER SYSTEM RESET default_transaction_read_only")
        admin.execute("SELECT pg_reload_conf()")
    expect(result, "read_only", "ALTER SYSTEM RESET default_transaction_read_only;")


def test_fresh_inactive_slot_without_traffic(lab, agent, name):
    execute(lab.info.dsn, f"SELECT pg_create_physical_replication_slot('{name}', true)")
    try:
        result = ask(agent, "Is anything wrong with WAL on this server?", lab.info.dsn)
        expect(result, "wal_accumulation", name)
    finally:
        execute(lab.info.dsn, f"SELECT pg_drop_replication_slot('{name}')")


def test_uri_and_alias_targets(lab, agent, tmp_path, monkeypatch):
    info = lab.info
    uri = f"postgresql://{info.user}:{info.password}@{info.host}:{info.port}/{info.dbname}"
    expect(agent.answer(f"Please check {uri}."), "healthy")
    config = tmp_path / "infra.json"
    server = {"connection_string": with_params(info.dsn, password=""), "password_env": "HDT_PW"}
    config.write_text(json.dumps({"db_servers": {"orders-db": server}}))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(config))
    monkeypatch.setenv("HDT_PW", info.password)
    result = agent.answer("Is orders-db healthy?")
    expect(result, "healthy")
    assert result.tool_calls[0].args["connection_string"] == "orders-db"


def test_no_connection_string(agent):
    result = agent.answer("The database is slow, please help.")
    assert result.diagnosis is None and "connection string" in result.text


def test_deadlock_that_is_over(lab, agent, sessions, name):
    """Two transfers deadlocked a moment ago; nothing waits any more, only the log remembers."""
    execute(
        lab.info.dsn,
        f"CREATE TABLE {name} (id int PRIMARY KEY, balance int)",
        f"INSERT INTO {name} VALUES (1, 0), (2, 0)",
    )
    try:
        a, b = sessions.open(), sessions.open()
        a.execute(f"UPDATE {name} SET balance = 1 WHERE id = 1")
        b.execute(f"UPDATE {name} SET balance = 1 WHERE id = 2")
        crossing = [
            sessions.in_background(a, f"UPDATE {name} SET balance = 2 WHERE id = 2"),
            sessions.in_background(b, f"UPDATE {name} SET balance = 2 WHERE id = 1"),
        ]
        for thread in crossing:
            thread.join(5)
        a.rollback()
        b.rollback()
        result = ask(
            agent, "Some money transfers fail with an error and must be retried.", lab.info.dsn
        )
        expect(result, "deadlock", "deadlock detected", "Process", tools=("read_server_log",))
        calm = ask(agent, "Routine check: anything to worry about?", lab.info.dsn)
        expect(calm, "healthy")  # an incident that is over is not today's problem
    finally:
        sessions.close(lab.info.dsn)
        execute(lab.info.dsn, f"DROP TABLE IF EXISTS {name}")


def test_roles_named_in_the_message(lab, agent, admin, role):
    """Connected as a superuser, the agent checks the roles the person names."""
    admin.execute(f"ALTER ROLE {role} NOLOGIN")
    result = ask(agent, f"The {role} service cannot log in any more.", lab.info.dsn)
    expect(result, "connection_not_permitted", f"ALTER ROLE {role} LOGIN;")
    admin.execute(f"ALTER ROLE {role} LOGIN VALID UNTIL '2001-01-01'")
    result = ask(agent, f"The {role} service cannot log in any more.", lab.info.dsn)
    expect(result, "authentication_failure", role, "VALID UNTIL")
