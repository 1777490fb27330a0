"""Direct tool calls: the gateway forwards a JSON body to an agent's `POST /tool/{name}`.

The agent's own status codes carry over (404 unknown tool, 422 bad arguments); transport
trouble becomes a typed `ForwardError` with the HTTP status the gateway should answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from helpdesk.dsn import mask


class ForwardError(Exception):
    """A direct tool call failed; `status` is the gateway's HTTP status for it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def call_tool(base_url: str, agent: str, tool: str, args: dict[str, Any], timeout: float) -> dict:
    """POST `args` to the agent's tool route; the agent's JSON answer on success."""
    url = f"{base_url.rstrip('/')}/tool/{quote(tool, safe='')}"
    try:
        response = httpx.post(url, json=args, timeout=httpx.Timeout(timeout, connect=5.0))
    except httpx.TimeoutException:
        raise ForwardError(504, f"{agent} did not answer {tool} within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise ForwardError(503, f"{agent} is unreachable at {base_url}: {mask(str(exc))}") from None
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict):
        return body
    message = body.get("error") if isinstance(body, dict) else None
    message = mask(str(message or f"{agent} answered HTTP {response.status_code}"))
    if response.status_code in (404, 422):
        raise ForwardError(response.status_code, message)
    if response.status_code == 400:
        raise ForwardError(422, message)
    raise ForwardError(502, f"{agent} failed to run {tool}: {message}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
