"""One PostgreSQL server of the lab: initdb, configuration, start/stop/kill, base backup.

Every command runs as the lab's service user (see `binaries.RunAs`); nothing here knows
about the state file or the replica topology, which `lab.py` composes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from faulttest.lab.binaries import RunAs
from faulttest.lab.errors import LabError, PortInUse
from faulttest.lab.ports import HOST
from helpdesk.dsn import build, mask

SUPERUSER = "postgres"
DBNAME = "testdb"
PASSWORD = "testpass"
LOG_DIRECTORY = "log"
LOG_FILENAME = "postgresql.log"
NODE_CONF = "faulttest.node.conf"

# Why these values: a small, fast, diagnosable server. deadlock_timeout is lowered from 1s
# so that lock faults show up (and are logged by log_lock_waits) within a fraction of a second;
# wal_retrieve_retry_interval is lowered so the replica reconnects quickly after the primary
# was stopped or killed by a fault.
BASE_SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "max_connections": "20",
    "shared_buffers": "32MB",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "wal_keep_size": "128MB",
    "hot_standby": "on",
    "wal_retrieve_retry_interval": "500ms",
    "password_encryption": "scram-sha-256",
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
    "logging_collector": "on",
    "log_directory": LOG_DIRECTORY,
    "log_filename": LOG_FILENAME,
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "log_file_mode": "0640",
    "log_line_prefix": "%m [%p] %q%u@%d app=%a ",
    "log_lock_waits": "on",
    "deadlock_timeout": "200ms",
    "track_io_timing": "on",
    "track_activity_query_size": "4096",
    "log_timezone": "UTC",
    "timezone": "UTC",
}


def lab_dsn(port: int, dbname: str = DBNAME, password: str = PASSWORD) -> str:
    """The key=value DSN of a lab node."""
    return build(host=HOST, port=port, dbname=dbname, user=SUPERUSER, password=password)


def conf_line(name: str, value: str) -> str:
    """One postgresql.conf line with the value single-quoted."""
    return f"{name} = '{value.replace(chr(39), chr(39) * 2)}'\n"


@dataclass
class PgNode:
    """A PostgreSQL data directory plus the binaries and user that serve it."""

    name: str
    data_dir: Path
    port: int
    bin_dir: Path
    user: RunAs
    socket_dir: Path

    @property
    def startup_log(self) -> Path:
        return self.data_dir.parent / f"{self.name}.startup.log"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / LOG_DIRECTORY

    def run(
        self, tool: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the service user; LabError with its stderr on failure."""
        cmd = [str(self.bin_dir / tool), *args]
        full_env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        full_env.update({"LC_ALL": "C", "LANG": "C", **(env or {})})
        try:
            done = subprocess.run(
                cmd,
                env=full_env,
                cwd=str(self.data_dir.parent),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                **self.user.popen_kwargs(),
            )
        except subprocess.TimeoutExpired:
            raise LabError(f"{tool} ({self.name}) did not finish within {timeout:.0f}s") from None
        except PermissionError as exc:
            raise LabError(f"cannot run {tool} as {self.user.name!r}: {exc}") from None
        if done.returncode != 0:
            lines = (done.stderr or done.stdout or "").strip().splitlines()
            detail = mask(" / ".join(lines[-3:]) or f"exit status {done.returncode}")
            raise LabError(f"{tool} ({self.name}) failed: {detail}")
        return done

    def initdb(self, password: str) -> None:
        """Create the cluster with SCRAM for TCP and socket connections (no trust anywhere)."""
        pwfile = self.data_dir.parent / f".{self.name}.pw"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self.user.own(pwfile)
        try:
            self.run(
                "initdb",
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def write_settings(self, settings: Mapping[str, str]) -> None:
        """Append the lab's settings to postgresql.conf, then include the per-node file."""
        lines = ["\n# faulttest lab settings\n"]
        lines += [conf_line(k, v) for k, v in settings.items()]
        lines.append(f"include_if_exists = '{NODE_CONF}'\n")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(lines)

    def write_node_settings(self) -> None:
        """(Re)write this node's own port and socket dir; a clone or base backup copies the
        primary's file, so every node writes its own before starting."""
        path = self.data_dir / NODE_CONF
        path.write_text(
            "# this node's identity, written by faulttest\n"
            + conf_line("port", str(self.port))
            + conf_line("unix_socket_directories", str(self.socket_dir))
        )
        self.user.own(path)

    def clone_from(self, template: Path) -> None:
        """Copy a stopped template data dir into this node's (as the service user)."""
        done = subprocess.run(
            ["cp", "-a", str(template), str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
            **self.user.popen_kwargs(),
        )
        if done.returncode != 0:
            raise LabError(f"copying the cluster template failed: {done.stderr.strip()}")

    def clear_server_log(self) -> None:
        """Empty the log folder (a base backup copies the primary's log into the replica)."""
        for entry in self.log_dir.glob("*"):
            entry.unlink(missing_ok=True)

    def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it accepts connections."""
        if self.is_running():
            return
        self._remove_stale_pid()
        try:
            self.run(
                "pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", str(int(timeout)),
                "-l", str(self.startup_log),
                timeout=timeout + 10,
            )  # fmt: skip
        except LabError as exc:
            raise self._explain_start_failure(exc) from None

    def _explain_start_failure(self, exc: LabError) -> LabError:
        text = self._tail(self.startup_log) + self._tail(self.log_dir / LOG_FILENAME)
        if "could not bind" in text or "Address already in use" in text:
            flag = "--replica-port" if self.name == "replica" else "--port"
            return PortInUse(self.port, flag)
        last = [line for line in text.splitlines() if "FATAL" in line or "ERROR" in line][-2:]
        detail = "; ".join(last) or exc.message
        return LabError(f"{self.name} did not start: {mask(detail)}", hint=f"see {self.log_dir}")

    @staticmethod
    def _tail(path: Path, size: int = 4000) -> str:
        try:
            data = path.read_bytes()[-size:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def stop(self, mode: str = "fast", timeout: float = 30) -> None:
        """Stop the server (modes: smart, fast, immediate) and wait until it is gone."""
        if not self.is_running():
            return
        self.run(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", str(int(timeout)),
            timeout=timeout + 10,
        )  # fmt: skip

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL the postmaster and wait until it and its children are gone."""
        kill_postmaster(self.data_dir, timeout)

    def pid(self) -> int | None:
        """The postmaster's pid from postmaster.pid, or None."""
        return postmaster_pid(self.data_dir)

    def is_running(self) -> bool:
        """True when the postmaster recorded in postmaster.pid is alive."""
        pid = self.pid()
        return pid is not None and _alive(pid)

    def _remove_stale_pid(self) -> None:
        """Drop lock files of a dead postmaster. PostgreSQL does this itself unless the old
        postmaster is a zombie (an init that does not reap, e.g. in some containers)."""
        if self.is_running():
            return
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        socket = self.socket_dir / f".s.PGSQL.{self.port}"
        lock = socket.with_name(socket.name + ".lock")
        try:
            owner = int(lock.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        if not _alive(owner):
            lock.unlink(missing_ok=True)
            socket.unlink(missing_ok=True)

    def base_backup_from(self, primary: PgNode, password: str) -> None:
        """Clone `primary` into this node's data dir as a streaming standby (-R)."""
        self.run(
            "pg_basebackup",
            "-h", HOST, "-p", str(primary.port), "-U", SUPERUSER,
            "-D", str(self.data_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync",
            env={"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
        )  # fmt: skip
        self.clear_server_log()
        self.write_node_settings()


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid recorded in a data dir's postmaster.pid, or None."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def kill_postmaster(data_dir: Path, timeout: float = 10) -> None:
    """SIGKILL the postmaster serving `data_dir` and wait until it and its children are gone."""
    pid = postmaster_pid(data_dir)
    if pid is None or not _alive(pid):
        return
    family = [pid, *_children_of(pid)]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in family):
            return
        time.sleep(0.02)
    raise LabError(f"the postmaster of {data_dir} (pid {pid}) did not die after SIGKILL")


def _alive(pid: int) -> bool:
    """True for a live process (a zombie left after SIGKILL counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] not in ("Z", "X"):
            children.append(int(entry.name))
    return children
