"""Helpers for the runner tests: the real CLI in a subprocess, lab checks, real A2A agents.

`SlowAgent` is a real A2A agent (served over HTTP on a free port) that holds every
question until released, to test hanging agents, timeouts and interrupts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faulttest.inject.journal import Journal
from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.base import ToolRegistry
from helpdesk.result import AgentResult
from tests.inject.conftest import holder_pids, leftovers, wait_for

__all__ = ["holder_pids", "leftovers", "wait_for"]

_SCRUBBED = (
    "HELPDESK_INFRA_CONFIG",
    "FAULTTEST_CONN",
    "FAULTTEST_REPLICA_CONN",
    "FAULTTEST_KUBE_CONTEXT",
    "HELPDESK_MODEL_VENDOR",
    "HELPDESK_MODEL_NAME",
    "HELPDESK_API_KEY",
    "HELPDESK_MODEL_BASE_URL",
    "FAULTTEST_LAB_PORT",
    "FAULTTEST_LAB_REPLICA_PORT",
)


def cli_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update({"FAULTTEST_HOME": str(home), "COLUMNS": "200", **(extra or {})})
    return env


def faulttest(
    *args: str,
    home: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """Run the real `faulttest` command and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "faulttest.cli.main", *args],
        env=cli_env(home, env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_faulttest(
    *args: str, home: Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start the real `faulttest` command (to interrupt or kill it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "faulttest.cli.main", *args],
        env=cli_env(home, env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a signal to the test process group must not reach it
    )


def injected(home: Path, failure_id: str) -> bool:
    """True once the journal records `failure_id` as fully injected."""
    return any(
        e.failure_id == failure_id and e.state == "injected" for e in Journal(home).entries()
    )


def only_report(directory: Path) -> dict[str, Any]:
    reports = sorted(directory.glob("faulttest-*.json"))
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text())


def stop(process: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(30)


class SlowAgent:
    """Answers nothing until `release()` (or its hold time runs out): a hanging agent."""

    name = "slow_agent"
    description = "A real A2A agent that hangs, for timeout and interrupt tests."

    def __init__(self, hold: float = 60.0) -> None:
        self.tools = ToolRegistry(self.name)
        self.asked = threading.Event()
        self._release = threading.Event()
        self.hold = hold

    def answer(self, message: str) -> AgentResult:
        self.asked.set()
        self._release.wait(self.hold)
        return AgentResult.text_only("I looked, but I have no idea.")

    def release(self) -> None:
        self._release.set()


@pytest.fixture
def slow_agent() -> Iterator[tuple[SlowAgent, ServedAgent]]:
    agent = SlowAgent()
    served = serve_in_thread(agent)
    yield agent, served
    agent.release()
    served.stop()
