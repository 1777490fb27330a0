"""Ask an A2A agent one question and get an `AgentResult` back (through the official SDK client).

Our own agents answer with a text part and a data part (SPEC §6); a third-party agent's
text-only reply becomes `AgentResult.text_only`. Failures are typed `AgentError`s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.client.errors import A2AClientError, A2AClientTimeoutError, AgentCardResolutionError
from a2a.helpers.proto_helpers import get_data_parts, get_text_parts
from a2a.types import (
    AgentCard,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError
from pydantic import ValidationError

from helpdesk.dsn import mask
from helpdesk.result import AgentResult

T = TypeVar("T")
DEFAULT_TIMEOUT = 120.0
_CONNECT_TIMEOUT = 5.0
_POLL_INTERVAL = 0.5
_WILDCARD_HOSTS = {"0.0.0.0", "[::]", "::"}
_DONE = {
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
    TaskState.TASK_STATE_REJECTED,
    TaskState.TASK_STATE_INPUT_REQUIRED,
    TaskState.TASK_STATE_AUTH_REQUIRED,
}


class AgentError(Exception):
    """Talking to an A2A agent failed; the message is one clear, masked line."""


class AgentUnreachable(AgentError):
    """No agent answers at the URL (connection refused, DNS, no valid agent card)."""


class AgentTimeout(AgentError):
    """The agent did not finish within the timeout."""


class AgentFailed(AgentError):
    """The agent answered, but with a failed, rejected or canceled task."""


class AgentProtocolError(AgentError):
    """The agent's reply does not follow the A2A protocol as expected."""


def _one_line(text: str) -> str:
    return " ".join(mask(text).split())


async def fetch_card(
    url: str, timeout: float = 10.0, http: httpx.AsyncClient | None = None
) -> AgentCard:
    """The agent card at `url` (raises AgentUnreachable when there is none)."""
    async with _http_client(timeout, http) as client:
        return await _fetch_card(client, url)


async def ask(
    url: str,
    message: str,
    timeout: float = DEFAULT_TIMEOUT,
    http: httpx.AsyncClient | None = None,
) -> AgentResult:
    """Send `message` to the A2A agent at `url` and return its answer as an AgentResult.

    `http` lets callers (tests) pass a client, e.g. one over `httpx.ASGITransport`.
    """
    try:
        async with asyncio.timeout(timeout):
            async with _http_client(timeout, http) as client:
                card = _rebase(await _fetch_card(client, url), url)
                task_or_message = await _send(client, card, message)
                if isinstance(task_or_message, Task):
                    task_or_message = await _wait(client, card, task_or_message, timeout)
                return _to_result(task_or_message, card.name)
    except TimeoutError:
        raise AgentTimeout(f"agent at {url} did not answer within {timeout:g}s") from None


def ask_sync(url: str, message: str, timeout: float = DEFAULT_TIMEOUT) -> AgentResult:
    """Blocking `ask` (CLI, faulttest runner); safe to call from inside a running event loop."""
    return _run_blocking(lambda: ask(url, message, timeout))


def fetch_card_sync(url: str, timeout: float = 10.0) -> AgentCard:
    return _run_blocking(lambda: fetch_card(url, timeout))


def _run_blocking(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:  # a loop runs here: use a fresh one
        return pool.submit(asyncio.run, make()).result()


@asynccontextmanager
async def _http_client(
    timeout: float, http: httpx.AsyncClient | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's httpx client as is, or one of our own with our timeouts."""
    if http is not None:
        yield http
        return
    limits = httpx.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT))
    async with httpx.AsyncClient(timeout=limits) as owned:
        yield owned


async def _fetch_card(client: httpx.AsyncClient, url: str) -> AgentCard:
    try:
        return await A2ACardResolver(client, url).get_agent_card()
    except AgentCardResolutionError as exc:
        raise AgentUnreachable(_unreachable_reason(url, exc)) from None
    except httpx.HTTPError as exc:
        raise AgentUnreachable(f"no A2A agent at {url}: {_one_line(str(exc))}") from None


def _unreachable_reason(url: str, exc: AgentCardResolutionError) -> str:
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError):
        return f"no A2A agent at {url}: connection failed ({_one_line(str(cause)) or 'refused'})"
    if isinstance(cause, httpx.TimeoutException):
        return f"no A2A agent at {url}: timed out fetching the agent card"
    status = getattr(exc, "status_code", None)
    if status:
        return f"no A2A agent at {url}: the agent card request returned HTTP {status}"
    return f"no A2A agent at {url}: {_one_line(str(exc))}"


