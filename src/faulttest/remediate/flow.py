"""One fault's remediation: honesty check → ask the agent to fix it → poll the recovery check.

The recovery check must NOT hold before anything was fixed (else the fault definition is
broken and the result is an error). Faults no agent tool can fix are guidance-only: the
agent is still asked, and its advice is judged by rule. Recovery is measured from the
moment the request is sent until every recovery probe holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from faulttest.catalog.models import FailureMode, Probe
from faulttest.evaluate.judge import Judge, JudgeError
from faulttest.inject.engine import Injection, Injector
from faulttest.inject.probes import ProbeResult
from faulttest.remediate.actions import describe, mutating_calls
from faulttest.remediate.guidance import judge_advice
from faulttest.remediate.judge import judge_remediation
from faulttest.remediate.prompt import remediation_prompt
from faulttest.report.models import FaultResult, RemediationResult, Status
from helpdesk.a2a.client import AgentError
from helpdesk.dsn import mask
from helpdesk.result import AgentResult

AskFix = Callable[[str], AgentResult]  # sends the remediation request to the same agent
POLL_INTERVAL = 0.25
DISALLOWED_SCORE = 0.5  # recovered, but with a tool the fault does not allow


def remediate(
    failure: FailureMode,
    injector: Injector,
    injection: Injection,
    symptom_prompt: str,
    diagnosis: AgentResult | None,
    ask: AskFix,
    *,
    after_injection: ProbeResult | None = None,
    judge: Judge | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RemediationResult:
    """Remediate one injected fault; `after_injection` is the recovery check taken right after
    injecting (the runner's), else it is taken now, before the request."""
    spec = failure.remediation
    guidance_only = spec is None or spec.guidance_only
    probes = spec.recovery if spec else []
    allowed = spec.allowed_tools if spec else []
    result = RemediationResult(guidance_only=guidance_only)
    if not guidance_only and not probes:
        result.error = "the fault defines no recovery check"
        return result
    if probes:
        problem = _honesty(probes, injector, injection, after_injection, result)
        if problem:
            result.error = problem
            return result
    started = clock()
    request = remediation_prompt(failure, symptom_prompt, diagnosis)
    try:
        answer = ask(request)
    except AgentError as exc:
        result.duration = round(clock() - started, 3)
        result.error = f"agent error: {mask(str(exc))}"
        return result
    calls = mutating_calls(answer, allowed)
    result.attempted = bool(calls)
    result.actions = [describe(c) for c in calls]
    result.response_text = mask(answer.text)
    if allowed:
        result.disallowed_actions = sorted({c.tool for c in calls if c.tool not in allowed})
    if guidance_only:
        result.advice_ok, result.advice = judge_advice(failure, answer)
        result.score = 1.0 if result.advice_ok else 0.0
        result.duration = round(clock() - started, 3)
        return _judged(result, judge, failure, answer, request)
    assert spec is not None
    deadline = started + spec.timeout
    while True:
        now = injector.check(probes, injection.agent_dsn)
        if now.held:
            result.recovered = True
            result.time_to_recover = round(clock() - started, 3)
            break
        if clock() >= deadline:
            break
        sleep(POLL_INTERVAL)
    result.duration = round(clock() - started, 3)
    if result.recovered:
        result.score = DISALLOWED_SCORE if result.disallowed_actions else 1.0
    return _judged(result, judge, failure, answer, request)


def _judged(
    result: RemediationResult,
    judge: Judge | None,
    failure: FailureMode,
    answer: AgentResult,
    request: str,
) -> RemediationResult:
    """With --judge: the judge grades the approach too (its verdict replaces the advice rule;
    a recovery with a failing approach does not pass). A judge error is an error."""
    if judge is None:
        return result
    try:
        record = judge_remediation(judge, failure, answer, request, result.recovered)
    except JudgeError as exc:
        result.error = f"judge error: {exc}"
        return result
    result.judge = record
    if result.guidance_only:
        result.advice_ok, result.advice = record.passed, f"judge: {record.model}"
        result.score = record.score
    else:
        result.score = min(result.score, record.score)  # passing also needs the judge's pass
    return result


def _honesty(
    probes: list[Probe],
    injector: Injector,
    injection: Injection,
    after_injection: ProbeResult | None,
    result: RemediationResult,
) -> str | None:
    """Why the recovery cannot be measured honestly, or None.

    Right after injection the recovery check must not hold (else the fault definition is
    broken); and it must still not hold when the request is sent (else the fault went
    away during the diagnosis and no recovery can be attributed to the remediation)."""
    first = after_injection or injector.check(probes, injection.agent_dsn)
    result.recovery_held_before = first.held
    if first.held:
        return (
            "the recovery check already holds right after injection, before any fix: the "
            f"fault definition is broken ({mask(first.observed)})"
        )
    if after_injection is not None:
        now = injector.check(probes, injection.agent_dsn)
        if now.held:
            return (
                "the fault was gone before the remediation request (it healed or was changed "
                f"during the diagnosis): no recovery can be attributed ({mask(now.observed)})"
            )
    return None


def fold_into(result: FaultResult, remediation: RemediationResult) -> FaultResult:
    """The fault's result with its remediation: an error or a failed fix fails the fault."""
    result.remediation = remediation
    result.phases.remediate = remediation.duration
    if result.status is Status.PASSED and not remediation.passed:
        if remediation.error:
            result.status, result.error = Status.ERROR, remediation.reason
        else:
            result.status = Status.FAILED
        result.passed = False
    elif result.status is Status.FAILED and remediation.error:
        result.status, result.error = Status.ERROR, remediation.reason
    return result
