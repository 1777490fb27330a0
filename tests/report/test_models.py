"""Report models: summary counts and rates, JSON round trip, exit code."""

from __future__ import annotations

from faulttest.report.models import RunReport, Status, Summary, new_run_id
from tests.report.sample import (
    error_result,
    failed_result,
    passed_result,
    sample_report,
    skipped_result,
)


def test_summary_counts_and_rates() -> None:
    report = sample_report()
    s = report.summary
    assert (s.total, s.passed, s.failed, s.errored, s.skipped) == (5, 1, 2, 1, 1)
    assert s.pass_rate == 0.25  # skips do not count: 1 of 4 that ran
    assert s.categories["database"].total == 4
    assert s.categories["database"].rate == 0.25
    assert s.categories["kubernetes"].skipped == 1 and s.categories["kubernetes"].rate == 0.0


def test_scored_result_copies_the_evaluation_flags() -> None:
    result = passed_result()
    assert result.status is Status.PASSED and result.passed
    assert result.keyword_pass and result.diagnosis_pass and result.tool_evidence
    assert result.duration == round(0.4 + 0.6 + 0.01 + 0.1, 3)
    failed = failed_result()
    assert failed.status is Status.FAILED
    assert "category" in failed.reason


def test_json_round_trip_keeps_everything() -> None:
    report = sample_report()
    again = RunReport.model_validate_json(report.model_dump_json())
    assert again == report
    data = report.model_dump(mode="json")
    for key in ("id", "timestamp", "results", "summary", "environment"):
        assert key in data
    result = data["results"][0]
    for key in (
        "failure_id",
        "failure_name",
        "category",
        "status",
        "passed",
        "score",
        "keyword_pass",
        "diagnosis_pass",
        "tool_evidence",
        "response_text",
        "duration",
        "phases",
        "error",
        "skip_reason",
        "agent_result",
        "compat",
        "judge",
        "remediation",
        "repeats",
    ):
        assert key in result, key
    assert set(data["summary"]) >= {
        "total",
        "passed",
        "failed",
        "errored",
        "skipped",
        "pass_rate",
        "categories",
    }


def test_exit_code() -> None:
    assert RunReport.build([passed_result(), skipped_result()]).exit_code == 0
    assert RunReport.build([passed_result(), error_result()]).exit_code == 1
    assert RunReport.build([failed_result()]).exit_code == 1
    assert Summary.of([]).pass_rate == 0.0


def test_run_ids_are_unique_and_sortable() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == len("20261203T161500Z-3f9a") for i in ids)


def test_report_duration_covers_phases_added_after_scoring() -> None:
    result = passed_result()
    result.phases.teardown = 5.0  # the runner times teardown after scoring
    [again] = RunReport.build([result]).results
    assert again.duration == round(0.4 + 0.6 + 0.01 + 5.0, 3)
