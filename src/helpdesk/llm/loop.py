"""The one tool-calling loop every LLM-backed agent shares.

Offers the agent's tools plus `submit_diagnosis`, runs the calls the model asks for
(several at once when it asks for several), feeds the results back, and stops when a
valid diagnosis is submitted, the step cap is reached or time runs out. It never raises
for model trouble: the AgentResult says what happened (`status`, `error`).
Passwords go through a `SecretVault`: the model sees `****`, tools get the real DSN.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from helpdesk.agents.base import ToolError, ToolRegistry, mask_args
from helpdesk.dsn import mask
from helpdesk.llm.client import (
    Message,
    ModelClient,
    ModelError,
    ModelTurn,
    RequestedCall,
    ToolResult,
    ToolResults,
    ToolSpec,
    UserText,
)
from helpdesk.llm.redact import SecretVault
from helpdesk.llm.retry import Deadline, DeadlineExceeded, RetryPolicy, call_with_retries
from helpdesk.llm.submission import (
    SUBMIT_TOOL,
    SubmissionError,
    parse_submission,
    render_answer,
    submit_tool_spec,
)
from helpdesk.result import AgentResult, Diagnosis, ModelInfo, ToolCall, Usage

log = logging.getLogger(__name__)

NUDGE = (
    f"Continue the investigation with the tools, then finish by calling {SUBMIT_TOOL}. "
    "Do not answer in prose only."
)
LAST_STEP = f"This is your last step: call {SUBMIT_TOOL} now with what the tools have shown."


@dataclass(frozen=True)
class LoopSettings:
    max_steps: int = 15  # model calls per question
    call_timeout: float = 60.0  # seconds per model call
    overall_timeout: float = 300.0  # seconds for the whole question, tools included
    tool_output_chars: int = 6000  # budget per tool result sent to the model
    max_parallel_tools: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class _Run:
    """The state of one question: conversation, trace, usage, secrets, deadline."""

    registry: ToolRegistry
    deadline: Deadline
    vault: SecretVault = field(default_factory=SecretVault)
    messages: list[Message] = field(default_factory=list)
    trace: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    last_prose: str = ""


class ToolLoop:
    """Runs one question to a diagnosis with a model client and an agent's tools."""

    def __init__(
        self,
        client: ModelClient,
        system_prompt: str,
        settings: LoopSettings | None = None,
        categories: Iterable[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.system_prompt = system_prompt
        self.settings = settings or LoopSettings()
        self.categories = list(categories) if categories is not None else None
        self._sleep = sleep

    def run(self, message: str, registry: ToolRegistry) -> AgentResult:
        run = _Run(registry=registry, deadline=Deadline.after(self.settings.overall_timeout))
        run.messages.append(UserText(run.vault.hide(message)))
        tools = [ToolSpec(t.name, t.description, t.parameters) for t in registry]
        tools.append(submit_tool_spec(self.categories))
        while run.steps < self.settings.max_steps:
            run.steps += 1
            try:
                turn = self._ask(run, tools)
            except DeadlineExceeded:
                return self._unfinished(
                    run,
                    "timeout",
                    f"the investigation ran out of time ({self.settings.overall_timeout:.0f} s)",
                )
            except ModelError as exc:
                return self._unfinished(
                    run, "model_error", f"the model could not be asked: {mask(str(exc))}"
                )
            except Exception as exc:  # an SDK surprise must not crash the agent
                log.exception("unexpected failure while asking the model")
                reason = f"unexpected {type(exc).__name__} from the model client: {mask(str(exc))}"
                return self._unfinished(run, "model_error", reason)
            if turn.text.strip():
                run.last_prose = turn.text
            if not turn.tool_calls:
                run.messages.append(UserText(NUDGE))
                continue
            results, diagnosis = self._execute(run, turn)
            if diagnosis is not None:
                return self._finished(run, turn.text, diagnosis)
            note = LAST_STEP if run.steps == self.settings.max_steps - 1 else None
            run.messages.append(ToolResults(tuple(results), note))
        return self._unfinished(
            run,
            "step_cap",
            f"the model did not call {SUBMIT_TOOL} within {self.settings.max_steps} steps",
        )

    def _ask(self, run: _Run, tools: list[ToolSpec]) -> ModelTurn:
        turn = call_with_retries(
            lambda timeout: self.client.step(self.system_prompt, run.messages, tools, timeout),
            policy=self.settings.retry,
            deadline=run.deadline,
            call_timeout=self.settings.call_timeout,
            sleep=self._sleep,
        )
        run.usage.add(turn.usage)
        run.messages.append(turn)
        log.info(
            "model step %d: %d tool call(s) %s, stop=%s",
            run.steps,
            len(turn.tool_calls),
            [c.name for c in turn.tool_calls],
            turn.stop_reason,
        )
        return turn

    def _execute(self, run: _Run, turn: ModelTurn) -> tuple[list[ToolResult], Diagnosis | None]:
        """Run the turn's tool calls, then judge its submission (if any)."""
        work = [c for c in turn.tool_calls if c.name != SUBMIT_TOOL]
        submissions = [c for c in turn.tool_calls if c.name == SUBMIT_TOOL]
        by_id = dict(zip([c.id for c in work], self._run_tools(run, work), strict=True))
        diagnosis: Diagnosis | None = None
        for call in submissions:
            if diagnosis is not None:
                by_id[call.id] = ToolResult(
                    call.id, call.name, "ignored: a diagnosis was already accepted"
                )
                continue
            try:
                diagnosis = self._accept(run, call)
                by_id[call.id] = ToolResult(call.id, call.name, "diagnosis recorded")
            except SubmissionError as exc:
                by_id[call.id] = ToolResult(
                    call.id,
                    call.name,
                    f"error: invalid {SUBMIT_TOOL}: {exc}. Fix it and call again.",
                    True,
                )
        return [by_id[c.id] for c in turn.tool_calls], diagnosis

    def _accept(self, run: _Run, call: RequestedCall) -> Diagnosis:
        if call.error:
            raise SubmissionError(call.error)
        if not run.trace and any(True for _ in run.registry):
            raise SubmissionError(
                "investigate first: call at least one of the other tools before submitting"
            )
        return parse_submission(call.args, self.categories)

    def _run_tools(self, run: _Run, calls: list[RequestedCall]) -> list[ToolResult]:
        if not calls:
            return []
        sequential = len(calls) == 1 or any(
            c.name in run.registry and run.registry.get(c.name).mutating for c in calls
        )
        workers = 1 if sequential else min(len(calls), self.settings.max_parallel_tools)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tool")
        try:
            futures = [pool.submit(self._run_tool, run, call) for call in calls]
            wait(futures, timeout=max(run.deadline.remaining(), 0.0))
            outcomes = [self._collect(run, c, f) for c, f in zip(calls, futures, strict=True)]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        results = []
        for result, records in outcomes:
            run.trace.extend(records)
            results.append(result)
        return results

    def _collect(
        self, run: _Run, call: RequestedCall, future: Future[tuple[ToolResult, list[ToolCall]]]
    ) -> tuple[ToolResult, list[ToolCall]]:
        if future.done():
            return future.result()
        text = "error: the tool did not finish within the time budget"
        record = ToolCall(
            agent=run.registry.agent,
            tool=call.name,
            args=mask_args(call.args or {}),
            ok=False,
            error=text,
        )
        return ToolResult(call.id, call.name, text, True), [record]

    def _run_tool(self, run: _Run, call: RequestedCall) -> tuple[ToolResult, list[ToolCall]]:
        """One tool call (in a worker thread); never raises."""
        records: list[ToolCall] = []
        started = time.perf_counter()
        if call.error or call.args is None:
            text = (
                f"error: could not read the arguments for {call.name}: {call.error}. "
                "Call it again with valid JSON arguments."
            )
            records.append(self._failed_record(run, call, text, started))
            return ToolResult(call.id, call.name, text, True), records
        try:
            output = run.registry.call(call.name, run.vault.restore_args(call.args), records)
            text, ok = output.text, output.ok
        except ToolError as exc:  # unknown tool
            text, ok = f"error: {exc}", False
            records.append(self._failed_record(run, call, text, started))
        except Exception as exc:  # a tool bug must not end the investigation
            log.exception("tool %s failed", call.name)
            text, ok = f"error: {call.name} failed: {type(exc).__name__}: {exc}", False
            records.append(self._failed_record(run, call, mask(text), started))
        return ToolResult(call.id, call.name, self._for_model(run, text), not ok), records

    def _failed_record(self, run: _Run, call: RequestedCall, text: str, started: float) -> ToolCall:
        return ToolCall(
            agent=run.registry.agent,
            tool=call.name,
            args=mask_args(call.args or {}),
            ok=False,
            error=mask(text)[:500],
            duration_ms=int((time.perf_counter() - started) * 1000),
        )

    def _for_model(self, run: _Run, text: str) -> str:
        """Tool output as the model may see it: passwords hidden, then cut to the budget."""
        text = run.vault.hide(text)
        budget = self.settings.tool_output_chars
        if len(text) <= budget:
            return text
        return f"{text[:budget]}\n[... truncated {len(text) - budget} characters]"

    def _model_info(self) -> ModelInfo:
        return ModelInfo(vendor=self.client.vendor, name=self.client.model)

    def _result(
        self, run: _Run, text: str, diagnosis: Diagnosis | None, status: str, error: str | None
    ) -> AgentResult:
        # status / error / steps are extra fields of the SPEC §6 result (it allows extras)
        return AgentResult.model_validate(
            {
                "text": text,
                "diagnosis": diagnosis,
                "tool_calls": run.trace,
                "model": self._model_info(),
                "usage": run.usage,
                "status": status,
                "error": error,
                "steps": run.steps,
            }
        )

    def _finished(self, run: _Run, prose: str, diagnosis: Diagnosis) -> AgentResult:
        diagnosis = _scrub_diagnosis(run.vault, diagnosis)
        text = render_answer(run.vault.hide(prose), diagnosis)
        return self._result(run, text, diagnosis, "diagnosed", None)

    def _unfinished(self, run: _Run, status: str, reason: str) -> AgentResult:
        prose = run.vault.hide(run.last_prose.strip())
        note = f"_No diagnosis: {reason}._"
        log.warning("no diagnosis: %s", reason)
        return self._result(run, f"{prose}\n\n{note}" if prose else note, None, status, reason)


def _scrub_diagnosis(vault: SecretVault, diagnosis: Diagnosis) -> Diagnosis:
    """A last guard: whatever the model wrote passes through the vault before it is stored."""
    data = diagnosis.model_dump()
    for key in ("summary",):
        data[key] = vault.hide(data[key])
    for key in ("evidence", "recommended_actions"):
        data[key] = [vault.hide(item) for item in data[key]]
    return Diagnosis.model_validate(data)
