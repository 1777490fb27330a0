"""Scoring an agent's answer against a failure mode (SPEC §7); pure, no I/O.

`evaluate(...)` runs one profile: `strict` (the verdict) or `compat` (aiHelpDesk's Go
scoring, kept alongside for comparison). The LLM judge plugs in through `judge.Judge`.
"""

from __future__ import annotations

from faulttest.catalog.models import FailureMode
from faulttest.evaluate import compat, strict
from faulttest.evaluate.judge import Judge, JudgeError, JudgeRequest, RubricJudge, run_judge
from faulttest.evaluate.model import Component, Evaluation, JudgeRecord, Profile
from helpdesk.result import AgentResult

PROFILES: tuple[Profile, ...] = ("strict", "compat")


def evaluate(
    failure: FailureMode,
    result: AgentResult,
    *,
    profile: Profile = "strict",
    prompt: str | None = None,
    judge: JudgeRecord | None = None,
) -> Evaluation:
    """Score `result` for `failure` with one profile; `prompt` is what the agent was sent."""
    if profile == "compat":
        return compat.evaluate(failure, result, prompt=prompt)
    if profile == "strict":
        return strict.evaluate(failure, result, prompt=prompt, judge=judge)
    raise ValueError(f"unknown evaluation profile {profile!r}; use one of {', '.join(PROFILES)}")


__all__ = [
    "PROFILES",
    "Component",
    "Evaluation",
    "Judge",
    "JudgeError",
    "JudgeRecord",
    "JudgeRequest",
    "RubricJudge",
    "evaluate",
    "run_judge",
]
