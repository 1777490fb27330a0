"""`faulttest inject / teardown / selftest` as a user runs them: real subprocesses, real lab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faulttest.lab import Lab
from tests.inject.conftest import connect_error, faulttest, holder_pids, leftovers, wait_for

pytestmark = pytest.mark.lab


def journal(home: Path) -> list[dict]:
    path = home / "journal.json"
    return json.loads(path.read_text())["injections"] if path.exists() else []


def test_inject_prints_the_block_and_teardown_cleans(clean_lab: Lab) -> None:
    done = faulttest("inject", "--id", "db-table-bloat", home=clean_lab.home)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Failure injected: Table bloat / dead tuples"
    assert lines[1] == ""
    assert lines[2] == "Suggested prompt for the agent:"
    assert lines[3].startswith(f"The database at {clean_lab.info.dsn} seems to be using more disk")
    assert lines[4] == ""
    assert lines[5] == "To tear down: faulttest teardown --id db-table-bloat"
    assert "testpass" not in done.stderr
    [entry] = journal(clean_lab.home)
    assert entry["failure_id"] == "db-table-bloat" and entry["state"] == "injected"
    assert "testpass" not in (clean_lab.home / "journal.json").read_text()

    again = faulttest("inject", "--id", "db-table-bloat", home=clean_lab.home)
    assert again.returncode == 2 and "already injected" in again.stderr

    down = faulttest("teardown", "--id", "db-table-bloat", home=clean_lab.home)
    assert down.returncode == 0, down.stderr
    assert "clean" in down.stdout
    assert leftovers(clean_lab) == [] and journal(clean_lab.home) == []
    twice = faulttest("teardown", "--id", "db-table-bloat", home=clean_lab.home)
    assert twice.returncode == 0, twice.stderr


def test_teardown_all_after_the_injecting_process_was_killed(clean_lab: Lab) -> None:
    env = {**os.environ, "FAULTTEST_HOME": str(clean_lab.home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "faulttest.cli.main", "inject", "--id", "db-max-connections"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # SIGKILL it mid-injection, as soon as its holder process is journaled
    assert wait_for(lambda: any(e["holders"] for e in journal(clean_lab.home)), 20)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert holder_pids(clean_lab), "the holder must outlive the killed inject command"
    assert wait_for(lambda: "too many clients" in (connect_error(clean_lab.info.dsn) or ""), 10)

    done = faulttest("teardown", "--all", home=clean_lab.home)
    assert done.returncode == 0, done.stderr
    assert "Max connections exhausted torn down" in done.stdout
    assert connect_error(clean_lab.info.dsn) is None
    assert leftovers(clean_lab) == [] and journal(clean_lab.home) == []


def test_teardown_all_restarts_a_stopped_primary_and_undoes_several(clean_lab: Lab) -> None:
    for failure_id in ("db-long-running-query", "db-connection-refused"):
        done = faulttest("inject", "--id", failure_id, home=clean_lab.home)
        assert done.returncode == 0, done.stderr
    assert not clean_lab.is_running("primary")
    assert len(journal(clean_lab.home)) == 2

    done = faulttest("teardown", "--all", home=clean_lab.home)
    assert done.returncode == 0, done.stderr
    assert clean_lab.is_running("primary")
    assert leftovers(clean_lab) == [] and journal(clean_lab.home) == []
    again = faulttest("teardown", "--all", home=clean_lab.home)
    assert again.returncode == 0 and "Nothing injected" in again.stdout


def test_a_fault_that_does_not_take_exits_1_and_cleans_up(clean_lab: Lab, tmp_path: Path) -> None:
    catalog = tmp_path / "never.yaml"
    catalog.write_text(
        """
version: "1"
failures:
  - id: custom-never-holds
    name: "Never holds"
    category: database
    severity: low
    owns: {tables: [faulttest_never]}
    inject:
      - type: sql
        script_inline: CREATE TABLE faulttest_never (id int)
      - type: sessions
        sessions: [{name: idle, sql: ["SELECT 1"]}]
    verify: {type: sql, query: "SELECT false"}
    prompt: "Something is odd with {{connection_string}}."
    timeout: 2s
