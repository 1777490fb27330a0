"""The run report (SPEC §8): one FaultResult per fault, a Summary, the environment.

Pure data: the runner fills these in, the JSON/JUnit/HTML/console reporters only render
them, and `faulttest report` reads them back from JSON.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from faulttest.evaluate.model import Evaluation, JudgeRecord
from helpdesk.result import AgentResult


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class Phases(BaseModel):
    """Seconds spent in each phase of one fault (0 for a phase that did not run)."""

    model_config = ConfigDict(extra="allow")

    inject: float = 0.0
    agent: float = 0.0
    evaluate: float = 0.0
    remediate: float = 0.0
    teardown: float = 0.0


class RemediationResult(BaseModel):
    """What the agent did to fix the fault and whether faulttest saw it recover.

    `actions` are the mutating tool calls of the agent's trace (`tool(args): outcome`);
    `time_to_recover` counts from the remediation request until every recovery probe
    held; `recovery_held_before` is the honesty check (True means the fault definition is
    broken: its recovery check held before anything was fixed). Guidance-only faults are
    judged on the advice (`advice_ok`) instead of a recovery.
    """

    model_config = ConfigDict(extra="allow")

    attempted: bool = False
    recovered: bool = False
    duration: float = 0.0
    actions: list[str] = Field(default_factory=list)
    error: str | None = None
    time_to_recover: float | None = None
    score: float = 0.0
    guidance_only: bool = False
    recovery_held_before: bool | None = None
    advice_ok: bool | None = None
    advice: str = ""
    disallowed_actions: list[str] = Field(default_factory=list)
    response_text: str = ""
    judge: JudgeRecord | None = None  # --judge: the approach, graded by the LLM judge

    @property
    def passed(self) -> bool:
        if self.error:
            return False
        if self.guidance_only:
            return bool(self.advice_ok)
        return self.recovered and (self.judge is None or self.judge.passed)

    @property
    def reason(self) -> str:
        """One line: why the remediation did not pass (empty when it did)."""
        if self.error:
            return f"remediation error: {self.error}"
        if self.guidance_only and not self.advice_ok:
            return "remediation: the advice does not name the fix a person must make"
        if not self.guidance_only and not self.recovered:
            tried = ", ".join(self.actions) or "no change made"
            return f"remediation: not recovered within {self.duration:.0f}s ({tried})"
        if self.judge is not None and not self.judge.passed and not self.guidance_only:
            return (
                f"remediation: recovered, but the judge failed the approach: {self.judge.reasoning}"
            )
        return ""


class RepeatRun(BaseModel):
    """One of the N runs of a fault under `--repeat N`."""

    index: int
    status: Status
    score: float = 0.0
    category: str | None = None
    agent_seconds: float = 0.0
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None


class Stability(BaseModel):
    """Repeat statistics of one fault (see `report.stability`)."""

    runs: int
    passes: int
    pass_rate: float
    ci_low: float
    ci_high: float
    threshold: float
    stable: bool
    category_agreement: float
    majority_category: str | None
    latency_p50: float
    latency_p95: float
    llm_calls: int
    input_tokens: int
    output_tokens: int


class Repeats(BaseModel):
    runs: list[RepeatRun]
    stability: Stability


class FaultResult(BaseModel):
    """The outcome of one fault: status, score components, timings and the agent's answer."""

    model_config = ConfigDict(extra="allow")

    failure_id: str
    failure_name: str
    category: str
    status: Status
    passed: bool = False
    score: float = 0.0
    keyword_pass: bool = False
    diagnosis_pass: bool = False
    tool_evidence: bool = False
    prompt: str = ""
    response_text: str = ""
    duration: float = 0.0
    phases: Phases = Field(default_factory=Phases)
    error: str | None = None
    skip_reason: str | None = None
    agent_result: AgentResult | None = None
    evaluation: Evaluation | None = None
    compat: Evaluation | None = None
    judge: JudgeRecord | None = None
    remediation: RemediationResult | None = None
    repeats: Repeats | None = None

    @classmethod
    def scored(
        cls,
        *,
        failure_id: str,
        failure_name: str,
        category: str,
        evaluation: Evaluation,
        agent_result: AgentResult,
        compat: Evaluation | None = None,
        prompt: str = "",
        phases: Phases | None = None,
    ) -> FaultResult:
        """A fault whose answer was evaluated: status and flags follow the evaluation."""
        phases = phases or Phases()
        return cls(
            failure_id=failure_id,
            failure_name=failure_name,
            category=category,
            status=Status.PASSED if evaluation.passed else Status.FAILED,
            passed=evaluation.passed,
            score=evaluation.score,
            keyword_pass=evaluation.keyword_pass,
            diagnosis_pass=evaluation.diagnosis_pass,
            tool_evidence=evaluation.tool_evidence,
            prompt=prompt,
            response_text=agent_result.text,
            duration=_total(phases),
            phases=phases,
            agent_result=agent_result,
            evaluation=evaluation,
            compat=compat,
            judge=evaluation.judge,
        )

    @classmethod
    def skipped(
        cls, *, failure_id: str, failure_name: str, category: str, reason: str
    ) -> FaultResult:
        return cls(
            failure_id=failure_id,
            failure_name=failure_name,
            category=category,
            status=Status.SKIPPED,
            skip_reason=reason,
        )

    @classmethod
    def errored(
        cls,
        *,
        failure_id: str,
        failure_name: str,
        category: str,
        error: str,
        phases: Phases | None = None,
        agent_result: AgentResult | None = None,
        prompt: str = "",
    ) -> FaultResult:
        """A fault that could not be judged (did not take, agent hung, judge failed...)."""
        phases = phases or Phases()
        return cls(
            failure_id=failure_id,
            failure_name=failure_name,
            category=category,
            status=Status.ERROR,
            error=error,
            prompt=prompt,
            response_text=agent_result.text if agent_result else "",
            agent_result=agent_result,
            duration=_total(phases),
            phases=phases,
        )

    def with_phase_total(self) -> FaultResult:
        """A copy whose `duration` covers every phase recorded (phases may grow after scoring)."""
        return self.model_copy(update={"duration": max(self.duration, _total(self.phases))})

    @property
    def reason(self) -> str:
        """One line saying why it did not pass (empty when it passed)."""
        if self.status is Status.SKIPPED:
            return self.skip_reason or "skipped"
        if self.status is Status.ERROR:
            return self.error or "error"
        if self.status is Status.FAILED and self.evaluation is not None:
            reasons = self.evaluation.failed_reasons()
            if self.remediation is not None and self.remediation.reason:
                reasons = [*reasons, self.remediation.reason]
            return "; ".join(reasons) or "failed"
        return "" if self.passed else (self.error or "failed")


