"""Run history: one JSON line per run in `$FAULTTEST_HOME/history.jsonl`, newest last.

Each line is appended with a single O_APPEND write under an exclusive lock, so concurrent
runs never interleave; unreadable lines are skipped when reading.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from faulttest.report.models import RunReport
from faulttest.report.redact import masked_dump
from faulttest.targets import faulttest_home

FILE_NAME = "history.jsonl"


class HistoryEntry(BaseModel):
    id: str
    timestamp: datetime
    profile: str = "strict"
    total: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    pass_rate: float = 0.0
    duration: float = 0.0
    target: str = ""
    agent: str = ""
    model: str = ""
    report: str | None = None  # path of the JSON report, when one was written

    @classmethod
    def of(cls, report: RunReport, report_file: Path | None = None) -> HistoryEntry:
        s, env = report.summary, report.environment
        return cls(
            id=report.id,
            timestamp=report.timestamp,
            profile=report.profile,
            total=s.total,
            passed=s.passed,
            failed=s.failed,
            errored=s.errored,
            skipped=s.skipped,
            pass_rate=s.pass_rate,
            duration=report.duration,
            target=env.target,
            agent=env.agent,
            model=env.model,
            report=str(report_file) if report_file else None,
        )


def history_path(home: Path | None = None) -> Path:
    return (home or faulttest_home()) / FILE_NAME


def append(report: RunReport, report_file: Path | None = None, home: Path | None = None) -> Path:
    """Append one line for `report` to the history file and return its path."""
    path = history_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = HistoryEntry.of(report, report_file)
    line = (json.dumps(masked_dump(entry), ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return path


def recent(limit: int = 20, home: Path | None = None) -> list[HistoryEntry]:
    """The last `limit` runs, newest first (an absent file means no runs yet)."""
    path = history_path(home)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries: list[HistoryEntry] = []
    for line in reversed(lines):
        if len(entries) >= limit:
            break
        try:
            entries.append(HistoryEntry.model_validate_json(line))
        except ValidationError:
            continue  # a torn or foreign line must not hide the others
    return entries
