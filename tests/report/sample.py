"""A small run report with every status, a repeated fault and passwords in the strings."""

from __future__ import annotations

from faulttest.evaluate.compat import evaluate as compat_evaluate
from faulttest.evaluate.strict import evaluate
from faulttest.report.models import Environment, FaultResult, Phases, RunReport
from faulttest.report.stability import combine_repeats
from helpdesk.result import AgentResult, Diagnosis, ToolCall, Usage
from tests.evaluate.test_strict import FAULT, PROMPT, good

SECRET = "s3cr3t-pw"
LEAKY_DSN = f"host=127.0.0.1 port=5432 dbname=testdb user=postgres password={SECRET}"


def passed_result(agent_seconds: float = 0.6) -> FaultResult:
    result = good().model_copy(
        update={
            "tool_calls": [
                ToolCall(agent="db", tool="get_table_stats", args={"connection_string": LEAKY_DSN}),
                ToolCall(agent="db", tool="get_vacuum_status"),
            ],
            "usage": Usage(llm_calls=2, input_tokens=100, output_tokens=50),
        }
    )
    return FaultResult.scored(
        failure_id=FAULT.id,
        failure_name=FAULT.name,
        category="database",
        evaluation=evaluate(FAULT, result, prompt=PROMPT),
        agent_result=result,
        compat=compat_evaluate(FAULT, result),
        prompt=f"Slow queries. Connection: {LEAKY_DSN}",
        phases=Phases(inject=0.4, agent=agent_seconds, evaluate=0.01, teardown=0.1),
    )


def failed_result() -> FaultResult:
    result = AgentResult(
        text=f"Probably an index is missing. I connected with {LEAKY_DSN}.",
        diagnosis=Diagnosis(category="missing_index"),
    )
    return FaultResult.scored(
        failure_id="db-high-cache-miss",
        failure_name="High cache miss ratio",
        category="database",
        evaluation=evaluate(FAULT, result, prompt=PROMPT),
        agent_result=result,
        prompt=PROMPT,
        phases=Phases(inject=1.0, agent=0.5, teardown=0.2),
    )


def error_result() -> FaultResult:
    return FaultResult.errored(
        failure_id="db-connection-refused",
        failure_name="Database connection refused",
        category="database",
        error=f"fault did not take: connecting to {LEAKY_DSN} still works",
        phases=Phases(inject=2.0),
    )


def skipped_result() -> FaultResult:
    return FaultResult.skipped(
        failure_id="k8s-crashloop",
        failure_name="CrashLoopBackOff",
        category="kubernetes",
        reason="requires kubernetes: no cluster context given (--context)",
    )


def sample_report() -> RunReport:
    repeated = combine_repeats([passed_result(0.5), passed_result(0.7), failed_result()])
    repeated = repeated.model_copy(update={"failure_id": "db-repeated"})
    return RunReport.build(
        [passed_result(), failed_result(), error_result(), skipped_result(), repeated],
        duration=12.5,
        environment=Environment(
            target=LEAKY_DSN,
            agent="http://127.0.0.1:1100",
            model="builtin",
            versions={"faulttest": "0.1.0"},
        ),
    )
