"""The server-log tool: recent log entries read through SQL, filtered and tagged by signature.

Uses pg_current_logfile / pg_ls_logdir and pg_read_file (superuser, pg_monitor or
pg_read_server_files); without the privilege it says so instead of failing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import psycopg

from helpdesk.agents.base import ToolArgumentError, ToolOutput
from helpdesk.agents.database import tables
from helpdesk.agents.database.execution import one, optional_rows, run
from helpdesk.dsn import mask

TAIL_BYTES = 512 * 1024
ALERT_LEVELS = ("WARNING", "ERROR", "FATAL", "PANIC")

# Signature -> pattern. The diagnostician reads these tags; docs/DIAGNOSTICIAN.md lists them.
SIGNATURES: dict[str, str] = {
    "deadlock": r"deadlock detected",
    "statement_timeout": r"canceling statement due to statement timeout",
    "lock_timeout": r"canceling statement due to lock timeout",
    "transaction_timeout": r"due to transaction timeout",
    "idle_in_transaction_timeout": r"idle-in-transaction timeout",
    "disk_full": r"No space left on device|could not extend file|disk full|could not write to file",
    "too_many_clients": r"too many clients already|remaining connection slots are reserved",
    "connection_limit": r"too many connections for (role|database)",
    "auth_failed": r"password authentication failed|authentication failed for user",
    "hba_reject": r"pg_hba\.conf",
    "read_only": r"in a read-only transaction",
    "database_missing": r'database "[^"]*" does not exist',
    "not_permitted": r"is not permitted to log in|is not currently accepting connections",
    "lock_wait": r"still waiting for \w+Lock",
    "sequence_max": r"reached maximum value of sequence|reached minimum value of sequence",
    "crash": r"was terminated by signal|terminating any other active server processes|"
    r"database system was interrupted|was not properly shut down|all server processes terminated",
    "checkpoints_frequent": r"checkpoints are occurring too frequently",
    "temp_file_limit": r"temporary file size exceeds \"?temp_file_limit\"?",  # quoted since 17
    "out_of_memory": r"out of memory",
    "terminated_by_admin": r"terminating connection due to administrator command",
    "wal_removed": r"requested WAL segment .* has already been removed",
    "bad_configuration": r"invalid value for parameter|contains errors|unrecognized configuration "
    r"parameter",
}
_COMPILED = {k: re.compile(v, re.IGNORECASE) for k, v in SIGNATURES.items()}
_ENTRY = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)?(?: [A-Z]{2,5}| [+-]\d\d)?\s*"
    r"(?:\[(?P<pid>\d+)\])?.*?\b(?P<level>LOG|ERROR|FATAL|PANIC|WARNING|DETAIL|HINT|STATEMENT|"
    r"CONTEXT|NOTICE|INFO|DEBUG\d?):\s+(?P<msg>.*)$"
)
_ATTACHED = ("DETAIL", "HINT", "STATEMENT", "CONTEXT")


def parse_log(text: str) -> list[dict[str, Any]]:
    """Split server log text into entries; DETAIL/HINT/STATEMENT lines attach to their parent."""
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match is None:
            if entries and line.startswith(("\t", " ")):
                last = entries[-1]
                if last.get("detail"):
                    last["detail"][-1] += " " + line.strip()
                else:
                    last["message"] += " " + line.strip()
            continue
        level, msg = match.group("level"), match.group("msg").strip()
        if level in _ATTACHED and entries and entries[-1]["pid"] == match.group("pid"):
            entries[-1].setdefault("detail", []).append(f"{level}: {msg}")
            continue
        entries.append(
            {"time": match.group("ts"), "pid": match.group("pid"), "level": level, "message": msg}
        )
    for entry in entries:
        full = entry["message"] + " " + " ".join(entry.get("detail", []))
        entry["signature"] = next((k for k, rx in _COMPILED.items() if rx.search(full)), None)
    return entries


def read_server_log(
    connection_string: str, pattern: str = "", minutes: int = 60, max_lines: int = 40
) -> ToolOutput:
    try:
        matcher = re.compile(pattern, re.IGNORECASE) if pattern else None
    except re.error as exc:
        raise ToolArgumentError(f"read_server_log: pattern is not a valid regex: {exc}") from None

    def body(conn: psycopg.Connection) -> ToolOutput:
        path = _current_log_file(conn)
        if path is None:
            return ToolOutput(
                text="server log not readable through SQL (needs superuser, pg_monitor or "
                "pg_read_server_files, and logging_collector on)",
                data={"available": False, "entries": [], "counts": {}},
            )
        clock = one(
            conn,
            """SELECT to_char(now() AT TIME ZONE current_setting('log_timezone'),
                              'YYYY-MM-DD HH24:MI:SS')
                        AS now_local""",
        )
        raw = _tail(conn, path)
        if raw is None:
            return ToolOutput(
                text=f"server log {path} exists but this role may not read it (needs superuser "
                "or pg_read_server_files)",
                data={"available": False, "entries": [], "counts": {}},
            )
        now = datetime.strptime(clock["now_local"], "%Y-%m-%d %H:%M:%S")
        recent = [e for e in parse_log(raw) if _age_s(e, now) <= minutes * 60]
        for e in recent:
            e["age_s"] = _age_s(e, now)
        shown = [e for e in recent if _wanted(e, matcher)]
        counts: dict[str, int] = {}
        last_seen: dict[str, float] = {}
        for e in recent:
            if e["signature"]:
                counts[e["signature"]] = counts.get(e["signature"], 0) + 1
                last_seen[e["signature"]] = e["age_s"]
        display = [
            {
                **e,
                "message": mask(e["message"]),
                "detail": mask(" | ".join(e.get("detail", [])))[:800],
            }
            for e in shown[-max_lines:]
        ]
        text = "\n\n".join(
            [
                tables.pairs(
                    {"file": path, "window": f"last {minutes} min", **counts}
                    if counts
                    else {"file": path, "window": f"last {minutes} min", "signatures": "none"},
                    "server log",
                ),
                tables.render(
                    [
                        {
                            **d,
                            "message": tables.cell(d["message"], 90),
                            "detail": tables.cell(d["detail"], 70),
                        }
                        for d in display
                    ],
                    ["time", "pid", "level", "signature", "message", "detail"],
                    cap=max_lines,
                    title=f"entries ({_describe_filter(pattern)})",
                    empty="(no matching entries)",
                ),
            ]
        )
        return ToolOutput(
            text=text,
            data={
                "available": True,
                "file": path,
                "entries": display,
                "counts": counts,
                "last_seen_s": last_seen,
                "window_minutes": minutes,
            },
        )

    return run(connection_string, body)


def _describe_filter(pattern: str) -> str:
    return f"matching {pattern!r}" if pattern else "warnings and errors"


def _current_log_file(conn: psycopg.Connection) -> str | None:
    current = optional_rows(conn, "SELECT pg_current_logfile() AS path")
    if current and current[0]["path"]:
        return current[0]["path"]
    listed = optional_rows(
        conn,
        """SELECT current_setting('log_directory') || '/' || name AS path
           FROM pg_ls_logdir() ORDER BY modification DESC LIMIT 1""",
    )
    return listed[0]["path"] if listed else None


def _tail(conn: psycopg.Connection, path: str) -> str | None:
    found = optional_rows(
        conn,
        """SELECT pg_read_file(%(p)s, greatest((pg_stat_file(%(p)s)).size - %(n)s, 0), %(n)s)
                    AS text""",
        {"p": path, "n": TAIL_BYTES},
    )
    return (found[0]["text"] or "") if found else None


def _age_s(entry: dict[str, Any], now: datetime) -> float:
    return (now - datetime.strptime(entry["time"], "%Y-%m-%d %H:%M:%S")).total_seconds()


def _wanted(entry: dict[str, Any], matcher: re.Pattern[str] | None) -> bool:
    if matcher is not None:
        return bool(matcher.search(entry["message"] + " " + " ".join(entry.get("detail", []))))
    return entry["level"] in ALERT_LEVELS or entry["signature"] is not None
