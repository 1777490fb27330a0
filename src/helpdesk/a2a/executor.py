"""The bridge between the a2a-sdk server and an `Agent`: one message in, one final task out.

The blocking `agent.answer` runs in a worker thread; the final task carries an artifact
with a text part (the answer) and a data part (the SPEC §6 AgentResult as a dict).
"""

from __future__ import annotations

import asyncio
import logging
import time
from uuid import uuid4

from a2a.helpers.proto_helpers import new_data_part, new_task, new_text_part
from a2a.server.agent_execution import (
    AgentExecutor,
    RequestContext,
    RequestContextBuilder,
)
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Message, Part, Role, SendMessageRequest, Task, TaskState

from helpdesk.agents.base import Agent
from helpdesk.dsn import mask
from helpdesk.logfmt import fields
from helpdesk.result import AgentResult

log = logging.getLogger(__name__)

ANSWER_ARTIFACT = "answer"
RESULT_MEDIA_TYPE = "application/json"


class AgentRunError(Exception):
    """The agent raised while answering; the message is masked and safe to show."""


class HelpdeskRequestContext(RequestContext):
    """A request context that also remembers the person's unmasked text, for the agent only."""

    original_text: str = ""


class MaskingRequestContextBuilder(RequestContextBuilder):
    """Masks passwords in the incoming message before the SDK stores it in the task history.

    Replies and GetTask then never echo a password; the agent still gets the original text.
    """

    async def build(
        self,
        context: ServerCallContext,
        params: SendMessageRequest | None = None,
        task_id: str | None = None,
        context_id: str | None = None,
        task: Task | None = None,
    ) -> RequestContext:
        built = HelpdeskRequestContext(
            call_context=context, request=params, task_id=task_id, context_id=context_id, task=task
        )
        built.original_text = built.get_user_input()
        if built.message is not None:
            for part in built.message.parts:
                if part.HasField("text"):
                    part.text = mask(part.text)
        return built


class HelpdeskAgentExecutor(AgentExecutor):
    """Runs one `Agent` for each incoming A2A message."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id = context.task_id or ""
        context_id = context.context_id or ""
        if context.current_task is None:
            history = [context.message] if context.message is not None else []
            await event_queue.enqueue_event(
                new_task(task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=history)
            )
        updater = TaskUpdater(event_queue, task_id, context_id)
        await updater.start_work()
        question = getattr(context, "original_text", "") or context.get_user_input()
        question = question.strip()
        if not question:
            await updater.failed(_agent_message("error: the message has no text to answer"))
            return
        log.info(
            "question received",
            extra=fields(agent=self.agent.name, task=task_id, message=mask(question)[:200]),
        )
        started = time.perf_counter()
        try:
            result = await asyncio.to_thread(self._answer, question)
        except AgentRunError as exc:
            log.warning(
                "agent failed", extra=fields(agent=self.agent.name, task=task_id, error=exc)
            )
            await updater.failed(_agent_message(f"error: {exc}"))
            return
        await updater.add_artifact(result_parts(result), name=ANSWER_ARTIFACT)
        await updater.complete(_agent_message(result.text))
        category = result.diagnosis.category if result.diagnosis else "-"
        log.info(
            "answer sent",
            extra=fields(
                agent=self.agent.name,
                task=task_id,
                category=category,
                tool_calls=len(result.tool_calls),
                duration_ms=int((time.perf_counter() - started) * 1000),
            ),
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()

    def _answer(self, question: str) -> AgentResult:
        try:
            result = self.agent.answer(question)
        except Exception as exc:  # any agent bug must become a failed task, not a hung call
            raise AgentRunError(
                f"{self.agent.name} failed: {mask(str(exc)) or type(exc).__name__}"
            ) from exc
        if not isinstance(result, AgentResult):
            raise AgentRunError(
                f"{self.agent.name} returned {type(result).__name__}, not AgentResult"
            )
        return result


def result_parts(result: AgentResult) -> list[Part]:
    """The two parts of a final answer: the human text and the masked structured result."""
    data = mask_data(result.model_dump(mode="json"))
    return [
        new_text_part(mask(result.text), "text/markdown"),
        new_data_part(data, RESULT_MEDIA_TYPE),
    ]


def mask_data(value: object) -> object:
    """Mask passwords in every string of a JSON-like value (defence in depth)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    return value


def _agent_message(text: str) -> Message:
    return Message(message_id=str(uuid4()), role=Role.ROLE_AGENT, parts=[new_text_part(mask(text))])
