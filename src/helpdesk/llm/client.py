"""The `ModelClient` protocol: one chat step with tools, whatever the vendor.

A vendor module turns the neutral conversation below into its SDK's request and its
response into a `ModelTurn`; it maps SDK failures onto the `ModelError` family so the
tool loop can retry or give up without knowing any SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from helpdesk.result import Usage


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


class RequestedCall(NamedTuple):
    """One tool call the model asked for. `args` is None when they could not be parsed."""

    id: str
    name: str
    args: dict[str, Any] | None
    error: str | None = None  # why the arguments could not be read


@dataclass
class ModelTurn:
    """The model's reply to one step, normalised across vendors.

    `raw` is the vendor's own form of the assistant message, replayed verbatim on the next
    step (it keeps what the neutral form drops, e.g. Gemini's thought signatures).
    """

    text: str
    tool_calls: list[RequestedCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""
    raw: Any = None


@dataclass(frozen=True)
class UserText:
    text: str


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResults:
    """The answers to every call of the previous turn, plus an optional note to the model."""

    results: tuple[ToolResult, ...]
    note: str | None = None


Message = UserText | ModelTurn | ToolResults


class ModelClient(Protocol):
    """One vendor's chat API. `step` sends the whole conversation and returns the next turn."""

    vendor: str
    model: str

    def step(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec], timeout: float
    ) -> ModelTurn: ...


class ModelError(Exception):
    """The model could not be asked (the message is safe to show: no keys, no passwords)."""


class TransientModelError(ModelError):
    """Worth retrying: rate limited (429), overloaded, 5xx, connection reset."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelTimeoutError(TransientModelError):
    """One call took longer than its timeout."""


class PermanentModelError(ModelError):
    """Retrying will not help: bad key, unknown model, malformed request."""


TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def classify_status(status: int, message: str, retry_after: float | None = None) -> ModelError:
    """The ModelError for an HTTP error status from a vendor API."""
    if status in TRANSIENT_STATUS or status >= 500:
        return TransientModelError(f"HTTP {status}: {message}", retry_after)
    return PermanentModelError(f"HTTP {status}: {message}")


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds only; dates are ignored)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return None
