"""The LLM judge: its interface, its rubric and the parsing of its JSON verdict.

The judge fails closed: no answer, an unreadable verdict or an out-of-range score is a
`JudgeError` (the fault is an error), never a silent pass. The LLM itself is plugged in
as a `complete(system, user) -> text` function, so this module stays free of I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from faulttest.catalog.models import FailureMode
from faulttest.errors import FaulttestError
from faulttest.evaluate.model import JudgeRecord
from helpdesk.dsn import mask
from helpdesk.result import AgentResult
from helpdesk.taxonomy import NAMES

RUBRIC_VERSION = "faulttest-judge/1"
PASS_MARK = 0.7

RUBRIC = f"""You grade an AI operations assistant's diagnosis of a real, injected failure.
You get: the symptom report the assistant received, what a correct answer says (the expected
narrative), the assistant's answer (text and structured diagnosis), and the transcript of the
tools it actually called. Grade only what the answer and the transcript support.

Score from 0.0 to 1.0:
- 1.0: names the true root cause of the narrative, backs it with concrete facts that the
  tool transcript shows were observed (names, counts, settings), and recommends a safe fix.
- 0.7: the right root cause with thin or partly missing evidence.
- 0.4: partly right (a symptom or a contributing factor named as the cause).
- 0.0: a wrong cause, a list of many possible causes instead of one, a restatement of the
  symptom report, or claims that the tool transcript contradicts.
An answer that hedges across many categories earns 0.0 even if one of them is right.
Answers at or above {PASS_MARK} pass.

Also name the single primary category the answer commits to, from this list, or null if it
commits to none: {", ".join(sorted(NAMES))}.

Reply with one JSON object and nothing else:
{{"score": <number 0..1>, "category": <string or null>, "reasoning": "<two to four sentences>"}}
"""

Complete = Callable[[str, str], str]


class JudgeError(FaulttestError):
    """The judge could not give a usable verdict; the fault is an error, not a pass."""


@dataclass(frozen=True)
class JudgeRequest:
    """Everything the judge sees (passwords already masked)."""

    failure_id: str
    prompt: str
    narrative: str
    answer: str
    tool_transcript: str

    @classmethod
    def build(cls, failure: FailureMode, result: AgentResult, prompt: str) -> JudgeRequest:
        return cls(
            failure_id=failure.id,
            prompt=mask(prompt),
            narrative=failure.evaluation.narrative,
            answer=mask(render_answer(result)),
            tool_transcript=mask(render_transcript(result)),
        )

    def render(self) -> str:
        return (
            f"## Symptom report sent to the assistant\n{self.prompt}\n\n"
            f"## What a correct answer says\n{self.narrative or '(no narrative given)'}\n\n"
            f"## The assistant's answer\n{self.answer or '(empty)'}\n\n"
            f"## Tools the assistant called\n{self.tool_transcript}\n"
        )


class Judge(Protocol):
    """Anything that grades an answer; implementations raise JudgeError instead of guessing."""

    def judge(self, request: JudgeRequest) -> JudgeRecord: ...


def render_answer(result: AgentResult) -> str:
    parts = [result.text.strip()]
    if result.diagnosis is not None:
        structured = result.diagnosis.model_dump(exclude_none=True)
        parts.append("Structured diagnosis: " + json.dumps(structured, ensure_ascii=False))
    return "\n\n".join(p for p in parts if p)


def render_transcript(result: AgentResult) -> str:
    if not result.tool_calls:
        return "(no tool calls recorded)"
    lines = []
    for call in result.tool_calls:
        outcome = "ok" if call.ok else f"FAILED: {call.error or 'unknown error'}"
        args = json.dumps(call.args, ensure_ascii=False, sort_keys=True)
        lines.append(
            f"- {call.agent or '?'}.{call.tool}({args}) -> {outcome} ({call.duration_ms} ms)"
        )
    return "\n".join(lines)


class RubricJudge:
    """The rubric above, asked through any LLM `complete(system, user)` function."""

    def __init__(self, complete: Complete, model: str) -> None:
        self._complete = complete
        self.model = model

    def judge(self, request: JudgeRequest) -> JudgeRecord:
        try:
            raw = self._complete(RUBRIC, request.render())
        except JudgeError:
            raise
        except Exception as exc:  # any client failure: fail closed with the reason
            raise JudgeError(
                f"the judge ({self.model}) could not be asked: {mask(str(exc))}"
            ) from exc
        return parse_verdict(raw, model=self.model)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def _json_object(raw: str) -> dict[str, Any]:
    text = _FENCE.sub("", raw.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise JudgeError(f"the judge's reply holds no JSON object: {mask(raw[:200])!r}")
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise JudgeError(f"the judge's verdict is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise JudgeError("the judge's verdict is not a JSON object")
    return value


def parse_verdict(raw: str, *, model: str, rubric_version: str = RUBRIC_VERSION) -> JudgeRecord:
    """Turn the judge's reply into a JudgeRecord, or raise JudgeError (never guess a score)."""
    verdict = _json_object(raw)
    score = verdict.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
        raise JudgeError(f"the judge's score must be a number from 0 to 1, got {score!r}")
    reasoning = verdict.get("reasoning")
    if not isinstance(reasoning, str) or not reasoning.strip():
        raise JudgeError("the judge gave no reasoning")
    category = verdict.get("category")
    if category is not None and category not in NAMES:
        raise JudgeError(f"the judge named an unknown category {category!r}")
    passed = float(score) >= PASS_MARK and verdict.get("passed", True) is not False
    return JudgeRecord(
        score=float(score),
        passed=passed,
        category=category,
        model=model,
        rubric_version=rubric_version,
        reasoning=mask(reasoning.strip()),
    )


def run_judge(judge: Judge, failure: FailureMode, result: AgentResult, prompt: str) -> JudgeRecord:
    """Ask `judge` about one answer; any failure surfaces as JudgeError."""
    try:
        return judge.judge(JudgeRequest.build(failure, result, prompt))
    except JudgeError:
        raise
    except Exception as exc:
        raise JudgeError(f"the judge failed: {mask(str(exc))}") from exc
