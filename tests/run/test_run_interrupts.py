"""Interrupting `faulttest run`: Ctrl-C/SIGTERM tear down and write the reports; after a
SIGKILL the next run (or `teardown --all`) leaves no fault behind (real CLI, real labs)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from faulttest.inject.journal import Journal
from faulttest.lab import Lab, free_port
from faulttest.lab.ports import port_in_use
from helpdesk.a2a.runtime import ServedAgent
from tests.run.conftest import (
    SlowAgent,
    faulttest,
    holder_pids,
    injected,
    leftovers,
    only_report,
    start_faulttest,
    stop,
    wait_for,
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_an_interrupt_mid_fault_tears_down_and_writes_the_reports(
    sig: int,
    lab: Lab,
    faulttest_home: Path,
    tmp_path: Path,
    slow_agent: tuple[SlowAgent, ServedAgent],
) -> None:
    agent, served = slow_agent
    run = start_faulttest(
        "run", "--ids", "db-lock-contention,db-table-bloat", "--db-agent", served.url,
        "--agent-timeout", "60", "--junit", "j.xml",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert wait_for(agent.asked.is_set, 60), "the agent was never asked"
        assert injected(faulttest_home, "db-lock-contention")
        run.send_signal(sig)
        out, err = run.communicate(timeout=60)
    finally:
        stop(run)
    assert run.returncode == 130, out + err
    assert "[ERROR] db-lock-contention" in out and "interrupted" in out
    assert "db-table-bloat" not in out, "the run must stop after the interrupted fault"
    assert "Total: 1 | Passed: 0 | Failed: 1" in out
    assert "interrupted after 1 of 2 fault(s)" in err
    result = only_report(tmp_path)["results"][0]
    assert result["status"] == "error" and result["phases"]["teardown"] > 0
    assert (tmp_path / "j.xml").exists()
    assert not Journal(faulttest_home).entries()
    assert wait_for(lambda: not leftovers(lab), 10), leftovers(lab)


@pytest.fixture
def own_home(tmp_path: Path) -> Iterator[Path]:
    """A FAULTTEST_HOME of its own; whatever lab ends up recorded there is taken down."""
    home = tmp_path / "home"
    yield home
    lab = Lab.load(home)
    if lab is not None:
        lab.down()


def _killed_mid_fault(
    failure_id: str, home: Path, cwd: Path, agent: SlowAgent, url: str, *extra: str
) -> None:
    run = start_faulttest(
        "run", "--ids", failure_id, "--db-agent", url, "--agent-timeout", "60", *extra,
        home=home, cwd=cwd,
    )  # fmt: skip
    try:
        assert wait_for(agent.asked.is_set, 90), "the agent was never asked"
        assert injected(home, failure_id)
    finally:
        stop(run, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL


def test_after_sigkill_the_next_run_cleans_up_first(
    own_home: Path, tmp_path: Path, slow_agent: tuple[SlowAgent, ServedAgent]
) -> None:
    agent, served = slow_agent
    port, replica_port = free_port(), free_port()
    up = faulttest(
        "lab", "up", "--port", str(port), "--replica-port", str(replica_port),
        home=own_home, cwd=tmp_path,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    lab = Lab.load(own_home)
    assert lab is not None

    _killed_mid_fault("db-connection-refused", own_home, tmp_path, agent, served.url)
    assert not lab.is_running("primary"), "the killed run left the primary stopped"
    assert Journal(own_home).entries()

    again = faulttest("run", "--ids", "db-table-bloat", home=own_home, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Cleaning up 1 fault(s) left injected by an earlier run" in again.stdout
    assert "[PASS] db-table-bloat" in again.stdout
    assert not Journal(own_home).entries()
    assert lab.is_running("primary") and lab.is_running("replica"), "the user's lab stays up"
    assert wait_for(lambda: not leftovers(lab), 10), leftovers(lab)


def test_after_sigkill_teardown_all_cleans_and_the_next_run_takes_its_lab_down(
    own_home: Path, tmp_path: Path, slow_agent: tuple[SlowAgent, ServedAgent]
) -> None:
    agent, served = slow_agent
    _killed_mid_fault(
        "db-replication-lag", own_home, tmp_path, agent, served.url, "--lab-port", "0"
    )
    lab = Lab.load(own_home)
    assert lab is not None and lab.is_up(), "the killed run's lab is still running"
    assert holder_pids(lab), "the fault's holder outlived the run"
    with lab.connect("replica") as conn:
        paused = conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
    assert paused is not None and paused[0] != "not paused"

    cleaned = faulttest("teardown", "--all", home=own_home, cwd=tmp_path)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "torn down" in cleaned.stdout
    assert not Journal(own_home).entries()
    assert lab.is_running("primary")
    assert wait_for(lambda: not leftovers(lab), 10), leftovers(lab)

    port, replica_port = lab.port, lab.replica_port
    assert replica_port is not None
    again = faulttest("run", "--ids", "db-auth-failure", home=own_home, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Adopting the lab left running by an earlier, interrupted run" in again.stdout
    assert "Lab down" in again.stdout
    assert Lab.load(own_home) is None
    assert wait_for(lambda: not port_in_use(port) and not port_in_use(replica_port), 10)
