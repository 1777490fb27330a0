"""Benchmark of the database agent: median latency of each read tool and of a full diagnosis.

Usage: python benchmarks/bench_db_agent.py [--dsn DSN] [--rounds N]
Without --dsn it starts a throw-away lab (primary + replica) on free ports and stops it after.
Targets (issue 3): read tools median <= 50 ms, a full diagnosis <= 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from helpdesk.agents.database import DatabaseAgent, build_registry

TOOL_TARGET_MS = 50.0
DIAGNOSIS_TARGET_S = 2.0


@contextmanager
def target(dsn: str | None) -> Iterator[tuple[str, str | None]]:
    if dsn:
        yield dsn, None
        return
    from faulttest.lab import Lab, free_port

    with tempfile.TemporaryDirectory(prefix="bench-db-agent-") as home:
        port = free_port()
        lab = Lab(home=home, port=port, replica_port=free_port())
        info = lab.up()
        try:
            yield info.dsn, info.replica_dsn
        finally:
            lab.down()


def bench_tools(dsn: str, rounds: int) -> dict[str, float]:
    registry = build_registry()
    medians: dict[str, float] = {}
    for tool in registry:
        if tool.name == "get_session_info":
            continue
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            out = registry.call(tool.name, {"connection_string": dsn})
            samples.append((time.perf_counter() - started) * 1000)
            if not out.ok:
                print(f"  {tool.name} failed: {out.text[:120]}", file=sys.stderr)
        medians[tool.name] = statistics.median(samples)
    return medians


def bench_diagnosis(dsn: str, replica: str | None, rounds: int) -> list[float]:
    agent = DatabaseAgent()
    message = f"Users report slow queries and disk growth. The connection_string is `{dsn}`."
    if replica:
        message += f" The replica is `{replica}`."
    durations = []
    for _ in range(rounds):
        started = time.perf_counter()
        agent.answer(message)
        durations.append(time.perf_counter() - started)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="target DSN (default: a throw-away lab)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with target(args.dsn) as (dsn, replica):
        medians = bench_tools(dsn, args.rounds)
        durations = bench_diagnosis(dsn, replica, max(3, args.rounds // 3))
    print(f"{'tool':28} median ms")
    for name, ms in sorted(medians.items(), key=lambda item: -item[1]):
        print(f"{name:28} {ms:8.1f}{'  (over target)' if ms > TOOL_TARGET_MS else ''}")
    overall = statistics.median(medians.values())
    diag = statistics.median(durations)
    print(f"\nmedian of tool medians: {overall:.1f} ms (target <= {TOOL_TARGET_MS:.0f} ms)")
    print(
        f"full diagnosis: median {diag:.2f} s, max {max(durations):.2f} s "
        f"(target <= {DIAGNOSIS_TARGET_S:.0f} s)"
    )
    ok = max(medians.values()) <= TOOL_TARGET_MS and max(durations) <= DIAGNOSIS_TARGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