"""
    )
    done = faulttest(
        "inject", "--id", "custom-never-holds", "--catalog", str(catalog), home=clean_lab.home
    )
    assert done.returncode == 1
    assert "did not take within 2s" in done.stderr and "returned False" in done.stderr
    assert "Traceback" not in done.stderr
    assert leftovers(clean_lab) == [] and journal(clean_lab.home) == []

    selftest = faulttest(
        "selftest", "--ids", "custom-never-holds", "--catalog", str(catalog), home=clean_lab.home
    )
    assert selftest.returncode == 1
    assert "FAIL  custom-never-holds" in selftest.stdout
    assert selftest.stdout.rstrip().endswith("Total: 1 | Held: 0 | Failed: 1 | Skipped: 0")
    assert leftovers(clean_lab) == []


def _infra(tmp_path: Path, lab: Lab, tags: list[str]) -> Path:
    path = tmp_path / "infrastructure.json"
    server = {
        "connection_string": f"host=127.0.0.1 port={lab.port} dbname=testdb user=postgres",
        "password_env": "STAGING_DB_PASSWORD",
        "tags": tags,
    }
    path.write_text(json.dumps({"db_servers": {"staging-db": server}}))
    return path


def test_an_unregistered_target_is_refused(clean_lab: Lab, tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"  # no lab recorded here: the DSN is just some server
    done = faulttest("inject", "--id", "db-table-bloat", "--conn", clean_lab.info.dsn, home=home)
    assert done.returncode == 3
    assert done.stderr.startswith("error: refusing to touch host=127.0.0.1")
    assert "testpass" not in done.stderr + done.stdout
    infra = _infra(tmp_path, clean_lab, tags=["production"])
    done = faulttest(
        "inject", "--id", "db-table-bloat", "--conn", clean_lab.info.dsn,
        "--infra-config", str(infra), home=home,
    )  # fmt: skip
    assert done.returncode == 3 and "without a test or chaos tag" in done.stderr
    # the lab with somebody else's server as its "replica" is not the lab any more
    foreign = "host=db.prod.example port=5432 dbname=app user=ops password=hunter2"
    done = faulttest(
        "inject", "--id", "db-table-bloat", "--replica-conn", foreign, home=clean_lab.home
    )
    assert done.returncode == 3 and "host=db.prod.example" in done.stderr
    assert "hunter2" not in done.stderr
    assert leftovers(clean_lab) == []


def test_a_registered_test_target_is_accepted_by_alias(clean_lab: Lab, tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    infra = _infra(tmp_path, clean_lab, tags=["test"])
    env = {"STAGING_DB_PASSWORD": clean_lab.info.password}
    flags = ["--conn", "staging-db", "--infra-config", str(infra)]
    done = faulttest("inject", "--id", "db-table-bloat", *flags, home=home, env=env)
    assert done.returncode == 0, done.stderr
    assert f"To tear down: faulttest teardown --id db-table-bloat {' '.join(flags)}" in done.stdout
    [entry] = journal(home)
    assert entry["target"]["kind"] == "dsn"
    assert clean_lab.info.password not in (home / "journal.json").read_text()

    # server control is not available on a plain DSN target: a clear refusal, exit 2
    refused = faulttest("inject", "--id", "db-connection-refused", *flags, home=home, env=env)
    assert refused.returncode == 2 and "server control" in refused.stderr

    # without --conn, teardown --id goes where the journal says the fault went
    down = faulttest(
        "teardown", "--id", "db-table-bloat", "--infra-config", str(infra), home=home, env=env
    )
    assert down.returncode == 0, down.stderr
    assert "torn down on host=127.0.0.1" in down.stdout
    assert leftovers(clean_lab) == [] and journal(home) == []


def test_no_lab_and_no_conn_says_how_to_fix(tmp_path: Path) -> None:
    done = faulttest("inject", "--id", "db-table-bloat", home=tmp_path)
    assert done.returncode == 2
    assert "no lab running: run `faulttest lab up` or pass --conn" in done.stderr


def test_kubernetes_faults_exit_2_with_the_reason(clean_lab: Lab) -> None:
    done = faulttest("inject", "--id", "k8s-crashloop", home=clean_lab.home)
    assert done.returncode == 2
    assert "needs a Kubernetes context (--context or FAULTTEST_KUBE_CONTEXT)" in done.stderr


def test_selftest_on_the_running_lab(clean_lab: Lab) -> None:
    started = time.monotonic()
    done = faulttest("selftest", home=clean_lab.home)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    passed = [line for line in lines if line.startswith("PASS")]
    skipped = [line for line in lines if line.startswith("SKIP")]
    assert len(passed) == 9 and len(skipped) == 8
    assert all("inject" in line and "teardown" in line for line in passed)
    assert lines[-1] == "Total: 17 | Held: 9 | Failed: 0 | Skipped: 8"
    assert "testpass" not in done.stdout
    assert leftovers(clean_lab) == []
    assert elapsed < 120


def test_selftest_on_a_dsn_target_skips_what_needs_server_control(
    clean_lab: Lab, tmp_path: Path
) -> None:
    infra = _infra(tmp_path, clean_lab, tags=["chaos"])
    env = {"STAGING_DB_PASSWORD": clean_lab.info.password}
    done = faulttest(
        "selftest", "--ids", "db-connection-refused,db-auth-failure,db-replication-lag",
        "--conn", "staging-db", "--infra-config", str(infra),
        home=tmp_path / "elsewhere", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  db-auth-failure" in done.stdout
    assert "SKIP  db-connection-refused" in done.stdout and "server control" in done.stdout
    assert "SKIP  db-replication-lag" in done.stdout and "replica" in done.stdout


def test_teardown_all_after_the_lab_was_taken_down_stops_the_holders(tmp_path: Path) -> None:
    from tests.conftest import distinct_free_ports

    home = tmp_path / "short-lived"
    [port] = distinct_free_ports(1)
    lab = Lab(home=home, port=port, replica=False)
    lab.up()
    try:
        done = faulttest("inject", "--id", "db-long-running-query", home=home)
        assert done.returncode == 0, done.stderr
        assert holder_pids(lab)
    finally:
        lab.down()
    done = faulttest("teardown", "--all", home=home)
    assert done.returncode == 0, done.stderr
    assert "no longer runs" in done.stdout
    assert holder_pids(lab) == [] and journal(home) == []


def test_teardown_all_needs_the_password_of_a_dsn_target_and_says_so(
    clean_lab: Lab, tmp_path: Path
) -> None:
    home = tmp_path / "elsewhere"
    infra = tmp_path / "infrastructure.json"
    registered = f"host=127.0.0.1 port={clean_lab.port} dbname=testdb user=postgres"
    infra.write_text(
        json.dumps(
            {"db_servers": [{"name": "qa", "connection_string": registered, "tags": ["test"]}]}
        )
    )
    flags = ["--infra-config", str(infra)]
    done = faulttest(
        "inject", "--id", "db-table-bloat", "--conn", clean_lab.info.dsn, *flags, home=home
    )
    assert done.returncode == 0, done.stderr

    blind = faulttest("teardown", "--all", *flags, home=home, env={"PGPASSWORD": ""})
    assert blind.returncode == 1
    assert "no password supplied" in blind.stderr and "pass --conn" in blind.stderr
    assert journal(home)[0]["state"] == "dirty"

    done = faulttest("teardown", "--all", "--conn", clean_lab.info.dsn, *flags, home=home)
    assert done.returncode == 0, done.stderr
    assert leftovers(clean_lab) == [] and journal(home) == []
