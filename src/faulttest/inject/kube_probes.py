"""The `kubernetes` probe: does the cluster show the fault's real symptom right now?

Conditions read what the kubelet, scheduler and endpoints controller write:
`waiting_reason=R` (a container waits with reason R), `last_terminated_reason=R` (its last
or current termination reason), `phase=P` (pod or PVC phase), `scheduled=False` (the
PodScheduled condition), `ready=True|False`, `endpoints=N` (ready endpoint addresses).
Pods are chosen by `name` or label `selector`; the probe holds when any chosen object matches.
"""

from __future__ import annotations

from typing import Any

from lightkube import ApiError

from faulttest.catalog.models import KubernetesProbe
from faulttest.errors import UsageError
from faulttest.targets import KubeCluster
from helpdesk.agents.k8s.client import KubeError, KubeSession

CONDITIONS = (
    "waiting_reason",
    "last_terminated_reason",
    "phase",
    "scheduled",
    "ready",
    "endpoints",
)


class ProbeError(UsageError):
    """A probe the catalog wrote wrongly (unknown condition or kind)."""


def parse_condition(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or key not in CONDITIONS:
        raise ProbeError(f"unknown condition {text!r}; use one of {', '.join(CONDITIONS)}=...")
    return key, value


def evaluate(probe: KubernetesProbe, cluster: KubeCluster) -> tuple[bool, str]:
    """(held, what was observed) for one probe."""
    key, wanted = parse_condition(probe.condition)
    namespace = probe.namespace or cluster.namespace
    if key == "endpoints" and not probe.name:
        raise ProbeError("an endpoints probe needs the Service `name`")
    try:  # `run` turns API, HTTP and transport failures into KubeError
        if key == "endpoints":
            count = cluster.access().run(
                cluster.context, namespace, lambda s: _endpoint_count(s, probe)
            )
            if count is None:
                return False, f"no Service {probe.name} in {namespace}"
            return count == int(wanted), f"Endpoints {probe.name}: {count} ready address(es)"
        objects = cluster.access().run(cluster.context, namespace, lambda s: _objects(s, probe))
    except (KubeError, OSError) as exc:
        return False, f"cannot read {probe.kind} in {namespace}: {exc}"
    what = f"{probe.kind} {probe.name or probe.selector}"
    if not objects:
        return False, f"no {what} in {namespace}"
    seen = sorted({v for obj in objects for v in _values(key, probe.kind, obj)})
    held = wanted in seen
    return held, f"{what}: {key} {', '.join(seen) or 'none'}"


def _objects(session: KubeSession, probe: KubernetesProbe) -> list[dict[str, Any]]:
    resource = _resource(probe.kind)
    if probe.name:
        try:
            return [session.get_object(resource, probe.name)]
        except ApiError as exc:
            if exc.status.code == 404:
                return []
            raise
    return session.list_objects(resource, labels=probe.selector or "")


def _resource(kind: str) -> Any:
    from lightkube.resources.apps_v1 import Deployment, StatefulSet
    from lightkube.resources.core_v1 import PersistentVolumeClaim, Pod, Service

    kinds = {
        "Pod": Pod,
        "PersistentVolumeClaim": PersistentVolumeClaim,
        "Service": Service,
        "Deployment": Deployment,
        "StatefulSet": StatefulSet,
    }
    if kind not in kinds:
        raise ProbeError(f"kubernetes probe kind {kind!r} is not supported ({', '.join(kinds)})")
    return kinds[kind]


def _endpoint_count(session: KubeSession, probe: KubernetesProbe) -> int | None:
    """Ready addresses of the Service's Endpoints; None when the Service does not exist."""
    from faulttest.inject.kubernetes import ready_endpoint_addresses

    assert probe.name is not None
    if not _objects(session, probe.model_copy(update={"kind": "Service"})):
        return None
    return len(ready_endpoint_addresses(session, probe.name))


def _values(key: str, kind: str, obj: dict[str, Any]) -> list[str]:
    status = obj.get("status") or {}
    if key == "phase":
        return [status.get("phase") or "Unknown"]
    if key in ("scheduled", "ready"):
        wanted = "PodScheduled" if key == "scheduled" else "Ready"
        found = [c.get("status") for c in status.get("conditions") or [] if c.get("type") == wanted]
        return [str(s) for s in found] or ["Unknown"]  # not yet looked at by the scheduler
    containers = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    values = []
    for container in containers:
        if key == "waiting_reason":
            values.append(((container.get("state") or {}).get("waiting") or {}).get("reason"))
        else:
            for state in (container.get("lastState"), container.get("state")):
                values.append(((state or {}).get("terminated") or {}).get("reason"))
    return [v for v in values if v]
