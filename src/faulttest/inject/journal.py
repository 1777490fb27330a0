"""The injection journal: what is currently injected where, so it can always be undone.

`$FAULTTEST_HOME/journal.json`, rewritten atomically (temp file + rename) under an
exclusive file lock. An entry is written *before* the first inject action runs and
updated after each one (holder pids, stopped servers, changed settings, config
overrides), so `faulttest teardown --all` can undo a crashed or SIGKILLed injection.

Passwords are never journaled. The target is stored as a reference: the lab's home
(its state file knows the password), or a masked DSN whose password comes back at
teardown time from --conn, FAULTTEST_CONN or the infrastructure config.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

FILE_NAME = "journal.json"


class HolderRecord(BaseModel):
    """A detached holder process that keeps a fault's background sessions alive."""

    pid: int
    node: str
    started: float = 0.0  # process start time (clock ticks since boot), guards pid reuse
    log: str = ""


class KubeProxyRecord(BaseModel):
    """A detached local TCP proxy forwarding to a Service (a compound fault's port-forward)."""

    pid: int
    port: int
    service: str
    log: str = ""


class KubeRecord(BaseModel):
    """Where a Kubernetes fault went and what it applied (`apiVersion|Kind|name` refs)."""

    context: str
    namespace: str
    kubeconfig: str | None = None
    applied: list[str] = Field(default_factory=list)
    proxies: list[KubeProxyRecord] = Field(default_factory=list)


class JournalEntry(BaseModel):
    failure_id: str
    failure_name: str = ""
    catalog_source: str = ""
    target_key: str
    target: dict[str, Any]
    state: str = "injecting"  # injecting | injected | tearing_down | dirty
    injected_at: float = Field(default_factory=time.time)
    holders: list[HolderRecord] = Field(default_factory=list)
    stopped_nodes: list[str] = Field(default_factory=list)
    changed_settings: dict[str, list[str]] = Field(default_factory=dict)  # node -> keys
    config_override_keys: list[str] = Field(default_factory=list)
    safety_override: bool = False
    kube: KubeRecord | None = None
    note: str = ""


class JournalFile(BaseModel):
    version: int = 1
    injections: list[JournalEntry] = Field(default_factory=list)


class Journal:
    """Read-modify-write access to journal.json in one FAULTTEST_HOME."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / FILE_NAME

    @contextlib.contextmanager
    def _locked(self) -> Iterator[JournalFile]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / (FILE_NAME + ".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                self._write(data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> JournalFile:
        try:
            return JournalFile.model_validate(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return JournalFile()

    def _write(self, data: JournalFile) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.home, prefix=".journal-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(data.model_dump_json(indent=2))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def entries(self) -> list[JournalEntry]:
        return list(self._read().injections)

    def find(self, failure_id: str, target_key: str | None = None) -> JournalEntry | None:
        for entry in self.entries():
            if entry.failure_id == failure_id and target_key in (None, entry.target_key):
                return entry
        return None

    def save(self, entry: JournalEntry) -> None:
        """Insert or replace the entry for (failure_id, target_key)."""
        with self._locked() as data:
            data.injections = [e for e in data.injections if not _same(e, entry)]
            data.injections.append(entry)

    def remove(self, entry: JournalEntry) -> None:
        with self._locked() as data:
            data.injections = [e for e in data.injections if not _same(e, entry)]


def _same(a: JournalEntry, b: JournalEntry) -> bool:
    return a.failure_id == b.failure_id and a.target_key == b.target_key
