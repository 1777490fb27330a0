"""Benchmark `lab up` (primary + replica) and `lab down`: medians over several runs.

Usage: python benchmarks/bench_lab.py [--runs N] [--cli] [--no-replica]
Targets (issue 2): up with replica median <= 3 s, down <= 1 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from faulttest.lab import Lab, free_port


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _cli(home: Path, *args: str) -> None:
    env = {**os.environ, "FAULTTEST_HOME": str(home)}
    cmd = [sys.executable, "-m", "faulttest.cli.main", "lab", *args]
    subprocess.run(cmd, env=env, check=True, capture_output=True)


def run_once(use_cli: bool, replica: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as tmp:
        home = Path(tmp)
        port, replica_port = free_port(), free_port()
        if use_cli:
            flags = ["--port", str(port), "--replica-port", str(replica_port)]
            flags += [] if replica else ["--no-replica"]
            up = _timed(lambda: _cli(home, "up", *flags))
            down = _timed(lambda: _cli(home, "down"))
        else:
            lab = Lab(home=home, port=port, replica_port=replica_port, replica=replica)
            up = _timed(lab.up)
            down = _timed(lab.down)
    return up, down


def _summary(name: str, values: list[float], target: float) -> str:
    median = statistics.median(values)
    verdict = "ok" if median <= target else "OVER TARGET"
    return (
        f"{name:5} median {median:.2f}s  min {min(values):.2f}s  max {max(values):.2f}s"
        f"  (target <= {target:.0f}s: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="time the `faulttest lab` commands")
    parser.add_argument("--no-replica", action="store_true")
    args = parser.parse_args()
    ups, downs = [], []
    for i in range(args.runs):
        up, down = run_once(args.cli, not args.no_replica)
        ups.append(up)
        downs.append(down)
        print(f"run {i + 1}: up {up:.2f}s  down {down:.2f}s", flush=True)
    what = "CLI" if args.cli else "library"
    print(f"{what}, replica={'no' if args.no_replica else 'yes'}, {args.runs} runs:")
    print(_summary("up", ups, 3.0))
    print(_summary("down", downs, 1.0))


if __name__ == "__main__":
    main()
