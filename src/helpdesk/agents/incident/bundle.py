"""Create and list incident bundles: `incident-<id>-<timestamp>.tar.gz` in the incident dir.

A bundle holds `manifest.json` and one folder per layer (database, kubernetes, os,
storage). A layer that cannot be collected is recorded in the manifest, never fatal.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tarfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpdesk import __version__
from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.incident.archive import (
    MANIFEST,
    read_manifest,
    render_files,
    utc_iso,
    utc_stamp,
    write_bundle,
)
from helpdesk.agents.incident.callback import post_result
from helpdesk.agents.incident.collect_database import collect_database
from helpdesk.agents.incident.collect_kubernetes import collect_kubernetes, kubeconfig_available
from helpdesk.agents.incident.collect_os import collect_os
from helpdesk.agents.incident.collect_storage import collect_storage
from helpdesk.agents.incident.layer import LayerOutput, human_size, skipped_layer
from helpdesk.agents.incident.redact import Redactor, secrets_of
from helpdesk.dsn import mask
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

ENV_VAR = "HELPDESK_INCIDENT_DIR"
DEFAULT_DIR = "~/.helpdesk/incidents"
LAYERS = ("database", "kubernetes", "os", "storage")
DESCRIPTION_LIMIT = 2000
_BUNDLE_NAME = re.compile(r"^incident-(?P<id>[0-9a-f]+)-(?P<stamp>\d{8}T\d{6}Z)\.tar\.gz$")


def incident_dir(directory: str | Path | None = None) -> Path:
    """Where bundles go: `directory`, else $HELPDESK_INCIDENT_DIR, else ~/.helpdesk/incidents."""
    chosen = directory or os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(chosen).expanduser()


@dataclass
class BundleResult:
    """What `create_incident_bundle` made: where, what it holds, what failed."""

    id: str
    path: str
    time: str
    description: str
    layers: list[str]
    skipped: dict[str, str]
    errors: list[dict[str, str]]
    size: int
    files: list[str]
    callback: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def callback_payload(self) -> dict[str, Any]:
        keep = ("id", "path", "time", "description", "layers", "skipped", "errors", "size")
        return {k: getattr(self, k) for k in keep}

    def summary(self) -> str:
        lines = [
            f"Incident bundle {self.id} written to {self.path} ({human_size(self.size)}, "
            f"{len(self.files)} files).",
            f"Layers collected: {', '.join(self.layers) or 'none'}.",
        ]
        lines += [f"Skipped {layer}: {reason}." for layer, reason in self.skipped.items()]
        if self.errors:
            lines.append(f"Errors ({len(self.errors)}):")
            lines += [f"- {e['layer']}: {e['error']}" for e in self.errors]
        if self.callback is not None:
            cb = self.callback
            state = f"HTTP {cb['status']}" if cb["ok"] else f"failed ({cb['error']})"
            lines.append(f"Callback to {cb['url']}: {state}.")
        return "\n".join(lines)


@dataclass
class IncidentSummary:
    """One bundle in the incident dir, as `list_incidents` reports it."""

    id: str
    time: str
    description: str
    size: int
    path: str
    layers: list[str] = field(default_factory=list)
    errors: int = 0
    unreadable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_incident_bundle(
    connection_string: str | None = None,
    kube_context: str | None = None,
    namespace: str | None = None,
    description: str = "",
    callback_url: str | None = None,
    *,
    directory: str | Path | None = None,
    database_tools: ToolRegistry | None = None,
    kube_tools: ToolRegistry | None = None,
) -> BundleResult:
    """Collect every layer, write the bundle, optionally POST the result to `callback_url`.

    `database_tools` / `kube_tools` replace the agents' default registries (another
    cluster or kubeconfig, tests). Raises OSError only when the bundle cannot be written.
    """
    started = time.time()
    bundle_id = uuid.uuid4().hex[:12]
    redactor = Redactor(secrets_of(connection_string))
    layers = _collect(connection_string, kube_context, namespace, database_tools, kube_tools)
    name = f"incident-{bundle_id}-{utc_stamp(started)}"
    target = incident_dir(directory) / f"{name}.tar.gz"
    manifest = _manifest(bundle_id, started, description, connection_string, layers)
    manifest["targets"]["kube_context"] = kube_context
    manifest["targets"]["namespace"] = namespace
    manifest = redactor.data(manifest)
    texts = {p: t for layer in layers for p, t in layer.texts.items()}
    documents: dict[str, Any] = {p: d for layer in layers for p, d in layer.documents.items()}
    documents[MANIFEST] = manifest
    files = render_files(texts, documents, redactor)
    size = write_bundle(target, name, files, started)
    result = BundleResult(
        id=bundle_id,
        path=str(target),
        time=manifest["time"],
        description=manifest["description"],
        layers=manifest["layers"],
        skipped=manifest["skipped"],
        errors=manifest["errors"],
        size=size,
        files=sorted(files),
    )
    log.info(
        "incident bundle written",
        extra=fields(id=bundle_id, path=str(target), size=size, errors=len(result.errors)),
    )
    if callback_url:
        result.callback = post_result(callback_url, redactor.data(result.callback_payload()))
    return result


def _collect(
    connection_string: str | None,
    kube_context: str | None,
    namespace: str | None,
    database_tools: ToolRegistry | None,
    kube_tools: ToolRegistry | None,
) -> list[LayerOutput]:
    if connection_string and connection_string.strip():
        database = collect_database(connection_string.strip(), database_tools)
    else:
        database = skipped_layer("database", "no connection string given")
    if kube_context or namespace or kube_tools is not None or kubeconfig_available():
        kubernetes = collect_kubernetes(kube_context, namespace, kube_tools)
    else:
        kubernetes = skipped_layer("kubernetes", "no kube context given and no kubeconfig found")
    storage = collect_storage(database.facts.get("data_directory"))
    return [database, kubernetes, collect_os(), storage]


def _manifest(
    bundle_id: str,
    started: float,
    description: str,
    connection_string: str | None,
    layers: list[LayerOutput],
) -> dict[str, Any]:
    return {
        "id": bundle_id,
        "description": mask(description.strip())[:DESCRIPTION_LIMIT],
        "time": utc_iso(started),
        "created_by": f"helpdesk incident_agent {__version__}",
        "host": socket.gethostname(),
        "targets": {"database": mask(connection_string) if connection_string else None},
        "layers": [layer.name for layer in layers if layer.collected],
        "skipped": {layer.name: layer.skipped for layer in layers if layer.skipped},
        "errors": [{"layer": layer.name, "error": e} for layer in layers for e in layer.errors],
        "files": {layer.name: layer.files for layer in layers if layer.files},
        "duration_ms": int((time.time() - started) * 1000),
    }


def list_incidents(directory: str | Path | None = None) -> list[IncidentSummary]:
    """Bundles in the incident dir, newest first; an unreadable one is listed as such."""
    folder = incident_dir(directory)
    if not folder.is_dir():
        return []
    found = [_summary(p) for p in folder.iterdir() if _BUNDLE_NAME.match(p.name) and p.is_file()]
    return sorted(found, key=lambda s: (s.time, s.id), reverse=True)


def _summary(path: Path) -> IncidentSummary:
    match = _BUNDLE_NAME.match(path.name)
    assert match is not None
    size = path.stat().st_size
    try:
        manifest = read_manifest(path)
    except (OSError, tarfile.TarError, ValueError, EOFError) as exc:
        stamp = match["stamp"]
        when = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
        return IncidentSummary(match["id"], when, "", size, str(path), unreadable=str(exc))
    return IncidentSummary(
        id=str(manifest.get("id", match["id"])),
        time=str(manifest.get("time", "")),
        description=str(manifest.get("description", "")),
        size=size,
        path=str(path),
        layers=list(manifest.get("layers", [])),
        errors=len(manifest.get("errors", [])),
    )
