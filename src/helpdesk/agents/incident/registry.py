"""The incident agent's tools: `create_incident_bundle` and `list_incidents` with JSON schemas.

Tools are bound to one incident directory and (optionally) to the database and Kubernetes
tool registries to collect with, so the service and tests can point them anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpdesk.agents.base import Tool, ToolError, ToolOutput, ToolRegistry
from helpdesk.agents.incident.archive import BundleLeak
from helpdesk.agents.incident.bundle import (
    create_incident_bundle,
    incident_dir,
    list_incidents,
)
from helpdesk.agents.incident.layer import human_size

AGENT_NAME = "incident_agent"


@dataclass
class IncidentTools:
    """Where bundles go and which agent tools collect them (None = the defaults)."""

    directory: str | Path | None = None
    database_tools: ToolRegistry | None = None
    kube_tools: ToolRegistry | None = None

    def create_bundle(
        self,
        connection_string: str = "",
        kube_context: str = "",
        namespace: str = "",
        description: str = "",
        callback_url: str = "",
    ) -> ToolOutput:
        try:
            result = create_incident_bundle(
                connection_string or None,
                kube_context or None,
                namespace or None,
                description,
                callback_url or None,
                directory=self.directory,
                database_tools=self.database_tools,
                kube_tools=self.kube_tools,
            )
        except (OSError, BundleLeak) as exc:
            raise ToolError(f"the incident bundle could not be written: {exc}") from None
        return ToolOutput(text=result.summary(), data=result.to_dict())

    def list_bundles(self, limit: int = 50) -> ToolOutput:
        try:
            found = list_incidents(self.directory)
        except OSError as exc:
            raise ToolError(f"cannot read the incident directory: {exc}") from None
        folder = incident_dir(self.directory)
        if not found:
            return ToolOutput(text=f"no incident bundles in {folder}", data=[])
        lines = [f"{len(found)} incident bundle(s) in {folder}, newest first:"]
        for s in found[:limit]:
            state = f"unreadable: {s.unreadable}" if s.unreadable else ", ".join(s.layers)
            lines.append(
                f"- {s.id}  {s.time}  {human_size(s.size)}  {s.path}  [{state}]"
                f"{f'  errors: {s.errors}' if s.errors else ''}  {s.description[:100]}"
            )
        return ToolOutput(text="\n".join(lines), data=[s.to_dict() for s in found[:limit]])


def _str(description: str) -> dict[str, str]:
    return {"type": "string", "description": description, "default": ""}


CREATE_PARAMETERS = {
    "type": "object",
    "properties": {
        "connection_string": _str(
            "PostgreSQL connection string or infrastructure alias; empty = no database layer"
        ),
        "kube_context": _str("kubeconfig context or cluster alias; empty = the current context"),
        "namespace": _str("Kubernetes namespace; empty = the context's default"),
        "description": _str("what happened, in the person's words"),
        "callback_url": _str("http(s) URL that receives the result as a JSON POST"),
    },
    "required": [],
    "additionalProperties": False,
}
LIST_PARAMETERS = {
    "type": "object",
    "properties": {
        "limit": {
            "type": "integer",
            "description": "maximum bundles listed",
            "default": 50,
            "minimum": 1,
            "maximum": 1000,
        }
    },
    "required": [],
    "additionalProperties": False,
}


def build_registry(tools: IncidentTools | None = None) -> ToolRegistry:
    """A fresh registry with the incident tools bound to `tools` (default: env settings)."""
    tools = tools or IncidentTools()
    registry = ToolRegistry(agent=AGENT_NAME)
    registry.add(
        Tool(
            name="create_incident_bundle",
            description=(
                "Collect an incident bundle (tar.gz): manifest.json, database/ (every read-only "
                "database-agent tool's output), kubernetes/ (pods, events, services, endpoints, "
                "nodes, PVCs, workloads), os/ (system, memory, top processes) and storage/ "
                "(filesystems, PostgreSQL data directory) of this machine; passwords masked. "
                "Layers that cannot be collected are recorded, not fatal."
            ),
            parameters=CREATE_PARAMETERS,
            func=tools.create_bundle,
        )
    )
    registry.add(
        Tool(
            name="list_incidents",
            description="List the incident bundles in the incident directory (id, time, "
            "description, size, path, layers), newest first.",
            parameters=LIST_PARAMETERS,
            func=tools.list_bundles,
        )
    )
    return registry
