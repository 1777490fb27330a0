"""The `database/` layer: the output of every read-only database-agent tool for one DSN.

`check_connection` runs first; when the server cannot be reached the classified reason
is recorded and the other tools are not tried (each would fail the same way, slowly).
"""

from __future__ import annotations

import logging
from typing import Any

from helpdesk.agents.base import Tool, ToolRegistry
from helpdesk.agents.incident.layer import LayerOutput, first_line
from helpdesk.dsn import mask
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

LAYER = "database"
PROBE = "check_connection"


def collect_database(connection_string: str, registry: ToolRegistry | None = None) -> LayerOutput:
    layer = LayerOutput(name=LAYER)
    try:
        registry = registry or _database_registry()
    except ImportError as exc:
        layer.error(f"the database agent's tools are not available: {exc}")
        return layer
    tools = read_tools(registry)
    names = [t.name for t in tools]
    if PROBE in names:
        probe = _run(layer, registry, PROBE, connection_string)
        if probe is not None and not probe.get("ok", True):
            layer.error(f"cannot connect: {_reason(probe)}; other database tools not run")
            return layer
    for name in names:
        if name != PROBE:
            _run(layer, registry, name, connection_string)
    server = layer.documents.get(f"{LAYER}/get_database_info.json") or {}
    data_directory = (server.get("server") or {}).get("data_directory")
    if data_directory:
        layer.facts["data_directory"] = data_directory
    return layer


def read_tools(registry: ToolRegistry) -> list[Tool]:
    """Tools that only read and need nothing but a connection string."""
    return [
        t
        for t in registry
        if not t.mutating and set(t.parameters.get("required", [])) <= {"connection_string"}
    ]


def _database_registry() -> ToolRegistry:
    from helpdesk.agents.database.registry import build_registry

    return build_registry()


def _run(
    layer: LayerOutput, registry: ToolRegistry, name: str, connection_string: str
) -> dict[str, Any] | None:
    try:
        output = registry.call(name, {"connection_string": connection_string}, trace=[])
    except Exception as exc:  # a tool bug must not cost the bundle
        log.warning("database tool failed", extra=fields(tool=name, error=mask(str(exc))))
        layer.error(f"{name}: {type(exc).__name__}: {first_line(mask(str(exc)))}")
        return None
    layer.add_tool_output(name, output)
    return output.data if isinstance(output.data, dict) else None


def _reason(probe: dict[str, Any]) -> str:
    error = probe.get("error") or {}
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("kind", "explanation", "message") if error.get(k)]
        if parts:
            return mask(": ".join(parts))
    return "the connection check failed"
