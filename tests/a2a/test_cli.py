"""`helpdesk ask` as a user runs it (subprocess) against a real served agent."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.result import AgentResult

from .conftest import SECRET, ArithAgent


def helpdesk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def agent_url():
    with serve_in_thread(ArithAgent()) as served:
        yield served.url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ask_prints_answer_and_diagnosis(agent_url: str) -> None:
    run = helpdesk("ask", "--agent", agent_url, "add 40 2")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("The sum is 42.")
    assert "Diagnosis: healthy (confidence 1.00)" in run.stdout
    assert "Tools used (1 calls): add" in run.stdout


def test_ask_json_is_a_full_agent_result(agent_url: str) -> None:
    dsn = f"host=127.0.0.1 dbname=testdb user=postgres password={SECRET}"
    run = helpdesk("ask", "--agent", agent_url, "--json", f"add 1 2 on `{dsn}`")
    assert run.returncode == 0, run.stderr
    result = AgentResult.model_validate(json.loads(run.stdout))
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    assert [c.tool for c in result.tool_calls] == ["add", "describe_target"]
    assert SECRET not in run.stdout + run.stderr
    assert "password=****" in run.stdout


def test_ask_reads_message_from_stdin(agent_url: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli.main", "ask", "--agent", agent_url, "-"],
        input="add 5 5\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("The sum is 10.")


def test_unreachable_agent_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    run = helpdesk("ask", "--agent", url, "--timeout", "5", "hello")
    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: no A2A agent at {url}: connection failed")


def test_bad_usage_exits_2() -> None:
    assert helpdesk("ask").returncode == 2
    assert helpdesk("ask", "--timeout", "soon", "hi").returncode == 2
    run = helpdesk("ask", "   ")
    assert run.returncode == 2 and run.stderr.strip() == "error: the message is empty"
