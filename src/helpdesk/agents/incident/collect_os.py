"""The `os/` layer: this machine's identity, uptime and load, memory, and top processes.

Standard library and /proc only (no psutil); an item the platform cannot give (no /proc
outside Linux) is recorded as an error of the layer, the others are still collected.
"""

from __future__ import annotations

import os
import platform
import pwd
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpdesk.agents.incident.layer import LayerOutput, human_size
from helpdesk.dsn import mask

LAYER = "os"
PROC = Path("/proc")
TOP_PROCESSES = 25
CMDLINE_LIMIT = 300


def collect_os(proc: Path = PROC, top: int = TOP_PROCESSES) -> LayerOutput:
    layer = LayerOutput(name=LAYER)
    items: tuple[tuple[str, Callable[[], tuple[str, Any]]], ...] = (
        ("system", lambda: system_info(proc)),
        ("memory", lambda: memory_info(proc)),
        ("processes", lambda: processes(proc, top)),
    )
    for item, collect in items:
        try:
            text, data = collect()
        except (OSError, ValueError) as exc:
            layer.error(f"{item}: {type(exc).__name__}: {mask(str(exc))}")
            continue
        layer.add(item, text, data)
    return layer


# ---- system ------------------------------------------------------------------------------


def system_info(proc: Path = PROC) -> tuple[str, dict[str, Any]]:
    uname = platform.uname()
    data: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "system": uname.system,
        "release": uname.release,
        "version": uname.version,
        "machine": uname.machine,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        data["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        data["loadavg"] = None
    uptime = _read(proc / "uptime")
    data["uptime_s"] = round(float(uptime.split()[0])) if uptime else None
    lines = [f"{k}: {v}" for k, v in data.items()]
    return "\n".join(lines), data


# ---- memory ------------------------------------------------------------------------------

_MEMORY_KEYS = (
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "Shmem",
    "Dirty",
    "SwapTotal",
    "SwapFree",
    "HugePages_Total",
    "HugePages_Free",
)


def memory_info(proc: Path = PROC) -> tuple[str, dict[str, Any]]:
    raw = _read(proc / "meminfo")
    if raw is None:
        raise OSError(f"{proc / 'meminfo'} is not readable (memory details need Linux /proc)")
    values: dict[str, int] = {}
    for line in raw.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key in _MEMORY_KEYS and parts:
            factor = 1024 if parts[-1] == "kB" else 1
            values[key] = int(parts[0]) * factor
    total, available = values.get("MemTotal", 0), values.get("MemAvailable")
    used_pct = round(100 * (1 - available / total), 1) if total and available is not None else None
    data = {"bytes": values, "used_percent": used_pct}
    lines = [f"{k}: {v if k.startswith('HugePages') else human_size(v)}" for k, v in values.items()]
    lines.append(f"used (excluding caches): {used_pct}%")
    return "\n".join(lines), data


# ---- processes ---------------------------------------------------------------------------


def processes(proc: Path = PROC, top: int = TOP_PROCESSES) -> tuple[str, dict[str, Any]]:
    if not (proc / "self" / "stat").exists():
        raise OSError(f"{proc} has no process table (the process list needs Linux /proc)")
    uptime = float((_read(proc / "uptime") or "0").split()[0])
    found = [p for p in (_process(d, uptime) for d in proc.iterdir() if d.name.isdigit()) if p]
    by_memory = sorted(found, key=lambda p: p["rss_bytes"], reverse=True)[:top]
    by_cpu = sorted(found, key=lambda p: p["cpu_s"], reverse=True)[:top]
    data = {"total": len(found), "top_by_memory": by_memory, "top_by_cpu_time": by_cpu}
    text = "\n\n".join(
        [
            f"{len(found)} processes",
            f"top {top} by resident memory:\n{_process_table(by_memory)}",
            f"top {top} by CPU time:\n{_process_table(by_cpu)}",
        ]
    )
    return text, data


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _process(folder: Path, uptime: float) -> dict[str, Any] | None:
    try:
        stat = (folder / "stat").read_text()
        cmdline = (folder / "cmdline").read_bytes()
        uid = folder.stat().st_uid
    except OSError:  # the process ended while we looked
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    age_s = max(uptime - int(fields[19]) / _CLOCK_TICKS, 0.0)
    command = " ".join(cmdline.replace(b"\0", b" ").decode(errors="replace").split())
    return {
        "pid": int(folder.name),
        "ppid": int(fields[1]),
        "user": _user(uid),
        "state": fields[0],
        "name": name,
        "rss_bytes": int(fields[21]) * _PAGE_SIZE,
        "cpu_s": round(cpu_s, 2),
        "cpu_percent_avg": round(100 * cpu_s / age_s, 1) if age_s > 1 else None,
        "age_s": round(age_s),
        "command": mask(command[:CMDLINE_LIMIT]) or f"[{name}]",
    }


def _process_table(rows: list[dict[str, Any]]) -> str:
    header = f"{'PID':>7} {'USER':<10} {'S':1} {'RSS':>9} {'CPU s':>9} {'%CPU':>5}  COMMAND"
    lines = [header]
    for p in rows:
        pct = "" if p["cpu_percent_avg"] is None else f"{p['cpu_percent_avg']:.1f}"
        lines.append(
            f"{p['pid']:>7} {p['user'][:10]:<10} {p['state']:1} {human_size(p['rss_bytes']):>9} "
            f"{p['cpu_s']:>9.1f} {pct:>5}  {p['command'][:120]}"
        )
    return "\n".join(lines)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
