"""The ASGI app that serves any `Agent` over A2A, plus direct tool routes.

A2A 1.0 JSON-RPC (and the 0.3 method names the Go aiHelpDesk speaks) at `/`, the agent
card at `/.well-known/agent-card.json`, `POST /tool/{name}` and `GET /schemas`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from a2a.utils.constants import PROTOCOL_VERSION_0_3, PROTOCOL_VERSION_1_0, TransportProtocol
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from helpdesk import __version__
from helpdesk.a2a.executor import HelpdeskAgentExecutor, MaskingRequestContextBuilder, mask_data
from helpdesk.agents.base import Agent, Tool, ToolArgumentError, mask_args
from helpdesk.dsn import mask
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

RPC_PATH = "/"


def build_agent_card(agent: Agent, url: str) -> AgentCard:
    """The card: identity, both protocol versions on one JSON-RPC URL, one skill per tool."""
    interfaces = [
        AgentInterface(
            url=url, protocol_binding=TransportProtocol.JSONRPC, protocol_version=version
        )
        for version in (PROTOCOL_VERSION_1_0, PROTOCOL_VERSION_0_3)
    ]
    return AgentCard(
        name=agent.name,
        description=agent.description,
        version=__version__,
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/markdown", "application/json"],
        skills=[_skill(agent.name, tool) for tool in agent.tools],
    )


def _skill(agent_name: str, tool: Tool) -> AgentSkill:
    return AgentSkill(
        id=tool.name,
        name=tool.name,
        description=tool.description,
        tags=[agent_name, "mutating" if tool.mutating else "read-only"],
    )


def build_app(agent: Agent, url: str) -> Starlette:
    """The complete ASGI app for `agent`, advertising `url` (its reachable base URL)."""
    card = build_agent_card(agent, url.rstrip("/") + "/")
    handler = DefaultRequestHandler(
        agent_executor=HelpdeskAgentExecutor(agent),
        task_store=InMemoryTaskStore(),
        request_context_builder=MaskingRequestContextBuilder(),
        agent_card=card,
    )
    routes: list[Any] = [
        *create_agent_card_routes(card),
        *create_jsonrpc_routes(handler, RPC_PATH, enable_v0_3_compat=True),
        *_tool_routes(agent),
    ]
    return Starlette(routes=routes)


def _tool_routes(agent: Agent) -> list[Route]:
    async def schemas(_: Request) -> JSONResponse:
        return JSONResponse({"agent": agent.name, "tools": agent.tools.schemas()})

    async def run_tool(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        if name not in agent.tools:
            available = ", ".join(t.name for t in agent.tools)
            return _error(404, f"unknown tool {name!r}; available: {available}")
        try:
            args = await _json_body(request)
        except ValueError as exc:
            return _error(400, str(exc))
        return await asyncio.to_thread(_call_tool, agent, name, args)

    return [
        Route("/schemas", schemas, methods=["GET"]),
        Route("/tool/{name}", run_tool, methods=["POST"]),
    ]


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"request body is not valid JSON: {exc.msg} (line {exc.lineno})") from None


def _call_tool(agent: Agent, name: str, args: Any) -> JSONResponse:
    started = time.perf_counter()
    try:
        output = agent.tools.call(name, args)
    except ToolArgumentError as exc:
        return _error(422, mask(str(exc)))
    except Exception as exc:  # a tool bug: report it, masked, without killing the server
        log.exception("tool crashed", extra=fields(tool=name))
        return _error(500, f"{name} failed: {mask(str(exc)) or type(exc).__name__}")
    log.info(
        "tool called",
        extra=fields(
            tool=name,
            ok=str(output.ok).lower(),
            duration_ms=int((time.perf_counter() - started) * 1000),
            args=json.dumps(mask_args(args)),
        ),
    )
    payload = {"tool": name, "ok": output.ok, "output": mask(output.text), "data": output.data}
    return JSONResponse(mask_data(json.loads(json.dumps(payload, default=str))))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
