"""The gateway's request and response bodies (pydantic): they validate input and write the
OpenAPI document, so the contract and the code cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.result import AgentResult

MAX_MESSAGE_CHARS = 20_000


class ErrorResponse(BaseModel):
    error: str = Field(description="What went wrong, in one line (passwords masked).")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Validation problems, one per invalid field (422 only)."
    )


class HealthResponse(BaseModel):
    status: str = Field(description="`ok` while the gateway serves requests.")
    version: str
    agents_available: int
    agents_unavailable: int


class AgentEntry(BaseModel):
    name: str = Field(description="The agent's name (from its card when available).")
    url: str
    available: bool
    role: str | None = Field(default=None, description="`database`, `k8s` or `incident`.")
    description: str = ""
    skills: list[str] = Field(default_factory=list, description="The agent's tools.")
    error: str | None = Field(default=None, description="Why the agent is unavailable.")


class AgentsResponse(BaseModel):
    agents: list[AgentEntry]


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description="The problem report, e.g. users get 'too many clients' on host=... dbname=...",
    )
    agent: str | None = Field(
        default=None,
        description="An agent name or role (`database`, `k8s`, `incident`); "
        "omitted: the orchestrator routes the message.",
    )


class QueryResponse(BaseModel):
    agent: str = Field(description="Who answered: an expert agent or helpdesk_orchestrator.")
    text: str = Field(description="The human answer (markdown).")
    result: AgentResult = Field(description="The structured agent result (SPEC §6).")


class ToolResponse(BaseModel):
    agent: str
    tool: str
    ok: bool = Field(description="False when the tool ran but reported a failure.")
    output: str = Field(description="The tool's text output (passwords masked).")
    data: Any = Field(default=None, description="The tool's structured output, if any.")
