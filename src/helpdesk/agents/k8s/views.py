"""Plain summaries of Kubernetes objects (as API dicts) for tool output and the diagnostician.

Pure functions, no I/O: each takes an object as the API returns it (camelCase keys) and
keeps the facts a diagnosis needs — states, reasons, messages, counts, selectors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    return meta(obj).get("name", "")


def labels_of(obj: Obj) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(value: Any, now: datetime | None = None) -> str:
    """A kubectl-style age: 45s, 12m, 3h, 5d."""
    when = parse_time(value)
    if when is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def selector_text(selector: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items())) or "<none>"


def selects(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """Whether an equality selector (a Service's, or matchLabels) matches the labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


# ---- pods ------------------------------------------------------------------------------


def _state(state: Obj | None) -> Obj:
    """One container state as {state, reason, message, exit_code, ...}."""
    state = state or {}
    if "waiting" in state:
        w = state["waiting"] or {}
        return {"state": "waiting", "reason": w.get("reason"), "message": w.get("message")}
    if "terminated" in state:
        t = state["terminated"] or {}
        return {
            "state": "terminated",
            "reason": t.get("reason"),
            "message": t.get("message"),
            "exit_code": t.get("exitCode"),
            "signal": t.get("signal"),
            "started_at": t.get("startedAt"),
            "finished_at": t.get("finishedAt"),
        }
    if "running" in state:
        return {"state": "running", "started_at": (state["running"] or {}).get("startedAt")}
    return {}


def _resources(container: Obj) -> Obj:
    res = container.get("resources") or {}
    return {"requests": dict(res.get("requests") or {}), "limits": dict(res.get("limits") or {})}


def _config_refs(container: Obj) -> list[str]:
    """Secrets and ConfigMaps a container reads through env / envFrom."""
    refs: list[str] = []
    for env in container.get("env") or []:
        source = env.get("valueFrom") or {}
        for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            if source.get(key):
                refs.append(f"{kind}/{source[key].get('name')}")
    for env in container.get("envFrom") or []:
        for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            if env.get(key):
                refs.append(f"{kind}/{env[key].get('name')}")
    return sorted(set(refs))


def containers(pod: Obj) -> list[Obj]:
    """Spec and status of each (init and app) container, merged by name."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    statuses = {
        s.get("name"): s
        for s in (status.get("initContainerStatuses") or [])
        + (status.get("containerStatuses") or [])
    }
    out = []
    for init, group in (
        (True, spec.get("initContainers") or []),
        (False, spec.get("containers") or []),
    ):
        for c in group:
            s = statuses.get(c.get("name")) or {}
            out.append(
                {
                    "name": c.get("name"),
                    "init": init,
                    "image": c.get("image"),
                    "ready": bool(s.get("ready")),
                    "restarts": int(s.get("restartCount") or 0),
                    "current": _state(s.get("state")),
                    "last": _state(s.get("lastState")),
                    "resources": _resources(c),
                    "config_refs": _config_refs(c),
                    "probes": [
                        p for p in ("livenessProbe", "readinessProbe", "startupProbe") if c.get(p)
                    ],
                }
            )
    return out


def pod_status(pod: Obj) -> str:
    """The STATUS column kubectl shows: a waiting/terminated reason, else the phase."""
    if meta(pod).get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for c in containers(pod):
        reason = c["current"].get("reason")
        if c["init"] and reason and c["current"]["state"] == "waiting":
            return f"Init:{reason}"
    for c in containers(pod):
        stopped = c["current"].get("state") in ("waiting", "terminated")
        if not c["init"] and stopped and c["current"].get("reason"):
            return str(c["current"]["reason"])
    return status.get("reason") or status.get("phase") or "Unknown"


def pod_summary(pod: Obj) -> Obj:
    app = [c for c in containers(pod) if not c["init"]]
    status = pod.get("status") or {}
    owner: Obj = next(iter(meta(pod).get("ownerReferences") or []), {})
    return {
        "name": name_of(pod),
        "namespace": meta(pod).get("namespace"),
        "phase": status.get("phase"),
        "status": pod_status(pod),
        "ready": f"{sum(c['ready'] for c in app)}/{len(app)}",
        "restarts": sum(c["restarts"] for c in app),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "age": age(meta(pod).get("creationTimestamp")),
        "labels": labels_of(pod),
        "owner": f"{owner.get('kind')}/{owner.get('name')}" if owner else None,
    }


def pod_detail(pod: Obj) -> Obj:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    claims = [
        v["persistentVolumeClaim"].get("claimName")
        for v in spec.get("volumes") or []
        if v.get("persistentVolumeClaim")
    ]
    volume_refs = [
        f"{kind}/{(v.get(key) or {}).get(field)}"
        for v in spec.get("volumes") or []
        for key, kind, field in (
            ("secret", "Secret", "secretName"),
            ("configMap", "ConfigMap", "name"),
        )
        if v.get(key)
    ]
    return {
        **pod_summary(pod),
        "conditions": [
            {
                "type": c.get("type"),
                "status": c.get("status"),
                "reason": c.get("reason"),
                "message": c.get("message"),
            }
            for c in status.get("conditions") or []
        ],
        "containers": containers(pod),
        "pvcs": claims,
        "volume_refs": volume_refs,
        "service_account": spec.get("serviceAccountName"),
        "host_ip": status.get("hostIP"),
        "pod_ip": status.get("podIP"),
        "qos_class": status.get("qosClass"),
        "status_message": status.get("message"),
    }


# ---- events ----------------------------------------------------------------------------


def event_time(event: Obj) -> datetime | None:
    series = event.get("series") or {}
    return (
        parse_time(event.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(event.get("eventTime"))
        or parse_time(event.get("firstTimestamp"))
        or parse_time(meta(event).get("creationTimestamp"))
    )


def event_summary(event: Obj) -> Obj:
    obj = event.get("involvedObject") or event.get("regarding") or {}
    when = event_time(event)
    series = event.get("series") or {}
    return {
        "last_seen": when.isoformat() if when else None,
        "age": age(when),
        "type": event.get("type"),
        "reason": event.get("reason"),
        "kind": obj.get("kind"),
        "object": obj.get("name"),
        "field": obj.get("fieldPath"),
        "count": int(event.get("count") or series.get("count") or 1),
        "message": (event.get("message") or event.get("note") or "").strip(),
        "source": (event.get("source") or {}).get("component") or event.get("reportingComponent"),
    }


# ---- services and endpoints --------------------------------------------------------------


def service_summary(svc: Obj) -> Obj:
    spec = svc.get("spec") or {}
    return {
        "name": name_of(svc),
        "type": spec.get("type", "ClusterIP"),
        "cluster_ip": spec.get("clusterIP"),
        "selector": dict(spec.get("selector") or {}),
        "ports": [
            {
                "name": p.get("name"),
                "port": p.get("port"),
                "target_port": p.get("targetPort"),
                "protocol": p.get("protocol", "TCP"),
                "node_port": p.get("nodePort"),
            }
            for p in spec.get("ports") or []
        ],
        "age": age(meta(svc).get("creationTimestamp")),
    }


def ports_text(ports: list[Obj]) -> str:
    return ",".join(
        f"{p['port']}->{p['target_port']}/{p['protocol']}"
        if p.get("target_port")
        else f"{p['port']}/{p['protocol']}"
        for p in ports
    )


def endpoints_summary(ep: Obj) -> Obj:
    ready: list[str] = []
    not_ready: list[str] = []
    ports: set[str] = set()
    for subset in ep.get("subsets") or []:
        ports.update(
            f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in subset.get("ports") or []
        )
        for key, bucket in (("addresses", ready), ("notReadyAddresses", not_ready)):
            for a in subset.get(key) or []:
                target = (a.get("targetRef") or {}).get("name")
                bucket.append(f"{a.get('ip')}" + (f" ({target})" if target else ""))
    return {
        "name": name_of(ep),
        "ready_addresses": ready,
        "not_ready_addresses": not_ready,
        "ports": sorted(ports),
    }


# ---- nodes, storage, workloads -------------------------------------------------------------


def node_summary(node: Obj) -> Obj:
    status = node.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    ready = conditions.get("Ready", {})
    pressure = [t for t, c in conditions.items() if t != "Ready" and c.get("status") == "True"]
    taints = [
        f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
        for t in (node.get("spec") or {}).get("taints") or []
    ]
    return {
        "name": name_of(node),
        "ready": ready.get("status") == "True",
        "ready_reason": ready.get("reason"),
        "unschedulable": bool((node.get("spec") or {}).get("unschedulable")),
        "pressure": pressure,
        "taints": taints,
        "allocatable": dict(status.get("allocatable") or {}),
        "capacity": dict(status.get("capacity") or {}),
        "version": (status.get("nodeInfo") or {}).get("kubeletVersion"),
        "age": age(meta(node).get("creationTimestamp")),
    }


def pvc_summary(pvc: Obj) -> Obj:
    spec = pvc.get("spec") or {}
    status = pvc.get("status") or {}
    return {
        "name": name_of(pvc),
        "phase": status.get("phase"),
        "storage_class": spec.get("storageClassName"),
        "volume": spec.get("volumeName"),
        "requested": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
        "capacity": (status.get("capacity") or {}).get("storage"),
        "access_modes": list(spec.get("accessModes") or []),
        "age": age(meta(pvc).get("creationTimestamp")),
    }


def storage_class_summary(sc: Obj) -> Obj:
    annotations = meta(sc).get("annotations") or {}
    return {
        "name": name_of(sc),
        "provisioner": sc.get("provisioner"),
        "default": annotations.get("storageclass.kubernetes.io/is-default-class") == "true",
        "binding_mode": sc.get("volumeBindingMode"),
        "reclaim_policy": sc.get("reclaimPolicy"),
    }


def workload_summary(obj: Obj, kind: str) -> Obj:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    template = spec.get("template") or {}
    desired = spec.get("replicas")
    conditions = [
        {
            "type": c.get("type"),
            "status": c.get("status"),
            "reason": c.get("reason"),
            "message": c.get("message"),
        }
        for c in status.get("conditions") or []
    ]
    return {
        "kind": kind,
        "name": name_of(obj),
        "desired": 1 if desired is None else int(desired),
        "current": int(status.get("replicas") or 0),
        "ready": int(status.get("readyReplicas") or 0),
        "available": int(status.get("availableReplicas") or 0),
        "updated": int(status.get("updatedReplicas") or 0),
        "selector": dict((spec.get("selector") or {}).get("matchLabels") or {}),
        "template_labels": dict((template.get("metadata") or {}).get("labels") or {}),
        "images": [c.get("image") for c in (template.get("spec") or {}).get("containers") or []],
        "conditions": conditions,
        "age": age(meta(obj).get("creationTimestamp")),
    }
