"""The A2A app in-process (httpx ASGITransport): card, JSON-RPC 1.0 and 0.3, tool routes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from a2a.client.card_resolver import parse_agent_card
from a2a.helpers.proto_helpers import new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import Message, Role
from starlette.applications import Starlette

from helpdesk.a2a.client import AgentFailed, ask, fetch_card
from helpdesk.a2a.server import build_agent_card, build_app
from helpdesk.result import AgentResult

from .conftest import SECRET, ArithAgent, BrokenAgent

pytestmark = pytest.mark.anyio
BASE = "http://agent.test"
V1 = {"A2A-Version": "1.0"}


@pytest.fixture
async def http(arith_agent: ArithAgent) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(arith_agent, BASE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


def _rpc(method: str, params: dict[str, Any], rpc_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "method": method, "params": params}


def _v1_message(text: str) -> dict[str, Any]:
    return {"message": {"role": "ROLE_USER", "messageId": "m-1", "parts": [{"text": text}]}}


async def test_card_is_served_and_valid(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/agent-card.json")
    assert response.status_code == 200
    raw = response.json()
    card = parse_agent_card(dict(raw))
    assert card.name == "arith_agent"
    assert card.description.startswith("Adds numbers")
    assert card.version
    assert [s.id for s in card.skills] == ["add", "echo", "describe_target"]
    assert card.skills[0].description == "Add two integers."
    versions = {(i.protocol_binding, i.protocol_version, i.url) for i in card.supported_interfaces}
    assert versions == {("JSONRPC", "1.0", BASE + "/"), ("JSONRPC", "0.3", BASE + "/")}
    assert card.capabilities.streaming is True
    # 0.3 clients (the Go aiHelpDesk) read these legacy fields.
    assert raw["url"] == BASE + "/" and raw["protocolVersion"] == "0.3"


async def test_fetch_card_through_client(http: httpx.AsyncClient) -> None:
    card = await fetch_card(BASE, http=http)
    assert card.name == "arith_agent"


async def test_ask_round_trip_over_sdk_client(http: httpx.AsyncClient) -> None:
    result = await ask(BASE, "please add 2 and 40", http=http)
    assert result.text.startswith("The sum is 42.")
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    assert [c.tool for c in result.tool_calls] == ["add"]
    assert result.tool_calls[0].agent == "arith_agent"
    assert result.tool_calls[0].args == {"a": 2, "b": 40}


async def test_send_message_reply_has_text_and_data_parts(http: httpx.AsyncClient) -> None:
    response = await http.post("/", json=_rpc("SendMessage", _v1_message("add 3 4")), headers=V1)
    body = response.json()
    assert "error" not in body, body
    task = body["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    parts = task["artifacts"][0]["parts"]
    texts = [p["text"] for p in parts if "text" in p]
    datas = [p["data"] for p in parts if "data" in p]
    assert texts == ["The sum is 7."]
    assert len(datas) == 1
    result = AgentResult.model_validate(datas[0])
    assert result.text == "The sum is 7."
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    assert task["status"]["message"]["parts"][0]["text"] == "The sum is 7."

    got = await http.post("/", json=_rpc("GetTask", {"id": task["id"]}, 2), headers=V1)
    assert got.json()["result"]["status"]["state"] == "TASK_STATE_COMPLETED"


async def test_v03_message_send_works(http: httpx.AsyncClient) -> None:
    """The Go aiHelpDesk speaks 0.3: `message/send`, `kind` fields, no A2A-Version header."""
    assert "A2A-Version" not in http.headers
    params = {
        "message": {
            "kind": "message",
            "role": "user",
            "messageId": "go-1",
            "parts": [{"kind": "text", "text": "add 20 22"}],
        }
    }
    body = (await http.post("/", json=_rpc("message/send", params))).json()
    assert "error" not in body, body
    task = body["result"]
    assert task["kind"] == "task"
    assert task["status"]["state"] == "completed"
    parts = task["artifacts"][0]["parts"]
    assert [p["kind"] for p in parts] == ["text", "data"]
    assert parts[0]["text"] == "The sum is 42."
    assert AgentResult.model_validate(parts[1]["data"]).diagnosis.category == "healthy"

    got = await http.post("/", json=_rpc("tasks/get", {"id": task["id"]}, 2))
    assert got.json()["result"]["status"]["state"] == "completed"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", -32700),
        (json.dumps({"jsonrpc": "2.0", "id": 1}).encode(), -32600),
        (json.dumps(_rpc("NoSuchMethod", {})).encode(), -32601),
        (json.dumps(_rpc("SendMessage", {"message": "not an object"})).encode(), -32602),
    ],
)
async def test_malformed_jsonrpc_gets_jsonrpc_error(
    http: httpx.AsyncClient, payload: bytes, code: int
) -> None:
    response = await http.post(
        "/", content=payload, headers={**V1, "Content-Type": "application/json"}
    )
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert "result" not in body
    assert body["error"]["code"] == code, body


async def test_failing_agent_gives_failed_task_with_clear_masked_message() -> None:
    app = build_app(BrokenAgent(), BASE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        raw = await c.post("/", json=_rpc("SendMessage", _v1_message("hi")), headers=V1)
        task = raw.json()["result"]["task"]
        assert task["status"]["state"] == "TASK_STATE_FAILED"
        reason = task["status"]["message"]["parts"][0]["text"]
        assert "broken_agent failed: cannot connect" in reason
        assert SECRET not in raw.text
        with pytest.raises(AgentFailed, match="broken_agent failed the task") as err:
            await ask(BASE, "hi", http=c)
        assert SECRET not in str(err.value)


async def test_passwords_are_masked_in_answer_and_trace(http: httpx.AsyncClient) -> None:
    dsn = f"host=127.0.0.1 port=5432 dbname=testdb user=postgres password={SECRET}"
    raw = await http.post(
        "/", json=_rpc("SendMessage", _v1_message(f"add 1 2 on `{dsn}`")), headers=V1
    )
    assert SECRET not in raw.text
    assert "password=****" in raw.text
    result = await ask(BASE, f"add 1 2 on `{dsn}`", http=http)
    dumped = result.model_dump_json()
    assert SECRET not in dumped
    assert result.tool_calls[1].args["connection_string"].endswith("password=****")


class _TextOnlyExecutor(AgentExecutor):
    """A third-party style agent: answers with one plain text Message, no task, no data."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        reply = f"I looked into it: {context.get_user_input()}"
        await event_queue.enqueue_event(
            Message(message_id="r-1", role=Role.ROLE_AGENT, parts=[new_text_part(reply)])
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


async def test_text_only_agent_becomes_text_only_result() -> None:
    card = build_agent_card(ArithAgent(), BASE + "/")
    card.name = "third_party"
    handler = DefaultRequestHandler(
        agent_executor=_TextOnlyExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    app = Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        result = await ask(BASE, "slow queries", http=c)
    assert result.text == "I looked into it: slow queries"
    assert result.diagnosis is None
    assert result.model.vendor == "unknown"


async def test_tool_route_runs_tool(http: httpx.AsyncClient) -> None:
    response = await http.post("/tool/add", json={"a": 2, "b": 3})
    assert response.status_code == 200
    assert response.json() == {"tool": "add", "ok": True, "output": "2 + 3 = 5", "data": {"sum": 5}}


async def test_tool_route_masks_password(http: httpx.AsyncClient) -> None:
    dsn = f"host=db password={SECRET}"
    response = await http.post("/tool/describe_target", json={"connection_string": dsn})
    assert response.status_code == 200
    assert SECRET not in response.text
    assert response.json()["output"] == "target: host=db password=****"


async def test_tool_route_tool_error_is_ok_false(http: httpx.AsyncClient) -> None:
    response = await http.post("/tool/describe_target", json={"connection_string": "nonsense"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["output"].startswith("error: cannot parse")


async def test_tool_route_unknown_tool_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post("/tool/drop_everything", json={})
    assert response.status_code == 404
    assert "unknown tool 'drop_everything'" in response.json()["error"]
    assert "add" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"a": 1}, 422, "missing required argument(s): b"),
        ({"a": 1, "b": "two"}, 422, "argument 'b' must be of type integer"),
        ({"a": 1, "b": 2, "c": 3}, 422, "unknown argument(s): c"),
        ([1, 2], 422, "arguments must be a JSON object"),
    ],
)
async def test_tool_route_bad_args_are_422(
    http: httpx.AsyncClient, body: Any, status: int, fragment: str
) -> None:
    response = await http.post("/tool/add", json=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]


async def test_tool_route_invalid_json_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post("/tool/add", content=b"{a: 1")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


async def test_schemas_lists_every_tool(http: httpx.AsyncClient, arith_agent: ArithAgent) -> None:
    response = await http.get("/schemas")
    assert response.status_code == 200
    body = response.json()
    assert body["agent"] == "arith_agent"
    assert body["tools"] == arith_agent.tools.schemas()
    assert body["tools"][0]["parameters"]["required"] == ["a", "b"]


def test_card_on_wildcard_address_is_rebased_to_the_asked_host() -> None:
    from helpdesk.a2a.client import _rebase

    card = build_agent_card(ArithAgent(), "http://0.0.0.0:1100/")
    fixed = _rebase(card, "http://db-agent.example:1100")
    assert {i.url for i in fixed.supported_interfaces} == {"http://db-agent.example:1100/"}
    assert card.supported_interfaces[0].url == "http://0.0.0.0:1100/"
