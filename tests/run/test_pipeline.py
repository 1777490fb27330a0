"""The Runner on the real lab with a scripted `ask` (the agent side is not under test here):
whatever the agent call does — raise, interrupt, exit — the fault is torn down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal
from faulttest.lab import Lab
from faulttest.report.models import Status
from faulttest.run.agents import AgentSet, AgentUrls
from faulttest.run.pipeline import Interrupted, Runner, RunSettings
from faulttest.targets import LabTarget
from helpdesk.result import AgentResult
from tests.run.conftest import leftovers

FAULT = load_catalog().get("db-lock-contention")


def _runner(lab: Lab, home: Path, ask: Callable[[str, str, float], AgentResult]) -> Runner:
    agents = AgentSet(AgentUrls(database="http://127.0.0.1:9/unused"), in_process=False)
    injector = Injector(LabTarget(lab), Journal(home), home=home)
    return Runner(injector, agents, RunSettings(), ask=ask)


def _raising(exc: BaseException) -> Callable[[str, str, float], AgentResult]:
    def ask(url: str, prompt: str, timeout: float) -> AgentResult:
        assert "connection" in prompt.lower() or "database" in prompt.lower()
        raise exc

    return ask


def test_an_unexpected_error_is_an_error_result_and_the_fault_is_torn_down(
    lab: Lab, faulttest_home: Path
) -> None:
    runner = _runner(lab, faulttest_home, _raising(RuntimeError("client bug")))
    result = runner.run_one(FAULT)
    assert result.status is Status.ERROR
    assert result.error == "unexpected error: client bug"
    assert result.phases.inject > 0 and result.phases.teardown > 0
    assert not Journal(faulttest_home).entries()
    assert not leftovers(lab)


def test_ctrl_c_while_asking_tears_down_and_stops_the_run(lab: Lab, faulttest_home: Path) -> None:
    runner = _runner(lab, faulttest_home, _raising(KeyboardInterrupt()))
    with pytest.raises(Interrupted) as stopped:
        runner.run([FAULT, load_catalog().get("db-table-bloat")])
    (result,) = stopped.value.results
    assert result.failure_id == FAULT.id and result.status is Status.ERROR
    assert "interrupted" in (result.error or "")
    assert not Journal(faulttest_home).entries()
    assert not leftovers(lab)


def test_system_exit_while_asking_still_tears_down(lab: Lab, faulttest_home: Path) -> None:
    runner = _runner(lab, faulttest_home, _raising(SystemExit(4)))
    with pytest.raises(SystemExit):
        runner.run_one(FAULT)
    assert not Journal(faulttest_home).entries()
    assert not leftovers(lab)


def test_a_missing_agent_without_in_process_agents_is_a_skip_with_the_flag(
    lab: Lab, faulttest_home: Path
) -> None:
    injector = Injector(LabTarget(lab), Journal(faulttest_home), home=faulttest_home)
    runner = Runner(injector, AgentSet(in_process=False))
    result = runner.run_one(FAULT)
    assert result.status is Status.SKIPPED
    assert result.skip_reason == "no agent for database faults (pass --db-agent URL)"
