"""The lab: a disposable PostgreSQL primary and streaming replica on 127.0.0.1.

`Lab` composes two `PgNode`s, records them in `FAULTTEST_HOME/lab/state.json`, and offers
the server control the fault injectors need (stop/start/kill/restart, settings).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from faulttest.lab import binaries
from faulttest.lab.binaries import RunAs
from faulttest.lab.cluster import DBNAME, PASSWORD, SUPERUSER, PgNode, kill_postmaster, lab_dsn
from faulttest.lab.errors import LabError, LabNotRunning, PortInUse
from faulttest.lab.ports import HOST, port_in_use
from faulttest.lab.template import ensure_template
from helpdesk.dsn import mask

Node = Literal["primary", "replica"]
NODES: tuple[Node, ...] = ("primary", "replica")
DEFAULT_PORT = 15432
DEFAULT_REPLICA_PORT = 15433
STATE_VERSION = 1
OWNER_FILE = "home"

Progress = Callable[[str], None]


def default_home() -> Path:
    """FAULTTEST_HOME, else ~/.faulttest."""
    return Path(os.environ.get("FAULTTEST_HOME") or Path.home() / ".faulttest").expanduser()


@dataclass(frozen=True)
class LabInfo:
    """Where the lab is and how to connect to it (the DSNs carry the password)."""

    host: str
    port: int
    replica_port: int | None
    dbname: str
    user: str
    password: str = field(repr=False)
    dsn: str = field(repr=False)
    replica_dsn: str | None = field(repr=False)
    home: Path
    data_dir: Path
    log_dir: Path
    replica_data_dir: Path | None
    replica_log_dir: Path | None
    socket_dir: Path
    pg_bin: Path
    server_version: str
    run_as: str
    already_running: bool = False

    def node_dsn(self, node: Node, dbname: str | None = None) -> str:
        """DSN of `node` ("primary" / "replica"), optionally for another database."""
        port = self.port if node == "primary" else self.replica_port
        if port is None:
            raise LabError("this lab has no replica (it was started with --no-replica)")
        return lab_dsn(port, dbname or self.dbname, self.password)


@dataclass(frozen=True)
class ReplicationState:
    """What the primary and replica report about streaming replication."""

    streaming: bool
    state: str | None
    lag_bytes: int | None
    replay_paused: bool | None


@dataclass(frozen=True)
class LabStatus:
    """Running state of both nodes; DSNs are masked so this is safe to print."""

    home: Path
    recorded: bool
    primary_running: bool
    replica_running: bool | None
    port: int
    replica_port: int | None
    dsn: str
    replica_dsn: str | None
    replication: ReplicationState | None

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "replication"}
        data["home"] = str(self.home)
        data["replication"] = self.replication.__dict__ if self.replication else None
        return data


class Lab:
    """A primary (+ optional streaming replica) whose state lives under a FAULTTEST_HOME."""

    def __init__(
        self,
        home: Path | str | None = None,
        port: int = DEFAULT_PORT,
        replica_port: int | None = DEFAULT_REPLICA_PORT,
        replica: bool = True,
        pg_bin: str | os.PathLike[str] | None = None,
    ) -> None:
        self.home = Path(home).expanduser() if home else default_home()
        self.port = port
        self.replica = replica and replica_port is not None
        self.replica_port = replica_port if self.replica else None
        self.pg_bin = pg_bin
        self._state: dict[str, Any] | None = None

    # ---- state ---------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.home / "lab" / "state.json"

    @classmethod
    def load(cls, home: Path | str | None = None) -> Lab | None:
        """The lab recorded in `home`'s state file, or None when there is none."""
        lab = cls(home=home)
        state = lab._read_state()
        if state is None:
            return None
        lab._adopt(state)
        return lab

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if state.get("version") == STATE_VERSION else None

    def _adopt(self, state: dict[str, Any]) -> None:
        self._state = state
        self.port = int(state["port"])
        self.replica_port = state.get("replica_port")
        self.replica = self.replica_port is not None
        self.pg_bin = state["pg_bin"]

    def _write_state(self, state: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)
        self._state = state

    def _require_state(self) -> dict[str, Any]:
        state = self._state or self._read_state()
        if state is None:
            raise LabNotRunning(self.home)
        self._adopt(state)
        return state

    # ---- layout ----------------------------------------------------------------------------

    def _runtime_dir(self, user: RunAs) -> Path:
        """Where data, sockets and logs live: under home, or (as root) somewhere the service
        user can reach, since ~/.faulttest of root is not traversable by it."""
        if not user.switch:
            return self.home / "lab" / "run"
        key = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        return binaries.SHARED_ROOT / "labs" / key

    def _run_as(self, state: Mapping[str, Any]) -> RunAs:
        return RunAs(state["run_as"], state["uid"], state["gid"], switch=state["switch_user"])

    def node(self, node: Node) -> PgNode:
        """The `PgNode` of a recorded lab (for advanced control)."""
        state = self._require_state()
        if node == "replica" and not state.get("replica_port"):
            raise LabError("this lab has no replica (it was started with --no-replica)")
        runtime = Path(state["runtime_dir"])
        return PgNode(
            name=node,
            data_dir=runtime / node,
            port=int(state["port"] if node == "primary" else state["replica_port"]),
            bin_dir=Path(state["pg_bin"]),
            user=self._run_as(state),
            socket_dir=runtime / "socket",
        )

    def _nodes(self) -> list[PgNode]:
        return [self.node(n) for n in NODES if n == "primary" or self.replica]

    # ---- info ------------------------------------------------------------------------------

    @property
    def info(self) -> LabInfo:
        """Connection facts of the recorded lab."""
        return self._info(already_running=False)

    def _info(self, already_running: bool) -> LabInfo:
        state = self._require_state()
        primary = self.node("primary")
        replica = self.node("replica") if self.replica else None
        return LabInfo(
            host=HOST,
            port=self.port,
            replica_port=self.replica_port,
            dbname=DBNAME,
            user=SUPERUSER,
            password=PASSWORD,
            dsn=lab_dsn(self.port),
            replica_dsn=lab_dsn(self.replica_port) if self.replica_port else None,
            home=self.home,
            data_dir=primary.data_dir,
            log_dir=primary.log_dir,
            replica_data_dir=replica.data_dir if replica else None,
            replica_log_dir=replica.log_dir if replica else None,
            socket_dir=primary.socket_dir,
            pg_bin=primary.bin_dir,
            server_version=state.get("server_version", "unknown"),
            run_as=state["run_as"],
            already_running=already_running,
        )

    # ---- lifecycle -------------------------------------------------------------------------

    def is_up(self) -> bool:
        """True when every recorded node is running."""
        if (self._state or self._read_state()) is None:
            return False
        return all(n.is_running() for n in self._nodes())

    def up(self, progress: Progress | None = None) -> LabInfo:
        """Start the lab; an already running lab is reported (already_running=True), not
        restarted, and a stopped one kept by `down(keep=True)` is started again."""
        say = progress or (lambda _msg: None)
        state = self._read_state()
        if state is not None:
            self._adopt(state)
            if self._data_present():
                if self.is_up():
                    return self._info(already_running=True)
                self._resume(say)
                return self._info(already_running=False)
            self._forget()
        self._create(say)
        return self._info(already_running=False)

    def _data_present(self) -> bool:
        return all((n.data_dir / "PG_VERSION").exists() for n in self._nodes())

    def _resume(self, say: Progress) -> None:
        for node in self._nodes():
            if not node.is_running():
                say(f"starting {node.name} on {HOST}:{node.port}")
                self._check_port(node)
                node.start()
        if self.replica:
            self.wait_streaming()

    def _check_port(self, node: PgNode) -> None:
        if port_in_use(node.port):
            raise PortInUse(node.port, "--replica-port" if node.name == "replica" else "--port")

    def _create(self, say: Progress) -> None:
        if self.replica and self.replica_port == self.port:
            raise LabError(f"--port and --replica-port are both {self.port}; pick two ports")
        for port, flag in ((self.port, "--port"), (self.replica_port, "--replica-port")):
            if port is not None and port_in_use(port):
                raise PortInUse(port, flag)
        user = binaries.service_user()
        bin_dir = binaries.usable_bin_dir(binaries.requested_bin_dir(self.pg_bin), user)
        runtime = self._runtime_dir(user)
        if user.switch:
            reap_orphan_labs()
        self._write_state(
            {
                "version": STATE_VERSION,
                "port": self.port,
                "replica_port": self.replica_port,
                "pg_bin": str(bin_dir),
                "server_version": binaries.server_version(bin_dir),
                "runtime_dir": str(runtime),
                "run_as": user.name,
                "uid": user.uid,
                "gid": user.gid,
                "switch_user": user.switch,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        try:
            self._prepare_runtime(runtime, user, self.home)
            self._build(say)
        except BaseException:
            self._destroy()
            raise

    @staticmethod
    def _prepare_runtime(runtime: Path, user: RunAs, home: Path) -> None:
        if user.switch:
            for shared in (binaries.SHARED_ROOT, runtime.parent):
                shared.mkdir(parents=True, exist_ok=True)
                shared.chmod(0o755)
        shutil.rmtree(runtime, ignore_errors=True)
        runtime.mkdir(parents=True, mode=0o700)
        (runtime / OWNER_FILE).write_text(str(home.resolve()))
        (runtime / "socket").mkdir(mode=0o700)
        for path in (runtime, runtime / "socket"):
            user.own(path)

    def _build(self, say: Progress) -> None:
        primary = self.node("primary")
        template = ensure_template(primary.bin_dir, primary.user, primary.port, say)
        say(f"starting primary on {HOST}:{primary.port} (as {primary.user.name})")
        primary.clone_from(template)
        primary.write_node_settings()
        primary.start()
        if self.replica:
            replica = self.node("replica")
            say(f"cloning replica (pg_basebackup) and starting it on {HOST}:{replica.port}")
            replica.base_backup_from(primary, PASSWORD)
            replica.start()
            self.wait_streaming()

    def wait_streaming(self, timeout: float = 15) -> None:
        """Wait until the replica streams from the primary."""
        deadline = time.monotonic() + timeout
        with self.connect("primary", dbname="postgres") as conn:
            while True:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                ).fetchone()
                if row and row[0] > 0:
                    return
                if time.monotonic() > deadline:
                    raise LabError(f"the replica did not start streaming within {timeout:.0f}s")
                time.sleep(0.03)

    def down(self, keep: bool = False) -> None:
        """Stop both servers; delete the data and the state unless `keep`."""
        if (self._state or self._read_state()) is None:
            return
        self._require_state()
        mode = "fast" if keep else "immediate"
        nodes = self._nodes()
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(lambda n: n.stop(mode), nodes))
        if not keep:
            self._destroy()

    def _destroy(self) -> None:
        state = self._state or self._read_state()
        if state is not None:
            for node in self._nodes():
                if node.is_running():
                    node.kill()
            shutil.rmtree(state["runtime_dir"], ignore_errors=True)
        self._forget()

    def _forget(self) -> None:
        self.state_file.unlink(missing_ok=True)
        self._state = None

    # ---- server control (used by fault injectors) -----------------------------------------

    def is_running(self, node: Node) -> bool:
        return self.node(node).is_running()

    def stop(self, node: Node, mode: str = "fast") -> None:
        self.node(node).stop(mode)

    def start(self, node: Node, timeout: float = 30) -> None:
        """Start `node` and wait until it accepts connections."""
        self.node(node).start(timeout)

    def kill(self, node: Node) -> None:
        """SIGKILL the postmaster of `node` (it stays down until `start`)."""
        self.node(node).kill()

    def restart(self, node: Node, timeout: float = 30) -> None:
        target = self.node(node)
        target.stop("fast")
        target.start(timeout)

    def connect(self, node: Node = "primary", dbname: str | None = None) -> psycopg.Connection:
        """An autocommit superuser connection to `node` over TCP."""
        port = self.port if node == "primary" else self.replica_port
        if port is None:
            raise LabError("this lab has no replica (it was started with --no-replica)")
        try:
            return psycopg.connect(
                lab_dsn(port, dbname or DBNAME), autocommit=True, connect_timeout=10
            )
        except psycopg.OperationalError as exc:
            raise LabError(f"cannot connect to the lab {node}: {mask(str(exc).strip())}") from None

    def set_settings(self, node: Node, settings: Mapping[str, object]) -> None:
        """ALTER SYSTEM SET each setting and reload; restart when one needs it."""
        statements = [
            sql.SQL("ALTER SYSTEM SET {} = {}").format(_guc_name(k), _guc_value(v))
            for k, v in settings.items()
        ]
        self._apply(node, list(settings), statements)

    def reset_settings(self, node: Node, names: Iterable[str]) -> None:
        """ALTER SYSTEM RESET each setting (back to the lab's baseline) and reload."""
        names = list(names)
        statements = [sql.SQL("ALTER SYSTEM RESET {}").format(_guc_name(n)) for n in names]
        self._apply(node, names, statements)

    def _apply(self, node: Node, names: Sequence[str], statements: list[sql.Composed]) -> None:
        if not names:
            return
        with self.connect(node, dbname="postgres") as conn:
            contexts = _contexts(conn, names)
            unknown = [n for n in names if n.lower() not in contexts and "." not in n]
            if unknown:
                raise LabError(f"unknown PostgreSQL setting(s): {', '.join(unknown)}")
            for statement in statements:
                conn.execute(statement)
            _reload_and_wait(conn)
        if any(contexts.get(n.lower()) == "postmaster" for n in names):
            self.restart(node)

    # ---- status ----------------------------------------------------------------------------

    def status(self) -> LabStatus:
        """Which nodes run, their masked DSNs and the replication state."""
        recorded = (self._state or self._read_state()) is not None
        if recorded:
            self._require_state()
        primary_up = recorded and self.is_running("primary")
        replica_up = (recorded and self.is_running("replica")) if self.replica else None
        replication = self._replication(primary_up, bool(replica_up)) if self.replica else None
        return LabStatus(
            home=self.home,
            recorded=recorded,
            primary_running=primary_up,
            replica_running=replica_up,
            port=self.port,
            replica_port=self.replica_port,
            dsn=mask(lab_dsn(self.port)),
            replica_dsn=mask(lab_dsn(self.replica_port)) if self.replica_port else None,
            replication=replication,
        )

    def _replication(self, primary_up: bool, replica_up: bool) -> ReplicationState | None:
        if not primary_up:
            return None
        state, lag = None, None
        with self.connect("primary", dbname="postgres") as conn:
            row = conn.execute(
                "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint"
                " FROM pg_stat_replication ORDER BY backend_start DESC LIMIT 1"
            ).fetchone()
        if row:
            state, lag = row[0], int(row[1]) if row[1] is not None else None
        paused = None
        if replica_up:
            with self.connect("replica", dbname="postgres") as conn:
                paused = bool(_scalar(conn, "SELECT pg_is_wal_replay_paused()"))
        return ReplicationState(
            streaming=state == "streaming",
            state=state or "not connected",
            lag_bytes=lag,
            replay_paused=paused,
        )


