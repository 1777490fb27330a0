"""The JSON run report `faulttest-<run id>.json` (SPEC §8): atomic writes and reading back.

Written to a temporary file in the same folder and renamed, so a reader never sees half a
report; every string is masked on the way out.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from faulttest.errors import UsageError
from faulttest.report.models import FaultResult, RunReport
from faulttest.report.redact import masked_dump


def report_path(report: RunReport, directory: Path) -> Path:
    return Path(directory) / f"faulttest-{report.id}.json"


def fault_report_path(report: RunReport, result: FaultResult, directory: Path) -> Path:
    return Path(directory) / f"faulttest-{report.id}-{result.failure_id}.json"


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` so that the file is either the old one or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def to_json(report: RunReport) -> str:
    return json.dumps(masked_dump(report), indent=2, ensure_ascii=False) + "\n"


def write_report(report: RunReport, directory: Path, *, per_fault: bool = False) -> list[Path]:
    """Write the run report (and with `per_fault`, one file per fault); return the paths."""
    paths = [write_atomic(report_path(report, directory), to_json(report))]
    if per_fault:
        for result in report.results:
            text = json.dumps(masked_dump(result), indent=2, ensure_ascii=False) + "\n"
            paths.append(write_atomic(fault_report_path(report, result, directory), text))
    return paths


def load_report(path: Path) -> RunReport:
    """Read a saved run report; a missing or malformed file is a UsageError (exit 2)."""
    path = Path(path)
    try:
        return RunReport.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such report file") from None
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[:3]
        raise UsageError(
            f"{path}: not a faulttest run report: {' '.join(first)}",
            hint="pass the faulttest-<run id>.json written by `faulttest run`",
        ) from None
