"""The `sessions` action: background sessions held by a detached holder process.

Injection starts `python -m faulttest.inject.holder` in a new session (it outlives the
`inject` command) and journals its pid; teardown stops the holder, then terminates every
backend tagged `faulttest:<fault id>:%` that is left, and waits until none is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from faulttest.catalog.models import Node, SessionsAction
from faulttest.inject.context import Context
from faulttest.inject.journal import HolderRecord
from faulttest.inject.tags import HOLDER_MODULE, app_prefix

log = logging.getLogger(__name__)

# holders started by this process, so that teardown can reap them (no zombies)
_children: dict[int, subprocess.Popen[bytes]] = {}


def run(action: SessionsAction, ctx: Context) -> None:
    ctx.entry.holders.append(start_holder(action, ctx))
    ctx.save()


def start_holder(action: SessionsAction, ctx: Context) -> HolderRecord:
    node = action.target
    log_dir = ctx.home / "holders"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{ctx.failure.id}-{node.value}-{int(time.time() * 1000)}.log"
    payload = {
        "dsn": ctx.target.node_dsn(node),
        "sessions": [s.model_dump(mode="json") for s in action.sessions],
    }
    command = [
        sys.executable, "-m", HOLDER_MODULE,
        "--fault", ctx.failure.id, "--node", node.value, "--target", ctx.target.key,
    ]  # fmt: skip
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=_holder_environment(),
        )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(payload).encode())
    proc.stdin.close()
    _children[proc.pid] = proc
    log.info("holder for %s on %s started (pid %d)", ctx.failure.id, node.value, proc.pid)
    return HolderRecord(pid=proc.pid, node=node.value, log=str(log_path))


def _holder_environment() -> dict[str, str]:
    """Our environment minus secrets: the holder gets its DSN on stdin only."""
    secret = {"FAULTTEST_CONN", "FAULTTEST_REPLICA_CONN", "PGPASSWORD"}
    return {k: v for k, v in os.environ.items() if k not in secret}


# ── holder processes ─────────────────────────────────────────────────────────


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def is_holder(pid: int, fault_id: str | None = None) -> bool:
    """True when `pid` is a live holder (of `fault_id`): guards against pid reuse."""
    argv = _cmdline(pid)
    if HOLDER_MODULE not in argv or _is_zombie(pid):
        return False
    return fault_id is None or (
        "--fault" in argv and argv.index("--fault") + 1 < len(argv)
        and argv[argv.index("--fault") + 1] == fault_id
    )  # fmt: skip


def find_holders(fault_id: str, target_key: str | None = None) -> list[int]:
    """Holder pids for `fault_id` (and target) found on this machine, journaled or not."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == os.getpid() or not is_holder(pid, fault_id):
            continue
        argv = _cmdline(pid)
        if target_key is None or target_key in argv:
            pids.append(pid)
    return pids


def holder_alive(pid: int, fault_id: str) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    return is_holder(pid, fault_id)


def holder_log_tail(record: HolderRecord, lines: int = 5) -> str:
    try:
        text = Path(record.log).read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


def stop_holder(pid: int, fault_id: str, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; only if `pid` really is that fault's holder."""
    if not holder_alive(pid, fault_id):
        _reap(pid)
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not holder_alive(pid, fault_id):
                return
            time.sleep(0.05)
    log.warning("holder pid %d of %s did not exit", pid, fault_id)


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)


# ── tagged backends ──────────────────────────────────────────────────────────

_TAGGED = sql.SQL(
    "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s AND pid <> pg_backend_pid()"
)


def tagged_backends(conn: psycopg.Connection, fault_id: str) -> list[int]:
    return [row[0] for row in conn.execute(_TAGGED, [app_prefix(fault_id)])]


def terminate_tagged(ctx: Context, node: Node, timeout: float = 10.0) -> list[int]:
    """pg_terminate_backend every session tagged with the fault; returns the pids still left."""
    with ctx.target.connect(node) as conn:
        deadline = time.monotonic() + timeout
        left = tagged_backends(conn, ctx.failure.id)
        while left and time.monotonic() < deadline:
            for pid in left:
                conn.execute("SELECT pg_terminate_backend(%s)", [pid])
            time.sleep(0.1)
            left = tagged_backends(conn, ctx.failure.id)
        return left
