"""Repeat statistics: Wilson interval values, percentiles, agreement, combining runs."""

from __future__ import annotations

import pytest

from faulttest.report.models import RepeatRun, Status
from faulttest.report.stability import (
    category_agreement,
    combine_repeats,
    percentile,
    stability,
    wilson_interval,
)
from tests.report.sample import error_result, failed_result, passed_result


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 1, 0.2065, 1.0),
        (45, 50, 0.7864, 0.9565),
    ],
)
def test_wilson_interval_known_values(k, n, low, high) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_percentile_interpolates() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(8.8)
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == 7.0


def test_category_agreement() -> None:
    assert category_agreement(["a", "a", "b", "a"]) == (0.75, "a")
    assert category_agreement([]) == (0.0, None)


def run(
    index: int, status: Status, category: str = "table_bloat", seconds: float = 1.0
) -> RepeatRun:
    return RepeatRun(
        index=index,
        status=status,
        category=category,
        agent_seconds=seconds,
        llm_calls=1,
        input_tokens=10,
        output_tokens=5,
    )


def test_stability_threshold_and_totals() -> None:
    runs = [run(i, Status.PASSED, seconds=float(i)) for i in range(1, 5)] + [
        run(5, Status.FAILED, "deadlock", 5.0)
    ]
    stats = stability(runs)
    assert (stats.runs, stats.passes, stats.pass_rate) == (5, 4, 0.8)
    assert stats.stable  # 0.8 ≥ 0.8
    assert not stability(runs, threshold=0.9).stable
    assert stats.category_agreement == 0.8 and stats.majority_category == "table_bloat"
    assert stats.latency_p50 == 3.0 and stats.latency_p95 == pytest.approx(4.8)
    assert (stats.llm_calls, stats.input_tokens, stats.output_tokens) == (5, 50, 25)
    assert stats.ci_low == pytest.approx(0.3755, abs=1e-4)


def test_skipped_runs_do_not_count() -> None:
    stats = stability([run(1, Status.SKIPPED), run(2, Status.PASSED)])
    assert stats.runs == 1 and stats.pass_rate == 1.0


def test_combine_repeats() -> None:
    combined = combine_repeats([passed_result(0.5), passed_result(0.7), failed_result()])
    assert combined.repeats is not None
    assert combined.repeats.stability.passes == 2
    assert combined.status is Status.FAILED  # 2/3 < 0.8
    assert (
        combine_repeats([passed_result(), failed_result()], threshold=0.5).status is Status.PASSED
    )
    assert combine_repeats([error_result(), error_result()]).status is Status.ERROR
    with pytest.raises(ValueError):
        combine_repeats([])
