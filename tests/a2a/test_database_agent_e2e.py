"""End to end: the real postgres_database_agent served over A2A, asked about the healthy lab."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from helpdesk.a2a.client import AgentUnreachable, ask_sync, fetch_card_sync
from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.dsn import mask
from helpdesk.result import AgentResult

pytest.importorskip("helpdesk.agents.database.agent", reason="the database agent is not built yet")

from helpdesk.cli.a2a_cmds import load_agent  # noqa: E402

pytestmark = pytest.mark.lab

NINE = [
    "check_connection",
    "get_database_info",
    "get_active_connections",
    "get_connection_stats",
    "get_database_stats",
    "get_config_parameter",
    "get_replication_status",
    "get_lock_info",
    "get_table_stats",
]


def _prompt(dsn: str) -> str:
    return (
        "Please check the health of our database; users have not reported problems but we "
        f"want to be sure. The connection_string is `{dsn}`. Please investigate."
    )


@pytest.fixture(scope="module")
def served():
    with serve_in_thread(load_agent("database")) as agent:
        yield agent


def test_card_names_the_database_agent_and_its_tools(served) -> None:
    card = fetch_card_sync(served.url)
    assert card.name == "postgres_database_agent"
    skills = [s.id for s in card.skills]
    assert set(NINE) <= set(skills)
    schemas = httpx.get(f"{served.url}/schemas", timeout=10).json()
    assert [t["name"] for t in schemas["tools"]] == skills


def test_healthy_lab_is_diagnosed_healthy_over_a2a(lab, served) -> None:
    started = time.monotonic()
    result = ask_sync(served.url, _prompt(lab.info.dsn), timeout=120)
    elapsed = time.monotonic() - started
    assert result.diagnosis is not None, result.text
    assert result.diagnosis.category == "healthy", result.text
    assert result.text.strip()
    assert result.tool_calls and all(
        c.agent == "postgres_database_agent" for c in result.tool_calls
    )
    assert "check_connection" in {c.tool for c in result.tool_calls}
    dumped = result.model_dump_json()
    assert lab.info.password not in dumped
    assert mask(lab.info.dsn) in dumped
    print(f"healthy diagnosis over A2A: {elapsed:.2f}s, {len(result.tool_calls)} tool calls")


def test_tool_route_check_connection_on_lab(lab, served) -> None:
    response = httpx.post(
        f"{served.url}/tool/check_connection",
        json={"connection_string": lab.info.dsn},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tool"] == "check_connection" and body["ok"] is True
    assert lab.info.password not in response.text


def test_tool_route_bad_args_on_real_tool(served) -> None:
    response = httpx.post(f"{served.url}/tool/get_table_stats", json={"nope": 1}, timeout=10)
    assert response.status_code == 422
    assert "get_table_stats" in response.json()["error"]


def test_cli_serves_and_answers(lab) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli.main", "agent", "database", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                fetch_card_sync(url, timeout=2)
                break
            except AgentUnreachable:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "agent did not start"
                time.sleep(0.2)
        run = subprocess.run(
            [sys.executable, "-m", "helpdesk.cli.main", "ask", "--agent", url, "--json"]
            + [_prompt(lab.info.dsn)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stderr
        result = AgentResult.model_validate(json.loads(run.stdout))
        assert result.diagnosis is not None and result.diagnosis.category == "healthy"
        server.send_signal(signal.SIGINT)
        _, server_log = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, server_log
    assert 'msg="agent serving" agent=postgres_database_agent' in server_log
    assert 'msg="answer sent"' in server_log and "category=healthy" in server_log
    assert lab.info.password not in server_log + run.stdout + run.stderr
