"""`IncidentAgent`: the incident_agent, a collector of incident bundles (not a diagnostician).

It reads where to look from the message, writes the bundle and says where it is and what
it holds; its answers carry no diagnosis, and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.incident.registry import AGENT_NAME, IncidentTools, build_registry
from helpdesk.agents.incident.request import IncidentRequest, parse_incident_request
from helpdesk.result import AgentResult, ModelInfo, ToolCall

DESCRIPTION = (
    "Incident collector: writes incident bundles (tar.gz with a manifest and the database, "
    "Kubernetes, OS and storage diagnostics of a target, passwords masked) and lists them."
)
NOT_A_DIAGNOSIS = (
    "I am a collector, not a diagnostician: this answer carries no diagnosis. Ask the "
    "database or Kubernetes agent to interpret what the bundle shows."
)
MODEL = ModelInfo(vendor="builtin", name="incident-collector")


class IncidentAgent:
    """The incident agent (implements `helpdesk.agents.base.Agent`)."""

    name = AGENT_NAME
    description = DESCRIPTION

    def __init__(
        self,
        tools: ToolRegistry | None = None,
        settings: IncidentTools | None = None,
        known_contexts: Callable[[], list[str]] | None = None,
    ) -> None:
        self.tools = tools or build_registry(settings)
        self._known_contexts = known_contexts or default_known_contexts

    def answer(self, message: str) -> AgentResult:
        request = parse_incident_request(message, self._safe_contexts())
        trace: list[ToolCall] = []
        if request.wants_list:
            output = self.tools.call("list_incidents", {}, trace)
            return AgentResult(text=output.text, tool_calls=trace, model=MODEL)
        output = self.tools.call("create_incident_bundle", bundle_args(request), trace)
        if not output.ok:
            text = f"I could not write the incident bundle: {output.text}"
        else:
            text = describe_bundle(output.data)
        return AgentResult(text=f"{text}\n\n{NOT_A_DIAGNOSIS}", tool_calls=trace, model=MODEL)

    def _safe_contexts(self) -> list[str]:
        try:
            return list(self._known_contexts())
        except Exception:  # no kubeconfig: contexts are then only found when marked
            return []


def bundle_args(request: IncidentRequest) -> dict[str, str]:
    args = {
        "connection_string": request.connection_string,
        "kube_context": request.kube_context,
        "namespace": request.namespace,
        "description": request.message.strip(),
        "callback_url": request.callback_url,
    }
    return {k: v for k, v in args.items() if v}


def describe_bundle(result: dict[str, Any]) -> str:
    """Where the bundle is and what each folder of it holds."""
    folders: dict[str, list[str]] = {}
    for path in result["files"]:
        parts = PurePosixPath(path).parts
        if len(parts) > 1:
            folders.setdefault(parts[0], []).append(PurePosixPath(*parts[1:]).stem)
    lines = [
        f"Incident bundle `{result['id']}` is ready: `{result['path']}` "
        f"({result['size']} bytes). It contains `manifest.json` and:"
    ]
    for folder, items in folders.items():
        lines.append(f"- `{folder}/`: {', '.join(sorted(set(items)))}")
    for layer, reason in result["skipped"].items():
        lines.append(f"- `{layer}/` not collected: {reason}")
    if result["errors"]:
        lines.append(f"\nProblems while collecting ({len(result['errors'])}):")
        lines += [f"- {e['layer']}: {e['error']}" for e in result["errors"]]
    callback = result.get("callback")
    if callback:
        state = f"HTTP {callback['status']}" if callback["ok"] else f"failed: {callback['error']}"
        lines.append(f"\nResult posted to {callback['url']}: {state}.")
    return "\n".join(lines)


def default_known_contexts() -> list[str]:
    """Context names of the kubeconfig and cluster aliases of the infrastructure config."""
    from helpdesk import infra
    from helpdesk.agents.k8s.client import KubeAccess

    config = infra.load()
    access = KubeAccess(infra=config)
    aliases = [c.name for c in config.k8s_clusters] if config else []
    return [*access.contexts(), *aliases]