def _guc_name(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def _guc_value(value: object) -> sql.Composable:
    if isinstance(value, list | tuple):
        return sql.SQL(", ").join(sql.Literal(str(v)) for v in value)
    if isinstance(value, bool):
        return sql.Literal("on" if value else "off")
    return sql.Literal(str(value))


def _contexts(conn: psycopg.Connection, names: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT name, context FROM pg_settings WHERE name = ANY(%s)",
        [[n.lower() for n in names]],
    ).fetchall()
    return {str(name): str(context) for name, context in rows}


def _scalar(conn: psycopg.Connection, query: str) -> Any:
    row = conn.execute(query).fetchone()
    return row[0] if row else None


def _reload_and_wait(conn: psycopg.Connection, timeout: float = 5) -> None:
    """pg_reload_conf() and wait until this backend has reloaded, which happens only after
    the postmaster did, so new sessions see the new values."""
    before = _scalar(conn, "SELECT pg_conf_load_time()")
    conn.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _scalar(conn, "SELECT pg_conf_load_time()") > before:
            return
        time.sleep(0.01)


def reap_orphan_labs() -> list[Path]:
    """Stop and delete shared-location labs whose FAULTTEST_HOME no longer records them
    (e.g. a test session's temporary home was removed after the process was killed)."""
    reaped = []
    labs_dir = binaries.SHARED_ROOT / "labs"
    for runtime in sorted(labs_dir.glob("*")) if labs_dir.is_dir() else []:
        try:
            home = Path((runtime / OWNER_FILE).read_text())
        except OSError:
            continue  # being created right now, or not ours
        if _records(home, runtime):
            continue
        for node in NODES:
            kill_postmaster(runtime / node)
        shutil.rmtree(runtime, ignore_errors=True)
        reaped.append(runtime)
    return reaped


def _records(home: Path, runtime: Path) -> bool:
    try:
        state = json.loads((home / "lab" / "state.json").read_text())
    except (OSError, ValueError):
        return False
    return Path(state.get("runtime_dir", "")) == runtime
