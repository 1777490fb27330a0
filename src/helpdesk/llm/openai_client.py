"""OpenAI Chat Completions through the official `openai` SDK (imported on first use).

Works with any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, LM Studio)
given its base URL (with `/v1`). Tool arguments arrive as JSON text; text that does not
parse becomes a `RequestedCall` with an error, which the loop reports back to the model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from helpdesk.llm.client import (
    Message,
    ModelError,
    ModelTimeoutError,
    ModelTurn,
    RequestedCall,
    ToolResults,
    ToolSpec,
    TransientModelError,
    UserText,
    classify_status,
    parse_retry_after,
)
from helpdesk.result import Usage


class OpenAIClient:
    vendor = "openai"

    def __init__(
        self, model: str, api_key: str, base_url: str | None = None, max_retries: int = 0
    ) -> None:
        import openai  # lazy: keep `import helpdesk.llm` cheap

        self.model = model
        self._sdk = openai
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries)

    def step(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec], timeout: float
    ) -> ModelTurn:
        params: Any = [{"role": "system", "content": system}]
        for message in messages:
            params.extend(_to_params(message))
        tool_params: Any = [_tool_param(t) for t in tools] or self._sdk.NOT_GIVEN  # [] is a 400
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=params,
                tools=tool_params,
                timeout=timeout,
            )
        except self._sdk.OpenAIError as exc:
            raise self._error(exc) from None
        return _to_turn(response)

    def _error(self, exc: Exception) -> ModelError:
        sdk = self._sdk
        if isinstance(exc, sdk.APITimeoutError):
            return ModelTimeoutError("openai: the request timed out")
        if isinstance(exc, sdk.APIConnectionError):
            return TransientModelError(f"openai: connection failed: {exc}")
        if isinstance(exc, sdk.APIStatusError):
            return classify_status(
                exc.status_code,
                f"openai: {_error_message(exc.body)}",
                parse_retry_after(exc.response.headers),
            )
        return ModelError(f"openai: {type(exc).__name__}: {exc}")


def _error_message(body: object) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return "error"


def _tool_param(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _to_params(message: Message) -> list[dict[str, Any]]:
    if isinstance(message, UserText):
        return [{"role": "user", "content": message.text}]
    if isinstance(message, ToolResults):
        params: list[dict[str, Any]] = [
            {"role": "tool", "tool_call_id": r.call_id, "content": r.content}
            for r in message.results
        ]
        if message.note:
            params.append({"role": "user", "content": message.note})
        return params
    return [message.raw]


def _parse_arguments(text: str | None) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"the arguments are not valid JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(value, dict):
        return None, "the arguments must be a JSON object"
    return value, None


def _to_turn(response: Any) -> ModelTurn:
    if not response.choices:
        raise TransientModelError("openai: the response has no choices")
    choice = response.choices[0]
    message = choice.message
    calls: list[RequestedCall] = []
    raw_calls: list[dict[str, Any]] = []
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if function is None:  # a custom (non-function) tool call: not ours
            continue
        args, error = _parse_arguments(function.arguments)
        calls.append(RequestedCall(call.id, function.name, args, error))
        raw_calls.append(
            {
                "id": call.id,
                "type": "function",
                "function": {"name": function.name, "arguments": function.arguments or ""},
            }
        )
    raw: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if raw_calls:
        raw["tool_calls"] = raw_calls
    usage = response.usage
    return ModelTurn(
        text=message.content or "",
        tool_calls=calls,
        usage=Usage(
            llm_calls=1,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
        ),
        stop_reason=choice.finish_reason or "",
        raw=raw,
    )
