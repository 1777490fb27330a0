"""The incident agent: collects incident bundles (tar.gz of diagnostics) and lists them.

Public API: `create_incident_bundle`, `list_incidents`, `IncidentAgent`, `build_registry`.
"""

from helpdesk.agents.incident.bundle import (
    BundleResult,
    IncidentSummary,
    create_incident_bundle,
    incident_dir,
    list_incidents,
)

__all__ = [
    "BundleResult",
    "IncidentSummary",
    "create_incident_bundle",
    "incident_dir",
    "list_incidents",
]
