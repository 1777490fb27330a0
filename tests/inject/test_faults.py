"""Each of the nine database faults against the real lab, through the library API.

inject → the REAL effect is there (checked here with plain SQL and connections, not with
the fault's own probe) → teardown → the effect is gone and nothing is left → teardown
again is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.inject import Injection, Injector, Journal
from faulttest.lab import Lab
from faulttest.targets import DsnTarget, LabTarget
from tests.inject.conftest import connect_error, leftovers, wait_for

pytestmark = pytest.mark.lab

CATALOG = load_catalog()


def one(lab: Lab, query: str, node: str = "primary", params: list | None = None):  # type: ignore[no-untyped-def]
    with lab.connect(node) as conn:
        return conn.execute(query, params).fetchone()[0]


def deadlocks(lab: Lab) -> int:
    return one(lab, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")


def server_log(lab: Lab) -> str:
    """The whole server log, read with SQL as a superuser would."""
    with lab.connect() as conn:
        log_dir = conn.execute("SELECT current_setting('log_directory')").fetchone()[0]
        names = conn.execute("SELECT name FROM pg_ls_logdir() ORDER BY modification").fetchall()
        return "".join(
            conn.execute("SELECT pg_read_file(%s)", [f"{log_dir}/{name}"]).fetchone()[0]
            for (name,) in names
        )


# ── the real effect of each fault, checked independently ───────────────────


def max_connections_present(lab: Lab, injection: Injection) -> None:
    error = connect_error(lab.info.dsn)
    assert error is not None and "too many clients" in error


def max_connections_absent(lab: Lab) -> None:
    assert connect_error(lab.info.dsn) is None


def long_running_present(lab: Lab, injection: Injection) -> None:
    with lab.connect() as conn:
        conn.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            conn.execute("SELECT count(*) FROM faulttest_orders")
    sleeping = one(
        lab,
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'"
        " AND state = 'active' AND xact_start IS NOT NULL",
    )
    assert sleeping == 1


def table_gone(name: str) -> Callable[[Lab], None]:
    def check(lab: Lab) -> None:
        assert one(lab, "SELECT to_regclass(%s) IS NULL", params=[name])

    return check


def lock_contention_present(lab: Lab, injection: Injection, before: dict) -> None:
    waiting = one(lab, "SELECT count(*) FROM pg_locks WHERE NOT granted")
    assert waiting >= 1
    assert deadlocks(lab) > before["deadlocks"]
    assert server_log(lab).count("deadlock detected") > before["log"].count("deadlock detected")


def lock_contention_still_waiting(lab: Lab) -> None:
    """'for as long as injected': the waiters still wait seconds later."""
    assert wait_for(lambda: False, 2.0) is False  # let time pass
    assert one(lab, "SELECT count(*) FROM pg_locks WHERE NOT granted") >= 1


def bloat_present(lab: Lab, injection: Injection) -> None:
    dead, live, options = one(
        lab,
        "SELECT row(n_dead_tup, n_live_tup, c.reloptions::text) FROM pg_stat_user_tables s"
        " JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'faulttest_bloat'",
    )
    assert 85_000 <= int(dead) <= 90_000
    assert 9_000 <= int(live) <= 11_000
    assert "autovacuum_enabled=false" in options


def cache_miss_present(lab: Lab, injection: Injection) -> None:
    size = one(lab, "SELECT pg_table_size('faulttest_events')")
    shared = one(
        lab, "SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'"
    )
    assert size > shared and size >= 40 * 1024 * 1024
    hit, read = one(
        lab,
        "SELECT row(blks_hit, blks_read) FROM pg_stat_database WHERE datname = current_database()",
    )
    assert int(hit) / (int(hit) + int(read)) < 0.9


def refused_present(lab: Lab, injection: Injection) -> None:
    assert not lab.is_running("primary")
    error = connect_error(lab.info.dsn)
    assert error is not None and "Connection refused" in error


def refused_absent(lab: Lab) -> None:
    assert lab.is_running("primary")
    assert connect_error(lab.info.dsn) is None
    streaming = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
    assert one(lab, streaming) == 1  # restored means the replica streams again


def auth_present(lab: Lab, injection: Injection) -> None:
    error = connect_error(injection.agent_dsn)
    assert error is not None and "password authentication failed" in error
    assert connect_error(lab.info.dsn) is None  # nothing changed on the server
    assert injection.agent_dsn in injection.prompt


def not_exist_present(lab: Lab, injection: Injection) -> None:
    error = connect_error(injection.agent_dsn)
    assert error is not None and "does not exist" in error
    dbname = psycopg.conninfo.conninfo_to_dict(injection.agent_dsn)["dbname"]
    assert one(lab, "SELECT count(*) FROM pg_database WHERE datname = %s", params=[dbname]) == 0


def agent_dsn_is_lab_dsn(lab: Lab) -> None:
    assert connect_error(lab.info.dsn) is None


def lag_present(lab: Lab, injection: Injection) -> None:
    state, lag = one(
        lab,
        "SELECT row(pg_get_wal_replay_pause_state(),"
        " pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()))",
        node="replica",
    )
    assert state == "paused"
    assert float(lag) > 1024 * 1024 or wait_for(
        lambda: one(
            lab,
            "SELECT now() - pg_last_xact_replay_timestamp() > interval '5 s'",
            node="replica",
        ),
        8,
    )
    assert "{{" not in injection.prompt and lab.info.replica_dsn in injection.prompt


def lag_absent(lab: Lab) -> None:
    primary_lsn = one(lab, "SELECT pg_current_wal_lsn()::text")
    assert one(lab, "SELECT pg_get_wal_replay_pause_state()", node="replica") == "not paused"
    assert wait_for(
        lambda: one(
            lab,
            "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0",
            node="replica",
            params=[primary_lsn],
        ),
        10,
    )


PRESENT = {
    "db-max-connections": max_connections_present,
    "db-long-running-query": long_running_present,
    "db-table-bloat": bloat_present,
    "db-high-cache-miss": cache_miss_present,
    "db-connection-refused": refused_present,
    "db-auth-failure": auth_present,
    "db-not-exist": not_exist_present,
    "db-replication-lag": lag_present,
}
ABSENT = {
    "db-max-connections": max_connections_absent,
    "db-long-running-query": table_gone("faulttest_orders"),
    "db-table-bloat": table_gone("faulttest_bloat"),
    "db-high-cache-miss": table_gone("faulttest_events"),
    "db-connection-refused": refused_absent,
    "db-auth-failure": agent_dsn_is_lab_dsn,
    "db-not-exist": agent_dsn_is_lab_dsn,
    "db-replication-lag": lag_absent,
}


@pytest.fixture
def injector(clean_lab: Lab, tmp_path: Path) -> Injector:
    return Injector(LabTarget(clean_lab), Journal(tmp_path))


@pytest.mark.parametrize("failure_id", list(PRESENT))
def test_fault_is_real_and_teardown_restores(
    failure_id: str, clean_lab: Lab, injector: Injector
) -> None:
    failure = CATALOG.get(failure_id)
    injection = injector.inject(failure)
    try:
        assert injector.verify(failure, injection.agent_dsn).held
        PRESENT[failure_id](clean_lab, injection)
        assert injector.journal is not None and injector.journal.find(failure_id)
    finally:
        result = injector.teardown(failure)
    assert result.clean, result.leftovers
    ABSENT[failure_id](clean_lab)
    assert not injector.verify(failure).held
    assert leftovers(clean_lab) == []
    assert injector.journal.entries() == []
    again = injector.teardown(failure)
    assert again.clean and not again.was_injected


def test_lock_contention_waits_and_deadlocks(clean_lab: Lab, injector: Injector) -> None:
    failure = CATALOG.get("db-lock-contention")
    before = {"deadlocks": deadlocks(clean_lab), "log": server_log(clean_lab)}
    injector.inject(failure)
    try:
        lock_contention_present(clean_lab, None, before)  # type: ignore[arg-type]
        lock_contention_still_waiting(clean_lab)
        assert injector.verify(failure).held
    finally:
        result = injector.teardown(failure)
    assert result.clean, result.leftovers
    assert one(clean_lab, "SELECT count(*) FROM pg_locks WHERE NOT granted") == 0
    assert leftovers(clean_lab) == []
    assert injector.teardown(failure).clean


def test_every_builtin_database_fault_is_covered() -> None:
    database = [f.id for f in CATALOG.failures if f.category.value == "database"]
    assert sorted(database) == sorted([*PRESENT, "db-lock-contention"])


def test_max_connections_with_an_ordinary_role_on_a_dsn_target(
    clean_lab: Lab, tmp_path: Path
) -> None:
    """A user's staging DSN usually is no superuser: it fills the slots it can get, and the
    superuser-reserved ones stay free for the DBA (and the agent, if it has such a role)."""
    with clean_lab.connect() as conn:
        conn.execute("CREATE ROLE faulttest_app LOGIN PASSWORD 'apppass'")
    app_dsn = psycopg.conninfo.make_conninfo(
        clean_lab.info.dsn, user="faulttest_app", password="apppass"
    )
    injector = Injector(DsnTarget(app_dsn), Journal(tmp_path))
    failure = CATALOG.get("db-max-connections")
    try:
        injector.inject(failure)
        try:
            error = connect_error(app_dsn)
            assert error is not None and "remaining connection slots are reserved" in error
            assert connect_error(clean_lab.info.dsn) is None  # a superuser still gets in
        finally:
            result = injector.teardown(failure)
        assert result.clean, result.leftovers
        assert connect_error(app_dsn) is None
        assert leftovers(clean_lab) == []
    finally:
        with clean_lab.connect() as conn:
            conn.execute("DROP ROLE IF EXISTS faulttest_app")
