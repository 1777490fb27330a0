"""The `kubernetes/` layer: pods, events, services, endpoints, nodes (and PVCs, workloads).

It uses the k8s agent's read-only tools on the given context and namespace. When the
first call fails (no kubeconfig, cluster unreachable) the rest are not tried.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.incident.layer import LayerOutput, first_line
from helpdesk.dsn import mask
from helpdesk.logfmt import fields

log = logging.getLogger(__name__)

LAYER = "kubernetes"

# (file name, tool, extra arguments); the first one doubles as the reachability probe.
ITEMS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("pods", "get_pods", {"limit": 200}),
    ("events", "get_events", {"limit": 200}),
    ("services", "get_service", {"limit": 200}),
    ("endpoints", "get_endpoints", {"limit": 200}),
    ("nodes", "get_nodes", {"limit": 200}),
    ("pvcs", "get_pvcs", {"limit": 200}),
    ("workloads", "get_workloads", {"limit": 200}),
)
CLUSTER_SCOPED = {"get_nodes"}


def collect_kubernetes(
    context: str | None, namespace: str | None, registry: ToolRegistry | None = None
) -> LayerOutput:
    layer = LayerOutput(name=LAYER)
    try:
        registry = registry or _k8s_registry()
    except Exception as exc:  # the k8s package, its client or the infra config is missing
        layer.error(f"the k8s agent's tools are not available: {mask(str(exc))}")
        return layer
    layer.facts.update(context=context or "(current context)", namespace=namespace or "(default)")
    for position, (item, tool, extra) in enumerate(ITEMS):
        if tool not in registry:
            layer.error(f"{item}: the k8s agent has no tool {tool!r}")
            continue
        args = {**extra, "context": context or ""}
        if tool not in CLUSTER_SCOPED:
            args["namespace"] = namespace or ""
        ok = _run(layer, registry, item, tool, args)
        if position == 0 and not ok:
            layer.error("the cluster could not be read; other Kubernetes objects not collected")
            break
    return layer


def _k8s_registry() -> ToolRegistry:
    from helpdesk import infra
    from helpdesk.agents.k8s.client import KubeAccess
    from helpdesk.agents.k8s.registry import build_registry

    return build_registry(KubeAccess(infra=infra.load()))


def _run(
    layer: LayerOutput, registry: ToolRegistry, item: str, tool: str, args: dict[str, Any]
) -> bool:
    try:
        output = registry.call(tool, args, trace=[])
    except Exception as exc:  # a tool bug must not cost the bundle
        log.warning("k8s tool failed", extra=fields(tool=tool, error=mask(str(exc))))
        layer.error(f"{item}: {type(exc).__name__}: {first_line(mask(str(exc)))}")
        return False
    layer.add_tool_output(item, output)
    return output.ok


def kubeconfig_available() -> bool:
    """Whether kubectl would find a cluster without being told: a kubeconfig or in-cluster."""
    env = os.environ.get("KUBECONFIG", "")
    paths = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    paths = paths or [Path("~/.kube/config").expanduser()]
    return any(p.is_file() for p in paths) or bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
