"""The k8s agent's tool registry: every read-only Kubernetes tool with its JSON schema.

Tools are bound to one `KubeAccess` (kubeconfig + infrastructure aliases), so tests and
the service can point them at any cluster without touching the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from helpdesk.agents.base import Tool, ToolOutput, ToolRegistry
from helpdesk.agents.k8s import (
    tools_cluster,
    tools_events,
    tools_mutation,
    tools_pods,
    tools_services,
    tools_workloads,
)
from helpdesk.agents.k8s.client import KubeAccess

AGENT_NAME = "k8s_agent"

_CONTEXT = {
    "type": "string",
    "description": "kubeconfig context or a cluster alias from the infrastructure config; "
    "empty = the kubeconfig's current context",
    "default": "",
}
_NAMESPACE = {
    "type": "string",
    "description": "namespace; empty = the context's default namespace",
    "default": "",
}


def _int(description: str, default: int, maximum: int = 200) -> dict[str, Any]:
    return {
        "type": "integer",
        "description": description,
        "default": default,
        "minimum": 1,
        "maximum": maximum,
    }


def _str(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description, "default": ""}


def _params(
    required: tuple[str, ...] = (), namespaced: bool = True, **props: dict[str, Any]
) -> dict[str, Any]:
    scope = {"namespace": _NAMESPACE} if namespaced else {}
    return {
        "type": "object",
        "properties": {**props, **scope, "context": _CONTEXT},
        "required": list(required),
        "additionalProperties": False,
    }


_LIMIT = _int("maximum rows shown", 30)
_NAME = {"type": "string", "description": "object name"}

_TOOLS: tuple[tuple[str, str, dict[str, Any], Callable[..., ToolOutput]], ...] = (
    (
        "get_pods",
        "Pods in a namespace: kubectl-style status (e.g. CrashLoopBackOff, ImagePullBackOff, "
        "Pending), "
        "ready containers, restarts, node, age, owner.",
        _params(label_selector=_str("label selector, e.g. app=web"), limit=_LIMIT),
        tools_pods.get_pods,
    ),
    (
        "describe_pod",
        "One pod in depth: conditions; each container's image, current state (waiting reason and "
        "message), last termination (reason, exit code), restarts, resource requests/limits, "
        "Secrets/"
        "ConfigMaps it reads, probes; its node, volumes and recent events.",
        _params(("name",), name=_NAME, events=_int("maximum events shown", 10, 50)),
        tools_pods.describe_pod,
    ),
    (
        "get_pod_logs",
        "The last lines of a pod's log; previous=true reads the last terminated container instance "
        "(why a crash-looping container died).",
        _params(
            ("name",),
            name=_NAME,
            container=_str("container name (needed when the pod has several)"),
            previous={
                "type": "boolean",
                "description": "the previous instance's log",
                "default": False,
            },
            tail=_int("number of lines from the end", 50, 500),
        ),
        tools_pods.get_pod_logs,
    ),
    (
        "get_events",
        "Events in a namespace, newest first, optionally only for one object (kind and/or name) or "
        "only warnings: FailedScheduling, BackOff, Unhealthy, Failed, ProvisioningFailed, ...",
        _params(
            kind=_str("involved object kind, e.g. Pod, PersistentVolumeClaim"),
            name=_str("involved object name"),
            warnings_only={
                "type": "boolean",
                "description": "only Warning events",
                "default": False,
            },
            limit=_LIMIT,
        ),
        tools_events.get_events,
    ),
    (
        "get_service",
        "Services (or one by name): type, cluster IP, ports, label selector.",
        _params(name=_str("service name; empty lists all"), limit=_LIMIT),
        tools_services.get_service,
    ),
    (
        "describe_service",
        "One service against its backends: selector, ports, ready/not-ready endpoint "
        "addresses, the "
        "pods its selector matches, and the other pods' labels when none match.",
        _params(("name",), name=_NAME),
        tools_services.describe_service,
    ),
    (
        "get_endpoints",
        "Endpoints (or one by name): ready and not-ready addresses with their pods, and ports.",
        _params(name=_str("endpoints (= service) name; empty lists all"), limit=_LIMIT),
        tools_services.get_endpoints,
    ),
    (
        "get_nodes",
        "Nodes: ready, allocatable cpu/memory/pods, pressure conditions, taints, cordoned.",
        _params(namespaced=False, limit=_LIMIT),
        tools_cluster.get_nodes,
    ),
    (
        "get_pvcs",
        "PersistentVolumeClaims in a namespace (phase, storage class and whether it exists, size, "
        "volume) and the cluster's storage classes.",
        _params(limit=_LIMIT),
        tools_cluster.get_pvcs,
    ),
    (
        "get_workloads",
        "Deployments and StatefulSets: desired, ready, available and updated replicas, selector, "
        "images, failing conditions; flags workloads scaled to zero.",
        _params(limit=_LIMIT),
        tools_workloads.get_workloads,
    ),
)


_KIND = {"type": "string", "enum": ["Deployment", "StatefulSet", "deployment", "statefulset"]}
_GUARD = (
    " Inspects first, runs only on clusters tagged test/chaos in the infrastructure config or "
    "with approval, and verifies the effect (docs/REMEDIATION.md)."
)

# Mutation tools (Tool.mutating): inspect, ask the approval policy, act, verify.
_MUTATIONS: tuple[tuple[str, str, dict[str, Any], Callable[..., ToolOutput]], ...] = (
    (
        "delete_pod",
        "Delete a pod that a controller (ReplicaSet, StatefulSet, ...) recreates, e.g. one stuck "
        "after its cause was fixed; a pod without a controller is refused." + _GUARD,
        _params(("name",), name=_NAME),
        tools_mutation.delete_pod,
    ),
    (
        "restart_workload",
        "Rolling restart of a Deployment or StatefulSet (like kubectl rollout restart)." + _GUARD,
        _params(("kind", "name"), kind=_KIND, name=_NAME),
        tools_mutation.restart_workload,
    ),
    (
        "scale_workload",
        "Set the replicas of a Deployment or StatefulSet (e.g. back up from zero)." + _GUARD,
        _params(
            ("kind", "name", "replicas"),
            kind=_KIND,
            name=_NAME,
            replicas={"type": "integer", "minimum": 0, "maximum": 1000},
        ),
        tools_mutation.scale_workload,
    ),
)


def build_registry(access: KubeAccess | None = None) -> ToolRegistry:
    """A fresh registry with every k8s tool bound to `access` (default: kubectl's kubeconfig)."""
    access = access or KubeAccess()
    registry = ToolRegistry(agent=AGENT_NAME)
    for name, description, parameters, func in _TOOLS:
        registry.add(
            Tool(
                name=name,
                description=description,
                parameters=parameters,
                func=partial(func, access),
            )
        )
    for name, description, parameters, func in _MUTATIONS:
        registry.add(
            Tool(
                name=name,
                description=description,
                parameters=parameters,
                func=partial(func, access),
                mutating=True,
            )
        )
    return registry
