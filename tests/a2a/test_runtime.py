"""Real uvicorn servers on free loopback ports: serve_in_thread, the SDK client, logs."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from a2a.client import ClientConfig, ClientFactory
from a2a.helpers.proto_helpers import get_data_parts
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

from helpdesk.a2a.client import AgentTimeout, AgentUnreachable, ask, ask_sync, fetch_card_sync
from helpdesk.a2a.runtime import ServeError, serve_in_thread
from helpdesk.logfmt import LogfmtFormatter, fields
from helpdesk.result import AgentResult

from .conftest import SECRET, ArithAgent, SlowAgent


@pytest.fixture
def served(arith_agent: ArithAgent):
    with serve_in_thread(arith_agent) as agent:
        yield agent


def test_served_on_free_port_and_card_has_real_url(served) -> None:
    assert served.port > 0 and served.url == f"http://127.0.0.1:{served.port}"
    card = fetch_card_sync(served.url)
    assert card.name == "arith_agent"
    assert {i.url for i in card.supported_interfaces} == {served.url + "/"}


def test_sendmessage_round_trip_over_real_socket(served) -> None:
    result = ask_sync(served.url, "add 19 and 23", timeout=20)
    assert isinstance(result, AgentResult)
    assert result.text.startswith("The sum is 42.")
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    assert result.tool_calls[0].tool == "add" and result.tool_calls[0].ok


@pytest.mark.anyio
async def test_streaming_sendmessage_with_sdk_client(served) -> None:
    """SendStreamingMessage (SSE) via the SDK client ends in a completed task with both parts."""
    async with httpx.AsyncClient(timeout=20) as http:
        factory = ClientFactory(ClientConfig(streaming=True, httpx_client=http))
        client = await factory.create_from_url(served.url)
        request = SendMessageRequest(
            message=Message(message_id="s-1", role=Role.ROLE_USER, parts=[Part(text="add 1 1")])
        )
        events = [event async for event in client.send_message(request)]
    states = [e.status_update.status.state for e in events if e.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    artifacts = [e.artifact_update.artifact for e in events if e.HasField("artifact_update")]
    data = get_data_parts(artifacts[0].parts)
    assert AgentResult.model_validate(data[0]).text == "The sum is 2."


@pytest.mark.anyio
async def test_stopped_agent_is_unreachable(arith_agent: ArithAgent) -> None:
    served = serve_in_thread(arith_agent)
    url = served.url
    served.stop()
    served.stop()  # idempotent
    with pytest.raises(AgentUnreachable) as err:
        await ask(url, "add 1 2", timeout=5)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"no A2A agent at {url}: connection failed")


def test_port_in_use_is_a_serve_error(arith_agent: ArithAgent) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve_in_thread(arith_agent, port=port)


def test_logs_are_logfmt_and_never_show_passwords(served, caplog: pytest.LogCaptureFixture) -> None:
    dsn = f"host=127.0.0.1 port=5432 dbname=testdb user=postgres password={SECRET}"
    with caplog.at_level(logging.INFO):
        ask_sync(served.url, f"add 1 2 on `{dsn}`", timeout=20)
        httpx.post(f"{served.url}/tool/describe_target", json={"connection_string": dsn})
    formatter = LogfmtFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    assert any('msg="answer sent" agent=arith_agent' in line for line in lines), lines
    tool_line = next(line for line in lines if 'msg="tool called"' in line)
    assert "tool=describe_target ok=true" in tool_line
    assert "password=****" in tool_line
    assert all(SECRET not in line for line in lines)


def test_logfmt_formatter_masks_and_quotes() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "bad dsn %s", ("password=abc",), None
    )
    record.__dict__.update(fields(url="postgres://u:pw@h/db", n=3))
    line = LogfmtFormatter().format(record)
    assert line.startswith("time=")
    assert ' level=WARN msg="bad dsn password=****" url=postgres://u:****@h/db n=3' in line


def test_v03_message_stream_over_sse(served) -> None:
    """The Go aiHelpDesk may stream: 0.3 `message/stream` ends with a final status-update."""
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "message/stream",
        "params": {
            "message": {
                "kind": "message",
                "role": "user",
                "messageId": "go-stream",
                "parts": [{"kind": "text", "text": "add 2 2"}],
            }
        },
    }
    with httpx.stream("POST", served.url + "/", json=body, timeout=20) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line.removeprefix("data:"))["result"]
            for line in response.iter_lines()
            if line.startswith("data:")
        ]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "task" and kinds[-1] == "status-update"
    assert events[-1]["final"] is True and events[-1]["status"]["state"] == "completed"
    artifact = next(e["artifact"] for e in events if e["kind"] == "artifact-update")
    assert [p["kind"] for p in artifact["parts"]] == ["text", "data"]


_FOREGROUND = """
import sys
from helpdesk.a2a.runtime import serve
from helpdesk.logfmt import configure
from tests.a2a.conftest import ArithAgent
configure()
serve(ArithAgent(), "127.0.0.1", int(sys.argv[1]))
"""


def test_foreground_serve_stops_cleanly_on_ctrl_c(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _FOREGROUND, str(port)],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                assert ask_sync(url, "add 1 2", timeout=5).text == "The sum is 3."
                break
            except AgentUnreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert 'msg="agent stopped" agent=arith_agent' in stderr


def test_slow_agent_times_out_with_clear_message() -> None:
    with serve_in_thread(SlowAgent()) as served:
        started = time.monotonic()
        with pytest.raises(AgentTimeout, match=r"did not answer within 0.5s"):
            ask_sync(served.url, "add 1 2", timeout=0.5)
        assert time.monotonic() - started < 1.4


@pytest.mark.anyio
async def test_ask_sync_works_inside_a_running_loop(served) -> None:
    assert ask_sync(served.url, "add 2 3", timeout=20).text == "The sum is 5."
