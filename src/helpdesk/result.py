"""The agent result (SPEC §6): what every agent returns and what faulttest scores.

Over A2A it travels as the data part of the final answer; faulttest saves it per
fault. Only masked connection strings may ever be stored in it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk.taxonomy import NAMES


class Diagnosis(BaseModel):
    model_config = ConfigDict(extra="allow")

    category: str
    contributing: list[str] = Field(default_factory=list)
    summary: str = ""
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    recommended_actions: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in NAMES:
            raise ValueError(f"unknown diagnosis category {value!r}")
        return value


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    agent: str = ""
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    duration_ms: int = 0


class ModelInfo(BaseModel):
    vendor: str = "builtin"
    name: str = ""


class Usage(BaseModel):
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.llm_calls += other.llm_calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


class AgentResult(BaseModel):
    """An agent's answer: human text, structured diagnosis, tool trace, model, usage.

    `diagnosis` is None for text-only agents (e.g. a third-party A2A agent).
    """

    model_config = ConfigDict(extra="allow")

    text: str = ""
    diagnosis: Diagnosis | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    model: ModelInfo = Field(default_factory=ModelInfo)
    usage: Usage = Field(default_factory=Usage)

    @classmethod
    def text_only(cls, text: str) -> AgentResult:
        return cls(text=text, model=ModelInfo(vendor="unknown"))
