"""A fake Anthropic Messages API (`POST /v1/messages`): scripted replies, real JSON shapes.

It validates what the real API insists on: alternating roles, and every `tool_use` of an
assistant turn answered by a `tool_result` with the same id in the next user turn.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.llm_server import Reply
from tests.fakes.vendor import Call, SeenResult

_ids = itertools.count(1)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class AnthropicFake:
    vendor = "anthropic"
    model = "claude-haiku-4-5"
    usage_per_turn = (412, 57)

    def _message(self, content: list[dict[str, Any]], stop_reason: str) -> Reply:
        return Reply(
            {
                "id": f"msg_01Fake{next(_ids):06d}",
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": self.usage_per_turn[0],
                    "output_tokens": self.usage_per_turn[1],
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "service_tier": "standard",
                },
            },
            headers={"request-id": f"req_fake{next(_ids)}"},
        )

    def tool_turn(self, *calls: Call, text: str = "") -> Reply:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        for call in calls:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_01{next(_ids):08d}",
                    "name": call.name,
                    "input": call.args,
                }
            )
        return self._message(content, "tool_use")

    def text_turn(self, text: str) -> Reply:
        return self._message([{"type": "text", "text": text}], "end_turn")

    def malformed_call(self, name: str) -> Call:
        # Anthropic always sends a JSON object; "malformed" means it does not fit the schema.
        return Call(name, {"conn": "host=127.0.0.1", "verbose": "yes"})

    def error(self, status: int, retry_after: str | None = None) -> Reply:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return Reply(self.error_body(status, "fake failure"), status=status, headers=headers)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message},
        }

    def validate(self, path: str, body: dict[str, Any]) -> str | None:
        if path != "/v1/messages":
            return f"unexpected path {path}"
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return f"{key}: Field required"
        for tool in body.get("tools", []):
            if tool.get("input_schema", {}).get("type") != "object":
                return f"tools.{tool.get('name')}.input_schema.type must be object"
        messages = body["messages"]
        if not messages or messages[0]["role"] != "user":
            return "messages: first message must use the user role"
        for previous, current in itertools.pairwise(messages):
            if previous["role"] == current["role"]:
                return "messages: roles must alternate between user and assistant"
            asked = _tool_use_ids(previous)
            if asked and set(_tool_result_ids(current)) != set(asked):
                return (
                    "messages: tool_use ids were found without tool_result blocks immediately after"
                )
        return None

    def tool_results(self, body: dict[str, Any]) -> list[SeenResult]:
        names = {}
        for message in body["messages"]:
            for block in _blocks(message):
                if block.get("type") == "tool_use":
                    names[block["id"]] = block["name"]
        last = body["messages"][-1]
        return [
            SeenResult(
                b["tool_use_id"],
                names.get(b["tool_use_id"], ""),
                _text(b.get("content")),
                bool(b.get("is_error")),
            )
            for b in _blocks(last)
            if b.get("type") == "tool_result"
        ]

    def offered_tools(self, body: dict[str, Any]) -> list[str]:
        return [t["name"] for t in body.get("tools", [])]

    def client(self, base_url: str) -> Any:
        from helpdesk.llm.anthropic_client import AnthropicClient

        return AnthropicClient(self.model, "sk-ant-test-key", base_url=base_url)


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _tool_use_ids(message: dict[str, Any]) -> list[str]:
    return [b["id"] for b in _blocks(message) if b.get("type") == "tool_use"]


def _tool_result_ids(message: dict[str, Any]) -> list[str]:
    return [b["tool_use_id"] for b in _blocks(message) if b.get("type") == "tool_result"]


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return str(content or "")
