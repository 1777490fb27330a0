"""Gemini `generateContent` through the official `google-genai` SDK (imported on first use).

Tools are offered as function declarations with their JSON schemas; the model's content
is replayed verbatim on the next step so thought signatures survive. Gemini may omit
call ids, so the client makes local ones and leaves them out of the function responses.
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

_LOCAL_ID = "gemini-local-"


class GeminiClient:
    vendor = "gemini"

    def __init__(
        self, model: str, api_key: str, base_url: str | None = None, api_version: str | None = None
    ) -> None:
        import httpx2  # the transport google-genai uses; its timeouts arrive unwrapped
        from google import genai
        from google.genai import errors, types

        self.model = model
        self._httpx = httpx2
        self._errors = errors
        self._types = types
        options = types.HttpOptions(base_url=base_url, api_version=api_version)
        self._client = genai.Client(vertexai=False, api_key=api_key, http_options=options)

    def step(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec], timeout: float
    ) -> ModelTurn:
        types = self._types
        config = types.GenerateContentConfig(
            system_instruction=system,
            tools=[types.Tool(function_declarations=[_declaration(types, t) for t in tools])]
            if tools
            else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            http_options=types.HttpOptions(timeout=max(1, int(timeout * 1000))),
        )
        contents = [self._content(m) for m in messages]
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except Exception as exc:
            raise self._error(exc) from None
        return _to_turn(response)

    def _content(self, message: Message) -> Any:
        types = self._types
        if isinstance(message, UserText):
            return types.Content(role="user", parts=[types.Part(text=message.text)])
        if isinstance(message, ToolResults):
            parts = [
                _function_response(types, r.call_id, r.name, r.content, r.is_error)
                for r in message.results
            ]
            if message.note:
                parts.append(types.Part(text=message.note))
            return types.Content(role="user", parts=parts)
        return message.raw

    def _error(self, exc: Exception) -> ModelError:
        if isinstance(exc, self._httpx.TimeoutException):
            return ModelTimeoutError("gemini: the request timed out")
        if isinstance(exc, self._httpx.TransportError):
            return TransientModelError(f"gemini: connection failed: {type(exc).__name__}")
        if isinstance(exc, self._errors.APIError):
            headers = getattr(exc.response, "headers", None)
            detail = exc.message or exc.status or "error"
            return classify_status(exc.code or 0, f"gemini: {detail}", parse_retry_after(headers))
        if isinstance(exc, ModelError):
            return exc
        return ModelError(f"gemini: {type(exc).__name__}: {exc}")


def _declaration(types: Any, tool: ToolSpec) -> Any:
    return types.FunctionDeclaration(
        name=tool.name, description=tool.description, parameters_json_schema=tool.parameters
    )


def _function_response(types: Any, call_id: str, name: str, content: str, is_error: bool) -> Any:
    payload = {"error": content} if is_error else {"output": content}
    response_id = None if call_id.startswith(_LOCAL_ID) else call_id
    return types.Part(
        function_response=types.FunctionResponse(id=response_id, name=name, response=payload)
    )


def _to_turn(response: Any) -> ModelTurn:
    if not response.candidates or response.candidates[0].content is None:
        reason = getattr(response.prompt_feedback, "block_reason", None)
        raise TransientModelError(f"gemini: the response has no content (block reason: {reason})")
    candidate = response.candidates[0]
    texts: list[str] = []
    calls: list[RequestedCall] = []
    for part in candidate.content.parts or []:
        if part.function_call is not None:
            call = part.function_call
            call_id = call.id or f"{_LOCAL_ID}{len(calls) + 1}"
            args = {} if call.args is None else call.args
            if isinstance(args, dict):
                calls.append(RequestedCall(call_id, call.name or "", args))
            else:
                calls.append(
                    RequestedCall(call_id, call.name or "", None, "the arguments are not an object")
                )
        elif part.text and not part.thought:
            texts.append(part.text)
    meta = response.usage_metadata
    output_tokens = (
        ((meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)) if meta else 0
    )
    reason = candidate.finish_reason
    return ModelTurn(
        text="\n".join(texts),
        tool_calls=calls,
        usage=Usage(
            llm_calls=1,
            input_tokens=(meta.prompt_token_count or 0) if meta else 0,
            output_tokens=output_tokens,
        ),
        stop_reason=getattr(reason, "value", str(reason or "")),
        raw=candidate.content,
    )
