"""What every fake LLM vendor offers the tests, so one test body covers all vendors.

A `Call` is a tool call the fake model makes; `args` may be raw text (a malformed call).
`SeenResult` is a tool result as the vendor's request carried it back to the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tests.fakes.llm_server import Reply


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any] | str


@dataclass(frozen=True)
class SeenResult:
    call_id: str
    name: str
    content: str
    is_error: bool


class VendorFake(Protocol):
    vendor: str
    model: str
    usage_per_turn: tuple[int, int]  # (input, output) tokens each scripted turn reports

    def tool_turn(self, *calls: Call, text: str = "") -> Reply: ...
    def text_turn(self, text: str) -> Reply: ...
    def malformed_call(self, name: str) -> Call: ...
    def error(self, status: int, retry_after: str | None = None) -> Reply: ...
    def error_body(self, status: int, message: str) -> dict[str, Any]: ...
    def validate(self, path: str, body: dict[str, Any]) -> str | None: ...
    def tool_results(self, body: dict[str, Any]) -> list[SeenResult]: ...
    def offered_tools(self, body: dict[str, Any]) -> list[str]: ...
    def client(self, base_url: str) -> Any: ...
