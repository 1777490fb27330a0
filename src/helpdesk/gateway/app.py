"""The REST gateway: aiHelpDesk for people and bots that do not speak A2A.

FastAPI app over the orchestrator's roster: `/health`, `/api/v1/agents`, `/api/v1/query`,
direct database/Kubernetes tool calls and incident bundles; OpenAPI at `/openapi.json`.
Every error is `{"error": "..."}` with a meaningful status (401/404/422/502/503/504).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from helpdesk import __version__
from helpdesk.a2a.client import AgentError, AgentTimeout, AgentUnreachable
from helpdesk.dsn import mask
from helpdesk.gateway.auth import authorized
from helpdesk.gateway.forward import ForwardError, call_tool
from helpdesk.gateway.models import (
    AgentEntry,
    AgentsResponse,
    ErrorResponse,
    HealthResponse,
    QueryRequest,
    QueryResponse,
    ToolResponse,
)
from helpdesk.logfmt import fields
from helpdesk.orchestrator import ROLES, AgentInfo, Orchestrator
from helpdesk.orchestrator.discovery import DATABASE, INCIDENT, K8S

log = logging.getLogger("helpdesk.gateway")

ROLE_ALIASES = {"db": DATABASE, "postgres": DATABASE, "kubernetes": K8S}
CREATE_INCIDENT_TOOL = "create_incident_bundle"
LIST_INCIDENTS_TOOL = "list_incidents"


class GatewayError(Exception):
    """An error the gateway answers with `status` and `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        401: "Missing or wrong API key",
        404: "Unknown agent or tool",
        422: "Invalid request body or arguments",
        502: "The agent failed",
        503: "The agent is unavailable",
        504: "The agent did not answer in time",
    }
    return {code: {"model": ErrorResponse, "description": texts[code]} for code in codes}


def create_app(orchestrator: Orchestrator, api_key: str | None = None) -> FastAPI:
    """The gateway app over `orchestrator` (its roster, routing and A2A client)."""
    app = FastAPI(
        title="aiHelpDesk gateway",
        version=__version__,
        description="REST access to the aiHelpDesk orchestrator and its expert agents.",
    )
    _install_error_handlers(app)
    app.state.orchestrator = orchestrator

    @app.get("/health", response_model=HealthResponse, tags=["service"])
    def health() -> HealthResponse:
        """Liveness, and how many expert agents are reachable (never needs the API key)."""
        roster = orchestrator.roster
        return HealthResponse(
            status="ok",
            version=__version__,
            agents_available=len(roster.available),
            agents_unavailable=len(roster.unavailable),
        )

    app.include_router(_api_router(orchestrator, api_key))
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(_: Request, exc: GatewayError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": mask(str(exc))}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": mask(str(err.get("msg", "")))}
            for err in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] or first["loc"]) or "request"
        message = f"invalid request: {where}: {first['msg']}"
        return JSONResponse({"error": message, "details": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


def _key_check(api_key: str) -> Any:
    """The dependency that demands the key (declared as a bearer scheme in the document)."""
    bearer = HTTPBearer(auto_error=False, description="The gateway's API key.")

    def require_key(
        request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> None:
        if not authorized(request.headers.get("authorization"), api_key):
            raise GatewayError(401, "missing or wrong API key: send 'Authorization: Bearer <key>'")

    return Depends(require_key)


def _api_router(orchestrator: Orchestrator, api_key: str | None) -> APIRouter:
    """The /api/v1 routes; with an API key they all require it (and document that)."""
    router = APIRouter(
        prefix="/api/v1",
        dependencies=[_key_check(api_key)] if api_key else [],
        responses=_errors(401) if api_key else {},
    )

    @router.get("/agents", response_model=AgentsResponse, tags=["agents"])
    def list_agents() -> AgentsResponse:
        """The expert agents from HELPDESK_AGENT_URLS, reachable or not."""
        roster = orchestrator.roster
        roster.retry()
        entries = [_entry(a) for a in roster.available]
        entries += [
            AgentEntry(
                name=u.expected_name, url=u.url, available=False, role=u.role, error=u.reason
            )
            for u in roster.unavailable
        ]
        return AgentsResponse(agents=entries)

    @router.post(
        "/query",
        response_model=QueryResponse,
        tags=["agents"],
        responses=_errors(404, 422, 502, 503, 504),
    )
    def query(request: QueryRequest) -> QueryResponse:
        """Ask one agent (`agent`), or let the orchestrator route the message (no `agent`)."""
        if request.agent is None:
            result = orchestrator.answer(request.message)
            return QueryResponse(agent=orchestrator.name, text=result.text, result=result)
        agent = _find_agent(orchestrator, request.agent)
        try:
            result = orchestrator.ask_agent(agent, request.message)
        except AgentTimeout as exc:
            raise GatewayError(504, str(exc)) from None
        except AgentUnreachable as exc:
            raise GatewayError(503, str(exc)) from None
        except AgentError as exc:
            raise GatewayError(502, str(exc)) from None
        return QueryResponse(agent=agent.name, text=result.text, result=result)

    tool_errors = _errors(404, 422, 502, 503, 504)

    @router.post("/db/{tool}", response_model=ToolResponse, tags=["tools"], responses=tool_errors)
    def db_tool(
        tool: str = Path(description="A postgres_database_agent tool, e.g. check_connection."),
        args: dict[str, Any] = Body(default_factory=dict, description="The tool's arguments."),
    ) -> ToolResponse:
        """Run one database tool directly; the JSON body is its arguments."""
        return _run_tool(orchestrator, DATABASE, tool, args)

    @router.post("/k8s/{tool}", response_model=ToolResponse, tags=["tools"], responses=tool_errors)
    def k8s_tool(
        tool: str = Path(description="A k8s_agent tool, e.g. get_pods."),
        args: dict[str, Any] = Body(default_factory=dict, description="The tool's arguments."),
    ) -> ToolResponse:
        """Run one Kubernetes tool directly; the JSON body is its arguments."""
        return _run_tool(orchestrator, K8S, tool, args)

    incident_errors = _errors(422, 502, 503, 504)

    @router.post(
        "/incidents", response_model=ToolResponse, tags=["incidents"], responses=incident_errors
    )
    def create_incident(
        args: dict[str, Any] = Body(
            default_factory=dict, description="Arguments of the incident agent's bundle tool."
        ),
    ) -> ToolResponse:
        """Collect an incident bundle (the incident agent's create_incident_bundle)."""
        return _incident_tool(orchestrator, CREATE_INCIDENT_TOOL, args)

    @router.get(
        "/incidents", response_model=ToolResponse, tags=["incidents"], responses=incident_errors
    )
    def list_incidents() -> ToolResponse:
        """The incident bundles collected so far (the incident agent's list_incidents)."""
        return _incident_tool(orchestrator, LIST_INCIDENTS_TOOL, {})

    return router


def _entry(agent: AgentInfo) -> AgentEntry:
    return AgentEntry(
        name=agent.name,
        url=agent.url,
        available=True,
        role=agent.role,
        description=agent.description,
        skills=agent.skills,
    )


def _find_agent(orchestrator: Orchestrator, wanted: str) -> AgentInfo:
    """An available agent by name or role; 404 when unknown, 503 when known but down."""
    roster = orchestrator.roster
    found = roster.by_name(wanted)
    if found is not None:
        return found
    key = wanted.strip().lower()
    role: str | None = ROLE_ALIASES.get(key, key)
    if role not in ROLES:
        role = next((r.key for r in ROLES.values() if r.agent_name == key), None)
    if role is None:
        known = sorted({a.name for a in roster.available} | set(ROLES))
        raise GatewayError(404, f"unknown agent {wanted!r}; known: {', '.join(known)}")
    return _agent_for_role(orchestrator, role)


def _agent_for_role(orchestrator: Orchestrator, role: str) -> AgentInfo:
    agent = orchestrator.roster.by_role(role) or orchestrator.roster.retry(role)
    if agent is not None:
        return agent
    gone = orchestrator.roster.missing(role)
    where = f" at {gone.url}" if gone else " (no URL in HELPDESK_AGENT_URLS)"
    raise GatewayError(
        503, f"{ROLES[role].agent_name} is unavailable{where}: {ROLES[role].capabilities}"
    )


def _run_tool(
    orchestrator: Orchestrator, role: str, tool: str, args: dict[str, Any]
) -> ToolResponse:
    agent = _agent_for_role(orchestrator, role)
    try:
        body = call_tool(agent.url, agent.name, tool, args, orchestrator.timeout)
    except ForwardError as exc:
        raise GatewayError(exc.status, str(exc)) from None
    log.info("tool forwarded", extra=fields(agent=agent.name, tool=tool, ok=body.get("ok")))
    return ToolResponse(
        agent=agent.name,
        tool=str(body.get("tool", tool)),
        ok=bool(body.get("ok", False)),
        output=str(body.get("output", "")),
        data=body.get("data"),
    )


def _incident_tool(orchestrator: Orchestrator, tool: str, args: dict[str, Any]) -> ToolResponse:
    """Incident tools; an incident agent without them counts as unavailable (503)."""
    try:
        return _run_tool(orchestrator, INCIDENT, tool, args)
    except GatewayError as exc:
        if exc.status != 404:
            raise
        agent = ROLES[INCIDENT].agent_name
        raise GatewayError(
            503, f"{agent} is running but cannot {tool.replace('_', ' ')} in this build: {exc}"
        ) from None
