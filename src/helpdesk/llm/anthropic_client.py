"""Anthropic Messages API through the official `anthropic` SDK (imported on first use).

Translates the neutral conversation into `messages` with `tool_use`/`tool_result`
blocks and maps the SDK's errors onto the ModelError family.
"""

from __future__ import annotations

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

DEFAULT_MAX_TOKENS = 4096


class AnthropicClient:
    vendor = "anthropic"

    def __init__(
        self,
        model: str,
        api_key: str,
        base_url: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        max_retries: int = 0,
    ) -> None:
        import anthropic  # lazy: the SDK takes over a second to import

        self.model = model
        self.max_tokens = max_tokens
        self._sdk = anthropic
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries
        )

    def step(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec], timeout: float
    ) -> ModelTurn:
        params: Any = [_to_param(m) for m in messages]
        tool_params: Any = [_tool_param(t) for t in tools] or self._sdk.NOT_GIVEN
        try:
            response = self._client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=params,
                tools=tool_params,
                timeout=timeout,
            )
        except self._sdk.AnthropicError as exc:
            raise self._error(exc) from None
        return _to_turn(response)

    def _error(self, exc: Exception) -> ModelError:
        sdk = self._sdk
        if isinstance(exc, sdk.APITimeoutError):
            return ModelTimeoutError("anthropic: the request timed out")
        if isinstance(exc, sdk.APIConnectionError):
            return TransientModelError(f"anthropic: connection failed: {exc}")
        if isinstance(exc, sdk.APIStatusError):
            detail = exc.api_message or exc.type or "error"
            return classify_status(
                exc.status_code, f"anthropic: {detail}", parse_retry_after(exc.response.headers)
            )
        return ModelError(f"anthropic: {type(exc).__name__}: {exc}")


def _tool_param(tool: ToolSpec) -> dict[str, Any]:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def _to_param(message: Message) -> dict[str, Any]:
    if isinstance(message, UserText):
        return {"role": "user", "content": message.text}
    if isinstance(message, ToolResults):
        content: list[dict[str, Any]] = [
            {
                "type": "tool_result",
                "tool_use_id": r.call_id,
                "content": r.content,
                "is_error": r.is_error,
            }
            for r in message.results
        ]
        if message.note:
            content.append({"type": "text", "text": message.note})
        return {"role": "user", "content": content}
    return {"role": "assistant", "content": message.raw}


def _to_turn(response: Any) -> ModelTurn:
    texts: list[str] = []
    calls: list[RequestedCall] = []
    for block in response.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            args = block.input if isinstance(block.input, dict) else None
            error = None if args is not None else "the tool input is not a JSON object"
            calls.append(RequestedCall(block.id, block.name, args, error))
    usage = response.usage
    input_tokens = (
        usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )
    return ModelTurn(
        text="\n".join(t for t in texts if t),
        tool_calls=calls,
        usage=Usage(llm_calls=1, input_tokens=input_tokens, output_tokens=usage.output_tokens),
        stop_reason=response.stop_reason or "",
        raw=[block.to_dict() for block in response.content],
    )
