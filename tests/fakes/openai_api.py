"""A fake OpenAI Chat Completions API (`POST /v1/chat/completions`), as OpenAI-compatible
servers (Ollama, vLLM, llama.cpp) speak it: scripted replies, real JSON shapes.

It validates that every assistant `tool_calls` entry is answered by a `tool` message with
the same `tool_call_id` before the next user or assistant message.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.fakes.llm_server import Reply
from tests.fakes.vendor import Call, SeenResult

_ids = itertools.count(1)


class OpenAIFake:
    vendor = "openai"
    model = "gpt-4.1-mini"
    usage_per_turn = (388, 41)

    def _completion(self, message: dict[str, Any], finish_reason: str) -> Reply:
        prompt, completion = self.usage_per_turn
        return Reply(
            {
                "id": f"chatcmpl-Fake{next(_ids):06d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
                "system_fingerprint": "fp_fake",
            },
            headers={"x-request-id": f"req_fake{next(_ids)}"},
        )

    def tool_turn(self, *calls: Call, text: str = "") -> Reply:
        tool_calls = [
            {
                "id": f"call_Fake{next(_ids):06d}",
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.args if isinstance(c.args, str) else json.dumps(c.args),
                },
            }
            for c in calls
        ]
        message = {
            "role": "assistant",
            "content": text or None,
            "tool_calls": tool_calls,
            "refusal": None,
        }
        return self._completion(message, "tool_calls")

    def text_turn(self, text: str) -> Reply:
        return self._completion({"role": "assistant", "content": text, "refusal": None}, "stop")

    def malformed_call(self, name: str) -> Call:
        return Call(name, '{"connection_string": "host=127.0.0.1 port=')  # cut-off JSON

    def error(self, status: int, retry_after: str | None = None) -> Reply:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return Reply(self.error_body(status, "fake failure"), status=status, headers=headers)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        code = "rate_limit_exceeded" if status == 429 else None
        return {
            "error": {
                "message": message,
                "type": "requests" if status == 429 else "server_error",
                "param": None,
                "code": code,
            }
        }

    def validate(self, path: str, body: dict[str, Any]) -> str | None:
        if path != "/v1/chat/completions":
            return f"unexpected path {path}"
        if "model" not in body or not body.get("messages"):
            return "model and messages are required"
        for tool in body.get("tools", []):
            if tool.get("type") != "function" or "name" not in tool.get("function", {}):
                return "tools: each tool must be a function with a name"
        pending: set[str] = set()
        for message in body["messages"]:
            role = message.get("role")
            if role == "tool":
                if message.get("tool_call_id") not in pending:
                    return (
                        "messages with role 'tool' must be a response to a preceding 'tool_calls'"
                    )
                pending.discard(message["tool_call_id"])
                continue
            if pending:
                return (
                    "An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'"
                )
            if role == "assistant":
                pending = {c["id"] for c in message.get("tool_calls") or []}
        return None

    def tool_results(self, body: dict[str, Any]) -> list[SeenResult]:
        names = {}
        for message in body["messages"]:
            for call in message.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
        results = []
        for message in reversed(body["messages"]):
            if message["role"] == "user" and results == []:
                continue  # a note after the tool messages
            if message["role"] != "tool":
                break
            content = str(message["content"])
            results.append(
                SeenResult(
                    message["tool_call_id"],
                    names.get(message["tool_call_id"], ""),
                    content,
                    content.startswith("error"),
                )
            )
        return list(reversed(results))

    def offered_tools(self, body: dict[str, Any]) -> list[str]:
        return [t["function"]["name"] for t in body.get("tools", [])]

    def client(self, base_url: str) -> Any:
        from helpdesk.llm.openai_client import OpenAIClient

        return OpenAIClient(self.model, "sk-test-key", base_url=f"{base_url}/v1")
