"""The bundle file: a gzipped tar with one top folder, manifest.json first, written atomically.

Every file goes through the `Redactor` on its way in, and the archive is refused (and the
leaking file named) if a known password would still be in it.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import Any

from helpdesk.agents.incident.redact import Redactor

MANIFEST = "manifest.json"


class BundleLeak(RuntimeError):
    """A file would have carried a password into the bundle (a redaction bug)."""


def render_files(
    texts: dict[str, str], documents: dict[str, Any], redactor: Redactor
) -> dict[str, bytes]:
    """Relative path -> redacted bytes, for text files and JSON documents."""
    rendered = {path: redactor.text(text).encode() for path, text in texts.items()}
    for path, doc in documents.items():
        body = json.dumps(redactor.data(doc), indent=2, default=str, ensure_ascii=False)
        rendered[path] = (body + "\n").encode()
    for path, blob in rendered.items():
        if redactor.leaks(blob.decode(errors="replace")):
            raise BundleLeak(f"{path} still contains a password after masking; bundle not written")
    return rendered


def write_bundle(target: Path, top: str, files: dict[str, bytes], mtime: float) -> int:
    """Write `files` (manifest first) under `top/` into `target`; return its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    ordered = sorted(files, key=lambda p: (p != MANIFEST, p))
    try:
        with tarfile.open(partial, "w:gz") as tar:
            tar.addfile(_dir_info(top, mtime))
            for directory in sorted({str(Path(p).parent) for p in files} - {"."}):
                tar.addfile(_dir_info(f"{top}/{directory}", mtime))
            for path in ordered:
                info = tarfile.TarInfo(f"{top}/{path}")
                info.size, info.mtime, info.mode = len(files[path]), int(mtime), 0o600
                tar.addfile(info, io.BytesIO(files[path]))
        os.chmod(partial, 0o600)  # bundles hold operational detail: owner only
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def _dir_info(name: str, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o700, int(mtime)
    return info


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a bundle (raises OSError / tarfile.TarError / ValueError if unreadable)."""
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(f"/{MANIFEST}"):
                handle = tar.extractfile(member)
                if handle is None:
                    break
                manifest: dict[str, Any] = json.loads(handle.read())
                return manifest
    raise ValueError(f"{path.name} has no {MANIFEST}")


def members(path: Path) -> list[str]:
    with tarfile.open(path, "r:gz") as tar:
        return [m.name for m in tar.getmembers() if m.isfile()]


def utc_stamp(moment: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(moment))


def utc_iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
