"""Benchmark of the full default `faulttest run`: wall time from start (lab up) to exit.

Usage: python benchmarks/bench_run.py [--runs N] [--out DIR]
Each run is the real command in a subprocess with a throw-away FAULTTEST_HOME and a lab on
free ports; the per-phase split (inject / agent / evaluate / teardown summed over faults,
lab up / down, the rest) comes from the run's JSON report and its console lines.
Goal (issue 4): <= 60 s for the nine database faults. Writes bench_run.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_S = 60.0
PHASES = ("inject", "agent", "evaluate", "teardown")
_LAB_UP = re.compile(r"^Lab up on .* in ([\d.]+)s$", re.MULTILINE)
_LAB_DOWN = re.compile(r"^Lab down in ([\d.]+)s$", re.MULTILINE)


def one_run() -> dict[str, Any]:
    """One `faulttest run` (every built-in fault; Kubernetes ones are skipped)."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        env = {
            **os.environ,
            "FAULTTEST_HOME": str(Path(tmp) / "home"),
            "FAULTTEST_LAB_PORT": "0",  # free ports: never clash with a lab already running
            "COLUMNS": "200",
        }
        for name in ("FAULTTEST_CONN", "FAULTTEST_REPLICA_CONN", "HELPDESK_MODEL_VENDOR"):
            env.pop(name, None)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "faulttest.cli.main", "run", "--report-dir", tmp],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
            raise SystemExit(f"faulttest run exited {done.returncode}")
        report = json.loads(next(Path(tmp).glob("faulttest-*.json")).read_text())
    ran = [r for r in report["results"] if r["status"] != "skipped"]
    phases = {p: sum(r["phases"].get(p, 0.0) for r in ran) for p in PHASES}
    phases["lab_up"] = _seconds(_LAB_UP, done.stdout)
    phases["lab_down"] = _seconds(_LAB_DOWN, done.stdout)
    phases["other"] = wall - sum(phases.values())  # start-up, imports, agents, reports
    return {
        "wall": wall,
        "faults_run": len(ran),
        "passed": report["summary"]["passed"],
        "phases": phases,
        "per_fault": {r["failure_id"]: r["phases"] for r in ran},
    }


def _seconds(pattern: re.Pattern[str], text: str) -> float:
    match = pattern.search(text)
    return float(match.group(1)) if match else 0.0


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    median_phases = {
        name: round(statistics.median(r["phases"][name] for r in runs), 2)
        for name in runs[0]["phases"]
    }
    walls = [r["wall"] for r in runs]
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": len(runs),
        "wall_median_s": round(statistics.median(walls), 2),
        "wall_max_s": round(max(walls), 2),
        "goal_s": GOAL_S,
        "met": max(walls) <= GOAL_S,
        "faults_run": runs[0]["faults_run"],
        "passed": [r["passed"] for r in runs],
        "phases_median_s": median_phases,
        "per_fault_last_run": runs[-1]["per_fault"],
    }


def markdown(summary: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {name} | {seconds:.2f} |" for name, seconds in summary["phases_median_s"].items()
    )
    return (
        f"# `faulttest run` benchmark\n\n"
        f"{summary['runs']} run(s) on {summary['machine']['cpus']} CPUs, Python "
        f"{summary['machine']['python']}: {summary['faults_run']} faults ran, passed "
        f"{summary['passed']}.\n\n"
        f"Wall time (lab start to exit): median **{summary['wall_median_s']:.1f} s**, "
        f"max {summary['wall_max_s']:.1f} s (goal <= {summary['goal_s']:.0f} s: "
        f"{'met' if summary['met'] else 'NOT met'}).\n\n"
        f"| phase (summed over faults) | median s |\n|---|---|\n{rows}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    runs = []
    for index in range(args.runs):
        runs.append(one_run())
        print(f"run {index + 1}: {runs[-1]['wall']:.1f}s", file=sys.stderr)
    summary = summarise(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_run.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "bench_run.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
