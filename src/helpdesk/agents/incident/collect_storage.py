"""The `storage/` layer: filesystem usage (like `df`) and the PostgreSQL data directory.

Filesystems come from /proc/mounts (else just `/`); the data directory's size (with
pg_wal apart) is measured only when the database layer reported it and it is on this machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from helpdesk.agents.incident.layer import LayerOutput, human_size

LAYER = "storage"
MOUNTS = Path("/proc/mounts")
# Pseudo filesystems df hides too: they hold no data an incident is about.
_PSEUDO = "proc sysfs cgroup cgroup2 devpts mqueue debugfs tracefs securityfs pstore bpf autofs"
_PSEUDO_MORE = "configfs fusectl hugetlbfs binfmt_misc nsfs rpc_pipefs selinuxfs efivarfs ramfs"
PSEUDO_FS = frozenset(f"{_PSEUDO} {_PSEUDO_MORE}".split())
WALK_LIMIT = 200_000  # files; a data directory bigger than this is reported as partial


def collect_storage(data_directory: str | None = None, mounts: Path = MOUNTS) -> LayerOutput:
    layer = LayerOutput(name=LAYER)
    try:
        text, data = filesystems(mounts)
        layer.add("filesystems", text, data)
    except OSError as exc:
        layer.error(f"filesystems: {exc}")
    if data_directory:
        _add_data_directory(layer, Path(data_directory))
    return layer


def filesystems(mounts: Path = MOUNTS) -> tuple[str, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for device, mountpoint, fstype in _mount_table(mounts):
        try:
            st = os.statvfs(mountpoint)
            dev = os.stat(mountpoint).st_dev
        except OSError:
            continue  # unreachable or permission denied: df skips these as well
        if dev in seen or st.f_blocks == 0:
            continue
        seen.add(dev)
        rows.append(_usage(device, mountpoint, fstype, st))
    if not rows:
        raise OSError("no filesystem could be measured")
    header = (
        f"{'FILESYSTEM':<24} {'TYPE':<8} {'SIZE':>10} {'USED':>10} {'AVAIL':>10} "
        f"{'USE%':>5} {'IUSE%':>5}  MOUNTED ON"
    )
    lines = [header] + [
        f"{r['device'][:24]:<24} {r['fstype'][:8]:<8} {human_size(r['size_bytes']):>10} "
        f"{human_size(r['used_bytes']):>10} {human_size(r['available_bytes']):>10} "
        f"{r['used_percent']:>4}% {_pct(r['inodes_used_percent']):>5}  {r['mountpoint']}"
        for r in rows
    ]
    return "\n".join(lines), rows


def _mount_table(mounts: Path) -> list[tuple[str, str, str]]:
    try:
        raw = mounts.read_text()
    except OSError:
        return [("rootfs", "/", "unknown")]
    table = []
    for line in raw.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] not in PSEUDO_FS:
            mountpoint = parts[1].replace("\\040", " ")
            table.append((parts[0], mountpoint, parts[2]))
    return table


def _usage(device: str, mountpoint: str, fstype: str, st: os.statvfs_result) -> dict[str, Any]:
    size = st.f_blocks * st.f_frsize
    free = st.f_bfree * st.f_frsize
    available = st.f_bavail * st.f_frsize
    used = size - free
    inodes_used = st.f_files - st.f_ffree
    return {
        "device": device,
        "mountpoint": mountpoint,
        "fstype": fstype,
        "size_bytes": size,
        "used_bytes": used,
        "available_bytes": available,
        # like df: used / (used + available), rounded up
        "used_percent": -(-100 * used // (used + available)) if used + available else 0,
        "inodes_total": st.f_files,
        "inodes_used_percent": round(100 * inodes_used / st.f_files, 1) if st.f_files else None,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


# ---- PostgreSQL data directory -----------------------------------------------------------


def _add_data_directory(layer: LayerOutput, path: Path) -> None:
    if not path.is_dir():
        layer.add(
            "postgres_data_directory",
            f"data directory {path} (reported by the server) is not on this machine; "
            "its size is in database/get_disk_usage.txt",
            {"path": str(path), "local": False},
        )
        return
    try:
        total, files, partial = directory_size(path)
        wal_total, wal_files, _ = directory_size(path / "pg_wal")
    except OSError as exc:
        layer.error(f"postgres_data_directory: {exc}")
        return
    data = {
        "path": str(path),
        "local": True,
        "size_bytes": total,
        "files": files,
        "pg_wal_bytes": wal_total,
        "pg_wal_files": wal_files,
        "partial": partial,
    }
    text = (
        f"data directory {path}: {human_size(total)} in {files} files"
        f"{' (partial: too many files)' if partial else ''}\n"
        f"pg_wal: {human_size(wal_total)} in {wal_files} files"
    )
    layer.add("postgres_data_directory", text, data)


def directory_size(path: Path, limit: int = WALK_LIMIT) -> tuple[int, int, bool]:
    """(bytes, files, partial) under `path`, not following symlinks, bounded by `limit` files."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue  # removed while we walked (e.g. a recycled WAL segment)
            files += 1
            if files >= limit:
                return total, files, True
    return total, files, False