def _rebase(card: AgentCard, url: str) -> AgentCard:
    """Point interfaces advertised on a wildcard address at the host the caller used."""
    asked = urlsplit(url)
    fixed = AgentCard()
    fixed.CopyFrom(card)
    for interface in fixed.supported_interfaces:
        parts = urlsplit(interface.url)
        if parts.hostname in _WILDCARD_HOSTS or parts.netloc.startswith("[::]"):
            netloc = f"{asked.hostname}:{parts.port}" if parts.port else asked.netloc
            interface.url = urlunsplit(parts._replace(netloc=netloc))
    return fixed


async def _send(client: httpx.AsyncClient, card: AgentCard, text: str) -> Task | Message:
    factory = ClientFactory(ClientConfig(streaming=False, httpx_client=client))
    request = SendMessageRequest(
        message=Message(message_id=str(uuid4()), role=Role.ROLE_USER, parts=[Part(text=text)]),
        configuration=SendMessageConfiguration(
            accepted_output_modes=["text/plain", "text/markdown", "application/json"]
        ),
    )
    last: Task | Message | None = None
    try:
        a2a = factory.create(card)
        async for response in a2a.send_message(request):
            if response.HasField("task"):
                last = response.task
            elif response.HasField("message"):
                last = response.message
    except ValueError as exc:
        raise AgentProtocolError(f"{card.name}: {_one_line(str(exc))}") from None
    except A2AClientTimeoutError:
        raise TimeoutError from None
    except (A2AClientError, A2AError, httpx.HTTPError) as exc:
        raise _transport_error(card, exc) from None
    if last is None:
        raise AgentProtocolError(f"{card.name} sent no task and no message")
    return last


def _transport_error(card: AgentCard, exc: BaseException) -> AgentError:
    text = _one_line(str(exc))
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, httpx.ConnectError):
            return AgentUnreachable(f"{card.name} is unreachable: {text}")
        cause = cause.__cause__
    return AgentProtocolError(f"{card.name} request failed: {text}")


async def _wait(client: httpx.AsyncClient, card: AgentCard, task: Task, timeout: float) -> Task:
    """Poll GetTask until the task reaches a final (or interrupted) state."""
    if task.status.state in _DONE:
        return task
    a2a = ClientFactory(ClientConfig(streaming=False, httpx_client=client)).create(card)
    while task.status.state not in _DONE:
        await asyncio.sleep(_POLL_INTERVAL)
        try:
            task = await a2a.get_task(GetTaskRequest(id=task.id))
        except (A2AClientError, A2AError, httpx.HTTPError) as exc:
            raise _transport_error(card, exc) from None
    return task


def _to_result(reply: Task | Message, agent_name: str) -> AgentResult:
    parts = _answer_parts(reply)
    text = "\n".join(t for t in get_text_parts(parts) if t.strip()).strip()
    if isinstance(reply, Task) and reply.status.state != TaskState.TASK_STATE_COMPLETED:
        state = TaskState.Name(reply.status.state).removeprefix("TASK_STATE_").lower()
        reason = text or "no reason given"
        raise AgentFailed(f"{agent_name} {state} the task: {_one_line(reason)}")
    for data in get_data_parts(parts):
        result = _as_result(data)
        if result is not None:
            if not result.text:
                result.text = text
            return result
    if not text:
        raise AgentProtocolError(f"{agent_name} answered with neither text nor a result")
    return AgentResult.text_only(text)


def _answer_parts(reply: Task | Message) -> list[Part]:
    """The parts that carry the answer: artifacts first, else the final status message."""
    if isinstance(reply, Message):
        return list(reply.parts)
    parts = [part for artifact in reply.artifacts for part in artifact.parts]
    if parts and reply.status.state == TaskState.TASK_STATE_COMPLETED:
        return parts
    if reply.status.HasField("message"):
        return list(reply.status.message.parts)
    agent_messages = [m for m in reply.history if m.role == Role.ROLE_AGENT]
    return list(agent_messages[-1].parts) if agent_messages else parts


def _as_result(data: Any) -> AgentResult | None:
    if not isinstance(data, dict) or "diagnosis" not in data and "tool_calls" not in data:
        return None
    try:
        return AgentResult.model_validate(data)
    except ValidationError:
        return None