def _total(phases: Phases) -> float:
    return round(sum(v for v in phases.model_dump().values() if isinstance(v, int | float)), 3)


class CategoryStats(BaseModel):
    total: int = 0
    passed: int = 0
    skipped: int = 0
    rate: float = 0.0


class Summary(BaseModel):
    """Counts over a run. `pass_rate` is over the faults that ran (skips do not count)."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    pass_rate: float = 0.0
    categories: dict[str, CategoryStats] = Field(default_factory=dict)

    @classmethod
    def of(cls, results: Iterable[FaultResult]) -> Summary:
        results = list(results)
        count = {s: sum(r.status is s for r in results) for s in Status}
        categories: dict[str, CategoryStats] = {}
        for result in results:
            stats = categories.setdefault(result.category, CategoryStats())
            stats.total += 1
            stats.passed += result.status is Status.PASSED
            stats.skipped += result.status is Status.SKIPPED
        for stats in categories.values():
            stats.rate = _rate(stats.passed, stats.total - stats.skipped)
        return cls(
            total=len(results),
            passed=count[Status.PASSED],
            failed=count[Status.FAILED],
            errored=count[Status.ERROR],
            skipped=count[Status.SKIPPED],
            pass_rate=_rate(count[Status.PASSED], len(results) - count[Status.SKIPPED]),
            categories=categories,
        )


def _rate(passed: int, ran: int) -> float:
    return round(passed / ran, 4) if ran else 0.0


class Environment(BaseModel):
    model_config = ConfigDict(extra="allow")

    target: str = ""
    agent: str = ""
    model: str = ""
    versions: dict[str, str] = Field(default_factory=dict)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: `20261203T161500Z-3f9a`."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


class RunReport(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(default_factory=new_run_id)
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    profile: str = "strict"
    duration: float = 0.0
    results: list[FaultResult] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    environment: Environment = Field(default_factory=Environment)

    @classmethod
    def build(cls, results: list[FaultResult], **fields: Any) -> RunReport:
        """A report whose summary is computed from `results` (durations cover all phases)."""
        results = [r.with_phase_total() for r in results]
        return cls(results=results, summary=Summary.of(results), **fields)

    @property
    def exit_code(self) -> int:
        """0 when everything that ran passed (skips do not fail), else 1 (SPEC §3)."""
        return 1 if self.summary.failed or self.summary.errored else 0
