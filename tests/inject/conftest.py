"""Helpers for injection tests: independent checks that a lab is clean (not via the engine)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from faulttest.lab import Lab

NODES = ("primary", "replica")


def faulttest(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the real `faulttest` command in a subprocess with its own FAULTTEST_HOME."""
    full_env = {**os.environ, "FAULTTEST_HOME": str(home), **(env or {})}
    full_env.pop("HELPDESK_INFRA_CONFIG", None)
    full_env.pop("FAULTTEST_CONN", None)
    full_env.pop("FAULTTEST_REPLICA_CONN", None)
    return subprocess.run(
        [sys.executable, "-m", "faulttest.cli.main", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def holder_pids(lab: Lab) -> list[int]:
    """Holder processes of any fault aimed at this lab, found by scanning /proc."""
    key = f"127.0.0.1:{lab.port}/testdb"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if b"faulttest.inject.holder" in argv and key.encode() in argv and state != "Z":
            pids.append(int(entry.name))
    return pids


def leftovers(lab: Lab) -> list[str]:
    """Anything a fault may create that is still there: sessions, tables, holders, pauses."""
    left = []
    for node in NODES:
        with lab.connect(node) as conn:
            tagged = conn.execute(
                "SELECT application_name FROM pg_stat_activity"
                " WHERE application_name LIKE 'faulttest:%'"
            ).fetchall()
            left += [f"{node} session {row[0]}" for row in tagged]
            tables = conn.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'faulttest\\_%' AND relkind = 'r'"
            ).fetchall()
            left += [f"{node} table {row[0]}" for row in tables]
    with lab.connect("replica") as conn:
        state = conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0]
        if state != "not paused":
            left.append(f"replica replay {state}")
    left += [f"holder pid {pid}" for pid in holder_pids(lab)]
    return left


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def connect_error(dsn: str) -> str | None:
    """The error text of a new connection with `dsn`, or None when it succeeds."""
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    return None


@pytest.fixture
def clean_lab(lab: Lab) -> Iterator[Lab]:
    """The session lab, asserted clean before and after the test."""
    assert lab.is_running("primary") and lab.is_running("replica")
    assert wait_for(lambda: not leftovers(lab), 10), leftovers(lab)
    yield lab
    if not lab.is_running("primary"):  # a failed test must not break the next ones
        lab.start("primary")
    assert wait_for(lambda: not leftovers(lab), 10), leftovers(lab)
