"""A fake Gemini API (`POST /v1[beta]/models/{model}:generateContent`): scripted replies in
the real camelCase JSON shapes (`functionCall`, `functionResponse`, `usageMetadata`).

It validates alternating user/model contents and that each model turn's function calls
are answered, in order and by name, with function responses in the next user turn.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.llm_server import Reply
from tests.fakes.vendor import Call, SeenResult

_ids = itertools.count(1)
_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class GeminiFake:
    vendor = "gemini"
    model = "gemini-2.5-flash"
    usage_per_turn = (530, 64)

    def _response(self, parts: list[dict[str, Any]]) -> Reply:
        prompt, candidates = self.usage_per_turn
        return Reply(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": parts},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": candidates,
                    "totalTokenCount": prompt + candidates,
                },
                "modelVersion": self.model,
                "responseId": f"fakeResp{next(_ids):06d}",
            }
        )

    def tool_turn(self, *calls: Call, text: str = "") -> Reply:
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        parts += [{"functionCall": {"name": c.name, "args": c.args}} for c in calls]
        if parts and "functionCall" in parts[-1]:
            parts[-1]["thoughtSignature"] = "ZmFrZS1zaWduYXR1cmU="  # must be replayed as is
        return self._response(parts)

    def text_turn(self, text: str) -> Reply:
        return self._response([{"text": text}])

    def malformed_call(self, name: str) -> Call:
        # Gemini sends a JSON object; "malformed" means wrong types for the schema.
        return Call(name, {"connection_string": 15432})

    def error(self, status: int, retry_after: str | None = None) -> Reply:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return Reply(self.error_body(status, "fake failure"), status=status, headers=headers)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            "error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        }

    def validate(self, path: str, body: dict[str, Any]) -> str | None:
        if path not in (f"/{v}/models/{self.model}:generateContent" for v in ("v1", "v1beta")):
            return f"unexpected path {path}"
        contents = body.get("contents") or []
        if not contents or contents[0].get("role") != "user":
            return "contents must start with a user turn"
        for previous, current in itertools.pairwise(contents):
            if previous.get("role") == current.get("role"):
                return "contents: roles must alternate between user and model"
            called = [
                p["functionCall"]["name"] for p in previous.get("parts", []) if "functionCall" in p
            ]
            answered = [
                p["functionResponse"]["name"]
                for p in current.get("parts", [])
                if "functionResponse" in p
            ]
            if called != answered:
                return (
                    "Please ensure that the number of function response parts is equal to "
                    "the number of function call parts of the function call turn."
                )
            if called and "thoughtSignature" not in previous["parts"][-1]:
                return "Function call is missing a thought_signature"
        for tool in body.get("tools", []):
            for declaration in tool.get("functionDeclarations", []):
                # proto JSON: the API accepts camelCase and the original snake_case names
                schemas = ("parametersJsonSchema", "parameters_json_schema", "parameters")
                if not any(key in declaration for key in schemas):
                    return f"function {declaration.get('name')} has no parameters schema"
        return None

    def tool_results(self, body: dict[str, Any]) -> list[SeenResult]:
        last = body["contents"][-1]
        results = []
        for index, part in enumerate(last.get("parts", [])):
            if "functionResponse" in part:
                response = part["functionResponse"]
                payload = response.get("response", {})
                is_error = "error" in payload
                content = str(payload.get("error") if is_error else payload.get("output"))
                results.append(
                    SeenResult(response.get("id", str(index)), response["name"], content, is_error)
                )
        return results

    def offered_tools(self, body: dict[str, Any]) -> list[str]:
        return [d["name"] for t in body.get("tools", []) for d in t.get("functionDeclarations", [])]

    def client(self, base_url: str) -> Any:
        from helpdesk.llm.gemini_client import GeminiClient

        return GeminiClient(self.model, "AIza-test-key", base_url=base_url)
