"""The target of a run: the user's server, the running lab, or a lab started for the run.

A lab the run starts is disposable: it is stopped and deleted at the end. A marker file
(`FAULTTEST_HOME/lab/run-owner`) names the run that started it, so when that run was
killed, the next run adopts the lab, cleans it up and takes it down in turn. A lab the
user started (`faulttest lab up`) is used as it is and left running.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from faulttest.errors import UsageError
from faulttest.lab import DEFAULT_PORT, DEFAULT_REPLICA_PORT, Lab, PortInUse, free_port
from faulttest.lab.ports import port_in_use
from faulttest.targets import CONN_ENV, LabTarget, Target, resolve_target
from helpdesk.infra import InfraConfig

LAB_PORT_ENV = "FAULTTEST_LAB_PORT"
LAB_REPLICA_PORT_ENV = "FAULTTEST_LAB_REPLICA_PORT"
OWNER_FILE = "run-owner"

Say = Callable[[str], None]


@dataclass(frozen=True)
class LabPorts:
    """Ports for a lab the run starts. None: the defaults (free ports if those are taken);
    0: free ports picked by the OS."""

    port: int | None = None
    replica_port: int | None = None

    @classmethod
    def from_env(cls, port: int | None = None, replica_port: int | None = None) -> LabPorts:
        return cls(
            port if port is not None else _env_port(LAB_PORT_ENV),
            replica_port if replica_port is not None else _env_port(LAB_REPLICA_PORT_ENV),
        )

    def choose(self) -> tuple[int, int]:
        """(primary, replica) ports to try now."""
        if self.port == 0 or (self.port is None and _defaults_taken()):
            return _two_free_ports()
        port = self.port or DEFAULT_PORT
        replica = self.replica_port or (DEFAULT_REPLICA_PORT if self.port is None else port + 1)
        return port, replica

    @property
    def pinned(self) -> bool:
        """True when the user named the ports (a clash is then an error, not a retry)."""
        return bool(self.port)


def _env_port(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > 65535:
        raise UsageError(f"{name}={value!r} is not a port number (0 picks a free port)")
    return int(value)


def _defaults_taken() -> bool:
    return port_in_use(DEFAULT_PORT) or port_in_use(DEFAULT_REPLICA_PORT)


def _two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


@contextlib.contextmanager
def open_target(
    conn: str | None,
    replica_conn: str | None,
    infra: InfraConfig | None,
    home: Path,
    say: Say,
    ports: LabPorts | None = None,
) -> Iterator[Target]:
    """Yield the target; a lab started (or adopted from a killed run) here is taken down."""
    if conn or os.environ.get(CONN_ENV):
        yield resolve_target(conn, replica_conn, home=home, infra=infra)
        return
    lab, owned = _lab_for_run(home, ports or LabPorts.from_env(), say)
    try:
        yield LabTarget(lab, replica_dsn=replica_conn)
    finally:
        if owned:
            began = time.monotonic()
            lab.down()
            _owner_file(home).unlink(missing_ok=True)
            say(f"Lab down in {time.monotonic() - began:.1f}s")


def _lab_for_run(home: Path, ports: LabPorts, say: Say) -> tuple[Lab, bool]:
    """The lab to use and whether this run owns it (must take it down)."""
    recorded = Lab.load(home)
    if recorded is not None:
        owned = _left_by_dead_run(home)
        if owned:
            say("Adopting the lab left running by an earlier, interrupted run")
            _claim(home)
        if not recorded.is_up():  # e.g. a crash left the primary stopped
            say("Starting the stopped server(s) of the lab ...")
            recorded.up()
        return recorded, owned
    return _start_lab(home, ports, say), True


def _start_lab(home: Path, ports: LabPorts, say: Say) -> Lab:
    say("Starting the lab (PostgreSQL primary + streaming replica) ...")
    began = time.monotonic()
    for attempt in range(3):
        port, replica_port = ports.choose()
        lab = Lab(home, port=port, replica_port=replica_port)
        _claim(home)
        try:
            lab.up()
            break
        except PortInUse:
            _owner_file(home).unlink(missing_ok=True)
            if ports.pinned or attempt == 2:
                raise
        except BaseException:
            _owner_file(home).unlink(missing_ok=True)
            raise
    info = lab.info
    where = f"127.0.0.1:{info.port}" + (f" + {info.replica_port}" if info.replica_port else "")
    say(f"Lab up on {where} in {time.monotonic() - began:.1f}s")
    return lab


def _owner_file(home: Path) -> Path:
    return home / "lab" / OWNER_FILE


def _claim(home: Path) -> None:
    path = _owner_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(os.getpid()))


def _left_by_dead_run(home: Path) -> bool:
    try:
        pid = int(_owner_file(home).read_text().strip())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False  # that run is still going: share its lab, leave it to that run
