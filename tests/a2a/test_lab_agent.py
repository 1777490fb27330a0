"""A small real agent whose tool queries the lab PostgreSQL, served over a real A2A server."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from helpdesk.a2a.client import ask_sync
from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.agents.base import Tool, ToolError, ToolOutput, ToolRegistry
from helpdesk.dsn import mask
from helpdesk.result import AgentResult, Diagnosis

pytestmark = pytest.mark.lab


def _server_version(connection_string: str) -> ToolOutput:
    try:
        with psycopg.connect(connection_string, connect_timeout=5) as conn:
            row = conn.execute("SELECT current_setting(%s)", ("server_version",)).fetchone()
    except psycopg.OperationalError as exc:
        raise ToolError(f"cannot connect to {connection_string}: {exc}") from None
    version = row[0] if row else "?"
    return ToolOutput(text=f"PostgreSQL {version}", data={"server_version": version})


class VersionAgent:
    name = "version_agent"
    description = "Reports the PostgreSQL server version of the DSN in the message."

    def __init__(self) -> None:
        self.tools = ToolRegistry(self.name)
        self.tools.add(
            Tool(
                "get_server_version",
                "The server version of a PostgreSQL database.",
                {
                    "type": "object",
                    "properties": {"connection_string": {"type": "string"}},
                    "required": ["connection_string"],
                },
                _server_version,
            )
        )

    def answer(self, message: str) -> AgentResult:
        dsn = message.split("`")[1]
        trace: list = []
        output = self.tools.call("get_server_version", {"connection_string": dsn}, trace)
        category = "healthy" if output.ok else "connection_refused"
        return AgentResult(
            text=f"{output.text} at {dsn}",
            diagnosis=Diagnosis(category=category, evidence=[output.text]),
            tool_calls=trace,
        )


@pytest.fixture(scope="module")
def served():
    with serve_in_thread(VersionAgent()) as agent:
        yield agent


def test_lab_query_over_a2a_with_password_masked(lab, served) -> None:
    info = lab.info
    result = ask_sync(served.url, f"Which version runs at `{info.dsn}`?", timeout=30)
    assert result.text.startswith(f"PostgreSQL {info.server_version}")
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    call = result.tool_calls[0]
    assert call.tool == "get_server_version" and call.ok
    assert call.args["connection_string"] == mask(info.dsn)
    assert info.password not in result.model_dump_json()


def test_lab_tool_route(lab, served) -> None:
    response = httpx.post(
        f"{served.url}/tool/get_server_version",
        json={"connection_string": lab.info.dsn},
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["data"] == {"server_version": lab.info.server_version}


def test_lab_tool_route_wrong_password_is_ok_false_and_masked(lab, served) -> None:
    wrong = lab.info.dsn.replace(f"password={lab.info.password}", "password=wrong-Secret-9")
    assert "wrong-Secret-9" in wrong
    response = httpx.post(
        f"{served.url}/tool/get_server_version", json={"connection_string": wrong}, timeout=30
    )
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    assert "password authentication failed" in body["output"]
    assert "wrong-Secret-9" not in response.text
