"""Run faults end to end: requires → inject → verify → ask the agent → evaluate → teardown.

Teardown always runs once something was injected (failure, exception, Ctrl-C); a teardown
that leaves the target dirty turns the fault into an error. An agent that hangs or dies,
or any unexpected error, is an `error` for that fault, never a hung or aborted run. The
runner produces `FaultResult`s; rendering is the reporters' job, progress goes to a
`RunListener`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from faulttest.catalog.models import FailureMode, FaultCategory, KubernetesAction, Requirement
from faulttest.errors import FaulttestError
from faulttest.evaluate import compat, strict
from faulttest.evaluate.judge import Judge, JudgeError, run_judge
from faulttest.inject.engine import Injection, Injector
from faulttest.inject.probes import ProbeResult
from faulttest.report.models import FaultResult, Phases, Status
from faulttest.report.stability import DEFAULT_THRESHOLD, combine_repeats
from faulttest.run.agents import AgentSet
from faulttest.run.interrupt import deferred_interrupts
from helpdesk.a2a.client import AgentError, ask_sync
from helpdesk.dsn import mask
from helpdesk.result import AgentResult

log = logging.getLogger(__name__)

Ask = Callable[[str, str, float], AgentResult]
NO_CONTEXT_REASON = "no Kubernetes context given: pass --context or set FAULTTEST_KUBE_CONTEXT"


class RunListener(Protocol):
    def fault_started(self, failure: FailureMode, index: int, total: int) -> None: ...
    def fault_finished(self, result: FaultResult) -> None: ...


class _Silent:
    def fault_started(self, failure: FailureMode, index: int, total: int) -> None:
        pass

    def fault_finished(self, result: FaultResult) -> None:
        pass


@dataclass
class RunSettings:
    repeat: int = 1
    stable_threshold: float = DEFAULT_THRESHOLD
    judge: Judge | None = None
    kube_context: str | None = None
    agent_timeout: float | None = None  # None: the fault's catalog timeout
    remediate: bool = False  # --remediate: ask the agent to fix it, verify recovery


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the run; `results` holds what finished, torn down."""

    def __init__(self, results: list[FaultResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def needs_kubernetes(failure: FailureMode) -> bool:
    actions = (*failure.inject, *failure.teardown)
    return (
        failure.category in (FaultCategory.KUBERNETES, FaultCategory.COMPOUND)
        or Requirement.KUBERNETES in failure.requires
        or any(isinstance(a, KubernetesAction) for a in actions)
    )


class Runner:
    def __init__(
        self,
        injector: Injector,
        agents: AgentSet,
        settings: RunSettings | None = None,
        listener: RunListener | None = None,
        ask: Ask = ask_sync,
    ) -> None:
        self.injector = injector
        self.agents = agents
        self.settings = settings or RunSettings()
        self.listener = listener or _Silent()
        self._ask = ask

    # ── planning ──
    def skip_reason(self, failure: FailureMode) -> str | None:
        """Why this fault cannot run here (requires, target, agent), or None."""
        if needs_kubernetes(failure) and not self.settings.kube_context:
            return NO_CONTEXT_REASON
        return self.injector.unsupported_reason(failure) or self.agents.missing_reason(failure)

    def prepare(self, failures: Sequence[FailureMode]) -> None:
        """Start the in-process agents the runnable faults need, before breaking anything
        (a bad model setting then fails the run up front, exit 2)."""
        for failure in failures:
            if self.skip_reason(failure) is None:
                self.agents.url_for(failure)

    # ── running ──
    def run(self, failures: Sequence[FailureMode]) -> list[FaultResult]:
        """Run every fault in order; on Ctrl-C raise `Interrupted` with what finished."""
        results: list[FaultResult] = []
        try:
            for index, failure in enumerate(failures, start=1):
                self.listener.fault_started(failure, index, len(failures))
                try:
                    result = self.run_repeated(failure)
                except Interrupted as stop:
                    results.extend(stop.results)
                    for done in stop.results:
                        self.listener.fault_finished(done)
                    raise
                results.append(result)
                self.listener.fault_finished(result)
        except (Interrupted, KeyboardInterrupt):  # between faults nothing is injected
            raise Interrupted(results) from None
        return results

    def run_repeated(self, failure: FailureMode) -> FaultResult:
        if self.settings.repeat <= 1:
            return self._checked(failure)
        runs: list[FaultResult] = []
        for _ in range(self.settings.repeat):
            try:
                runs.append(self._checked(failure))
            except Interrupted as stop:
                runs.extend(stop.results)
                raise Interrupted([combine_repeats(runs, self.settings.stable_threshold)]) from None
            if runs[-1].status is Status.SKIPPED:
                return runs[-1]
        return combine_repeats(runs, self.settings.stable_threshold)

    def _checked(self, failure: FailureMode) -> FaultResult:
        try:
            return self.run_one(failure)
        except KeyboardInterrupt:  # during the injection, which cleans up after itself
            raise Interrupted([_errored(failure, "interrupted (Ctrl-C) while injecting")]) from None

    def run_one(self, failure: FailureMode) -> FaultResult:
        """One fault: skip, or inject → ask → evaluate, with teardown always."""
        reason = self.skip_reason(failure)
        if reason:
            return FaultResult.skipped(
                failure_id=failure.id,
                failure_name=failure.name,
                category=failure.category.value,
                reason=reason,
            )
        phases = Phases()
        started = time.monotonic()
        try:
            injection = self.injector.inject(failure)
        except FaulttestError as exc:
            phases.inject = time.monotonic() - started
            return _errored(failure, f"fault did not take: {_line(exc)}", phases)
        except Exception as exc:  # an injector bug must not end the run
            log.exception("injecting %s failed", failure.id)
            phases.inject = time.monotonic() - started
            return _errored(failure, f"fault did not take: {_line(exc)}", phases)
        phases.inject = injection.seconds
        interrupted = False
        try:
            after_injection = self._recovery_check(failure, injection)  # --remediate only
            result = self._ask_and_score(failure, injection, phases)
            if self.settings.remediate:
                result = self._remediate(failure, injection, result, after_injection)
        except KeyboardInterrupt:
            interrupted = True
            result = _errored(failure, "interrupted (Ctrl-C); torn down", phases)
        except Exception as exc:  # an agent client or evaluator bug must not end the run
            log.exception("asking or scoring %s failed", failure.id)
            result = _errored(failure, f"unexpected error: {_line(exc)}", phases)
        except BaseException:  # SystemExit and the like: restore the target, then go
            self._teardown(failure, phases, _errored(failure, "aborted", phases))
            raise
        with deferred_interrupts("the teardown of " + failure.id) as deferred:
            result = self._teardown(failure, phases, result)
        if interrupted or deferred.pending:
            raise Interrupted([result])
        return result

    def _prompt(self, failure: FailureMode, injection: Injection) -> str:
        if not self.settings.kube_context:
            return injection.prompt
        return failure.render_prompt(
            {
                "connection_string": injection.agent_dsn,
                "replica_connection_string": injection.agent_replica_dsn or "",
                "kube_context": self.settings.kube_context,
            }
        )

    def _ask_and_score(
        self, failure: FailureMode, injection: Injection, phases: Phases
    ) -> FaultResult:
        prompt = self._prompt(failure, injection)
        url = self.agents.url_for(failure)
        assert url is not None  # skip_reason() said an agent exists
        timeout = self.settings.agent_timeout or failure.timeout
        started = time.monotonic()
        try:
            answer = self._ask(url, prompt, timeout)
        except AgentError as exc:
            phases.agent = time.monotonic() - started
            return _errored(failure, f"agent error: {_line(exc)}", phases, prompt=prompt)
        phases.agent = time.monotonic() - started
        started = time.monotonic()
        try:
            judged = (
                run_judge(self.settings.judge, failure, answer, prompt)
                if self.settings.judge
                else None
            )
        except JudgeError as exc:
            phases.evaluate = time.monotonic() - started
            return FaultResult.errored(
                failure_id=failure.id,
                failure_name=failure.name,
                category=failure.category.value,
                error=f"judge error: {_line(exc)}",
                phases=phases,
                agent_result=answer,
                prompt=prompt,
            )
        evaluation = strict.evaluate(failure, answer, prompt=prompt, judge=judged)
        comparison = compat.evaluate(failure, answer, prompt=prompt)
        phases.evaluate = time.monotonic() - started
        return FaultResult.scored(
            failure_id=failure.id,
            failure_name=failure.name,
            category=failure.category.value,
            evaluation=evaluation,
            agent_result=answer,
            compat=comparison,
            prompt=prompt,
            phases=phases,
        )

    def _recovery_check(self, failure: FailureMode, injection: Injection) -> ProbeResult | None:
        """--remediate: the recovery probes right after injection (they must not hold)."""
        if not self.settings.remediate or failure.remediation is None:
            return None
        if not failure.remediation.recovery:
            return None
        return self.injector.check(failure.remediation.recovery, injection.agent_dsn)

    def _remediate(
        self,
        failure: FailureMode,
        injection: Injection,
        result: FaultResult,
        after_injection: ProbeResult | None = None,
    ) -> FaultResult:
        """--remediate: the same agent is asked to fix the fault, then recovery is verified.

        The target passed the safety guard (lab or test/chaos-tagged), so changes on it are
        approved for in-process agents while this runs (`helpdesk.agents.approval.grant`)."""
        if result.status is Status.ERROR or result.agent_result is None:
            return result
        from faulttest.remediate import fold_into, remediate
        from helpdesk.agents import approval

        url = self.agents.url_for(failure)
        assert url is not None
        timeout = self.settings.agent_timeout or failure.timeout
        target = self.injector.target
        endpoints = [injection.agent_dsn, target.dsn, target.replica_dsn or ""]
        if self.settings.kube_context:
            endpoints.append(f"k8s:{self.settings.kube_context}")
        with approval.grant(*endpoints):
            outcome = remediate(
                failure,
                self.injector,
                injection,
                result.prompt,
                result.agent_result,
                lambda prompt: self._ask(url, prompt, timeout),
                after_injection=after_injection,
                judge=self.settings.judge,
            )
        return fold_into(result, outcome)

    def _teardown(self, failure: FailureMode, phases: Phases, result: FaultResult) -> FaultResult:
        started = time.monotonic()
        try:
            outcome = self.injector.teardown(failure)
            problem = None if outcome.clean else "; ".join(outcome.leftovers)
        except Exception as exc:  # report it on this fault; the journal keeps the rest
            problem = _line(exc)
        phases.teardown = time.monotonic() - started
        if problem:
            log.error("teardown of %s left the target dirty: %s", failure.id, problem)
            result.status, result.passed = Status.ERROR, False
            result.error = f"teardown did not leave the target clean: {problem}"
        result.phases = phases
        return result.with_phase_total()


def _errored(
    failure: FailureMode, error: str, phases: Phases | None = None, prompt: str = ""
) -> FaultResult:
    return FaultResult.errored(
        failure_id=failure.id,
        failure_name=failure.name,
        category=failure.category.value,
        error=error,
        phases=phases,
        prompt=prompt,
    )


def _line(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, FaulttestError) else str(exc)
    return " ".join(mask(text or type(exc).__name__).split())
