"""The pytest route: `pytest --faulttest` turns catalog faults into test items.

Same selection, skip rules and runner as `faulttest run` (through `faulttest.run.session`),
for teams that already gate CI on pytest. Inactive unless `--faulttest` is given.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faulttest", "aiHelpDesk failure testing")
    group.addoption("--faulttest", action="store_true", help="Run catalog faults as test items.")
    group.addoption("--faulttest-ids", default=None, help="Comma list of failure ids.")
    group.addoption("--faulttest-categories", default=None, help="Comma list of categories.")
    group.addoption("--faulttest-exclude-ids", default=None, help="Comma list of ids to omit.")
    group.addoption(
        "--faulttest-catalog", action="append", default=[], help="Custom catalog (repeatable)."
    )
    group.addoption("--faulttest-conn", default=None, help="Target DSN (default: the lab).")
    group.addoption("--faulttest-replica-conn", default=None, help="Replica DSN.")
    group.addoption("--faulttest-context", default=None, help="Kubernetes context.")
    group.addoption("--faulttest-db-agent", default=None, help="Database agent URL (A2A).")
    group.addoption("--faulttest-k8s-agent", default=None, help="k8s agent URL (A2A).")
    group.addoption("--faulttest-orchestrator", default=None, help="Orchestrator URL (A2A).")
    group.addoption("--faulttest-infra-config", default=None, help="infrastructure.json.")
    group.addoption("--faulttest-repeat", type=int, default=1, help="Runs per fault.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faulttest: a failure mode from the faulttest catalog")


def _request(config: pytest.Config) -> Any:
    from faulttest.run.session import RunRequest

    opt = config.getoption
    return RunRequest(
        ids=opt("--faulttest-ids"),
        categories=opt("--faulttest-categories"),
        exclude_ids=opt("--faulttest-exclude-ids"),
        catalog=[Path(p) for p in opt("--faulttest-catalog")],
        conn=opt("--faulttest-conn"),
        replica_conn=opt("--faulttest-replica-conn"),
        context=opt("--faulttest-context"),
        db_agent=opt("--faulttest-db-agent"),
        k8s_agent=opt("--faulttest-k8s-agent"),
        orchestrator=opt("--faulttest-orchestrator"),
        infra_config=opt("--faulttest-infra-config"),
        repeat=opt("--faulttest-repeat"),
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--faulttest"):
        return
    from faulttest.errors import FaulttestError
    from faulttest.run.session import select

    request = _request(config)
    try:
        failures = select(request)
    except FaulttestError as exc:
        raise pytest.UsageError(f"faulttest: {exc}") from None
    harness = _Harness(request)
    config.add_cleanup(harness.close)
    for failure in failures:
        item = FaultItem.from_parent(session, name=failure.id, failure=failure, harness=harness)
        item.add_marker("faulttest")
        items.append(item)


class FaultFailed(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.reason)
        self.result = result


class FaultItem(pytest.Item):
    def __init__(self, *, failure: Any, harness: _Harness, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failure = failure
        self.harness = harness

    def runtest(self) -> None:
        from faulttest.report.models import Status

        runner = self.harness.runner()
        reason = runner.skip_reason(self.failure)
        if reason:  # before anything is started for it
            pytest.skip(reason)
        from faulttest.run.pipeline import Interrupted

        try:
            result = runner.run_repeated(self.failure)
        except Interrupted:  # torn down already; let pytest stop the session as on Ctrl-C
            raise KeyboardInterrupt from None
        self.user_properties.append(("score", result.score))
        self.user_properties.append(("status", result.status.value))
        if result.status is Status.SKIPPED:
            pytest.skip(result.reason)
        if result.status is not Status.PASSED:
            raise FaultFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, FaultFailed):
            result = excinfo.value.result
            return f"[{result.status.value.upper()}] {self.failure.id}: {result.reason}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.failure.source or "catalog"), 0, f"faulttest: {self.failure.id}"


class _Harness:
    """The target, journal and agents shared by all fault items; opened on first use."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self._stack = contextlib.ExitStack()
        self._runner: Any = None

    def runner(self) -> Any:
        if self._runner is None:
            from faulttest.run.session import open_run

            self._runner, _target = self._stack.enter_context(open_run(self.request, print))
        return self._runner

    def close(self) -> None:
        self._stack.close()
