"""End to end over a real A2A server: each built-in database fault, injected for real by the
faulttest library, is diagnosed by the database agent from the fault's own prompt.

Checks what issue 3 asks: the structured category equals the catalog's expected one, the
expected tools appear (succeeded) in the trace, and the answer cites the `must_cite` facts.
The agent never sees the fault id: only the rendered symptom prompt.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.catalog.models import FailureMode, FaultCategory
from faulttest.inject.engine import Injector
from faulttest.inject.journal import Journal
from faulttest.lab import Lab
from faulttest.targets import LabTarget
from helpdesk.a2a.client import ask_sync
from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.database.agent import DatabaseAgent

DATABASE_FAULTS = [f for f in load_catalog().failures if f.category is FaultCategory.DATABASE]


@pytest.fixture(scope="module")
def served_agent() -> Iterator[ServedAgent]:
    with serve_in_thread(DatabaseAgent()) as served:
        yield served


@pytest.mark.parametrize("failure", DATABASE_FAULTS, ids=lambda f: f.id)
def test_agent_diagnoses_the_injected_fault(
    failure: FailureMode,
    lab: Lab,
    served_agent: ServedAgent,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    injector = Injector(LabTarget(lab), Journal(tmp_path_factory.mktemp("journal")))
    injection = injector.inject(failure)
    try:
        assert failure.id not in injection.prompt
        result = ask_sync(served_agent.url, injection.prompt, timeout=failure.timeout)
    finally:
        assert injector.teardown(failure).clean
    expected = failure.evaluation
    assert result.diagnosis is not None, result.text
    assert result.diagnosis.category == expected.expected_diagnosis.category, result.text
    succeeded = {call.tool for call in result.tool_calls if call.ok}
    assert set(expected.expected_tools) <= succeeded, sorted(succeeded)
    answer = result.text.lower()
    for fact in expected.must_cite:
        assert fact.lower() in answer, f"{fact!r} not cited"
    assert lab.info.password not in result.model_dump_json()


def test_healthy_lab_is_healthy(lab: Lab, served_agent: ServedAgent) -> None:
    prompt = (
        f"Can you check whether the database at {lab.info.dsn} is fine? "
        "Nothing specific, just a routine check."
    )
    result = ask_sync(served_agent.url, prompt, timeout=60)
    assert result.diagnosis is not None
    assert result.diagnosis.category == "healthy", result.text


def test_an_earlier_deadlock_elsewhere_is_not_part_of_a_new_lock_queue(
    lab: Lab, served_agent: ServedAgent, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A deadlock logged seconds earlier on other tables must not colour a new lock queue."""
    catalog = load_catalog()
    injector = Injector(LabTarget(lab), Journal(tmp_path_factory.mktemp("journal")))
    earlier = catalog.get("db-lock-contention")
    injector.inject(earlier)
    assert injector.teardown(earlier).clean
    now = catalog.get("db-long-running-query")
    injection = injector.inject(now)
    try:
        result = ask_sync(served_agent.url, injection.prompt, timeout=now.timeout)
    finally:
        assert injector.teardown(now).clean
    assert result.diagnosis is not None
    assert result.diagnosis.category == "lock_blocking", result.text
    assert "deadlock" not in result.diagnosis.contributing, result.text
