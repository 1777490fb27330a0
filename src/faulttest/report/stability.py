"""Repeated-run statistics: pass rate with a 95% Wilson interval, stability, agreement.

Pure functions over the RepeatRun records of one fault (`--repeat N`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from faulttest.report.models import FaultResult, RepeatRun, Repeats, Stability, Status

Z_95 = 1.959963984540054
DEFAULT_THRESHOLD = 0.8


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (0, 1 for no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def category_agreement(categories: Sequence[str | None]) -> tuple[float, str | None]:
    """Share of runs that reported the most common category, and that category."""
    if not categories:
        return 0.0, None
    category, count = Counter(categories).most_common(1)[0]
    return count / len(categories), category


def stability(runs: Sequence[RepeatRun], threshold: float = DEFAULT_THRESHOLD) -> Stability:
    """Statistics of the runs that did not skip; stable when the pass rate ≥ `threshold`."""
    counted = [r for r in runs if r.status is not Status.SKIPPED]
    passes = sum(r.status is Status.PASSED for r in counted)
    low, high = wilson_interval(passes, len(counted))
    rate = passes / len(counted) if counted else 0.0
    agreement, majority = category_agreement([r.category for r in counted])
    latencies = [r.agent_seconds for r in counted]
    return Stability(
        runs=len(counted),
        passes=passes,
        pass_rate=round(rate, 4),
        ci_low=round(low, 4),
        ci_high=round(high, 4),
        threshold=threshold,
        stable=bool(counted) and rate >= threshold,
        category_agreement=round(agreement, 4),
        majority_category=majority,
        latency_p50=round(percentile(latencies, 50), 3),
        latency_p95=round(percentile(latencies, 95), 3),
        llm_calls=sum(r.llm_calls for r in counted),
        input_tokens=sum(r.input_tokens for r in counted),
        output_tokens=sum(r.output_tokens for r in counted),
    )


def repeat_run(result: FaultResult, index: int) -> RepeatRun:
    """The repeat record of one run of a fault."""
    agent = result.agent_result
    usage = agent.usage if agent is not None else None
    return RepeatRun(
        index=index,
        status=result.status,
        score=result.score,
        category=result.evaluation.category if result.evaluation else None,
        agent_seconds=result.phases.agent,
        llm_calls=usage.llm_calls if usage else 0,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        error=result.error,
    )


def combine_repeats(
    results: Sequence[FaultResult], threshold: float = DEFAULT_THRESHOLD
) -> FaultResult:
    """One FaultResult for N runs of a fault: the last run's details plus `repeats`.

    The fault passes when it is stable (pass rate ≥ threshold); it is an error when no
    run got as far as an evaluation; skipped when every run skipped; else failed.
    """
    if not results:
        raise ValueError("no runs to combine")
    runs = [repeat_run(r, i + 1) for i, r in enumerate(results)]
    stats = stability(runs, threshold)
    statuses = {r.status for r in runs}
    if statuses == {Status.SKIPPED}:
        status = Status.SKIPPED
    elif stats.stable:
        status = Status.PASSED
    elif statuses <= {Status.ERROR, Status.SKIPPED}:
        status = Status.ERROR
    else:
        status = Status.FAILED
    last = results[-1]
    return last.model_copy(
        update={
            "status": status,
            "passed": status is Status.PASSED,
            "score": round(sum(r.score for r in runs) / len(runs), 4),
            "repeats": Repeats(runs=runs, stability=stats),
            "error": last.error if status is Status.ERROR else None,
        }
    )
