"""A toy controller + kubelet for the fake API server: turns applied objects into pods.

Registered as a `reactor` of `FakeKubeApi`. It plays, in a few lines each, what a real
cluster does with the fault manifests: a workload gets one pod that first reports
ContainerCreating and, after `delay` seconds, the state its template earns (a command that
exits → CrashLoopBackOff; a memory request in Ti → unschedulable; an image tag that does
not exist → ImagePullBackOff; a 10Mi limit → OOMKilled; a claim of a missing
StorageClass → Pending). Services get Endpoints from the ready pods they select.
Server-side apply by a single manager replaces that manager's fields; the fake merges,
so the controller stores the applied spec as it is (what SSA would leave).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi, Request, labels_match

Obj = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet")


@dataclass
class ToyController:
    delay: float = 0.3
    # Service name -> (pod IP, port) its endpoints name: lets a test route a Service to a
    # real local server (e.g. the lab PostgreSQL) through the port-forward
    routes: dict[str, tuple[str, int]] = field(default_factory=dict)
    storage_classes: tuple[str, ...] = ("standard",)
    _timers: list[threading.Timer] = field(default_factory=list)
    _templates: dict[tuple[str, str], Obj] = field(default_factory=dict)

    def __call__(self, api: FakeKubeApi, request: Request, stored: Obj | None) -> None:
        with api._lock:  # noqa: SLF001 - the fake's own lock; the reactor runs outside it
            if stored is not None and request.is_apply:
                stored = self._as_applied(api, request, stored)
            kind = (stored or {}).get("kind") or _kind_from_path(request.path)
            namespace = _namespace_from_path(request.path)
            if request.method == "DELETE":
                self._deleted(api, kind, namespace, request.path.rsplit("/", 1)[-1])
            elif kind in WORKLOADS and stored is not None:
                self._roll_out(api, stored)
            elif kind == "PersistentVolumeClaim" and stored is not None:
                bound = stored["spec"].get("storageClassName") in self.storage_classes
                stored["status"] = {"phase": "Bound" if bound else "Pending"}
            self.sync_endpoints(api, namespace)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()

    # ── objects ──
    @staticmethod
    def _as_applied(api: FakeKubeApi, request: Request, stored: Obj) -> Obj:
        stored["spec"] = copy.deepcopy(request.body.get("spec", stored.get("spec")))
        if "data" in request.body:
            stored["data"] = copy.deepcopy(request.body["data"])
        meta = stored["metadata"]
        meta["generation"] = int(meta.get("generation") or 0) + 1
        return stored

    def _roll_out(self, api: FakeKubeApi, workload: Obj) -> None:
        """A new template replaces the pod; but like a real StatefulSet (OrderedReady), a
        broken pod is not replaced by itself: someone has to delete it."""
        namespace, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
        template = workload["spec"]["template"]
        changed = self._templates.get((namespace, name)) != template
        self._templates[(namespace, name)] = copy.deepcopy(template)
        pods = self._pods_of(api, workload)
        stuck = workload["kind"] == "StatefulSet" and any(not _ready(p) for p in pods)
        if (pods and not changed) or stuck:
            self._set_status(api, workload, ready=sum(1 for p in pods if _ready(p)))
            return
        for pod in pods:
            api.objects.pop(("v1", "pods", namespace, pod["metadata"]["name"]), None)
        self._new_pod(api, workload)

    def _new_pod(self, api: FakeKubeApi, workload: Obj) -> None:
        name, namespace = workload["metadata"]["name"], workload["metadata"]["namespace"]
        template = workload["spec"]["template"]
        labels = template["metadata"]["labels"]
        suffix = "0" if workload["kind"] == "StatefulSet" else f"x{int(time.time() * 1000) % 99999}"
        pod_name = f"{name}-{suffix}"
        containers = template["spec"]["containers"]
        creating = [
            ko.container_status(c, ko.waiting("ContainerCreating"), ready=False) for c in containers
        ]
        pod = ko.pod(
            pod_name,
            namespace,
            labels,
            containers,
            creating,
            phase="Pending",
            owner=(workload["kind"], name),
            volumes=template["spec"].get("volumes"),
            conditions=ko.ready_conditions(ready=False),
        )
        route = self.routes.get(name)
        if route:
            pod["status"]["podIP"] = route[0]
        api.add(pod)
        self._set_status(api, workload, ready=0)
        timer = threading.Timer(self.delay, self._settle, args=(api, workload, pod_name))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _settle(self, api: FakeKubeApi, workload: Obj, pod_name: str) -> None:
        """The scheduler and kubelet have acted: the pod shows what its spec earns."""
        with api._lock:  # noqa: SLF001
            namespace = workload["metadata"]["namespace"]
            pod = api.get("Pod", pod_name, namespace)
            current = api.get(workload["kind"], workload["metadata"]["name"], namespace, "apps/v1")
            if pod is None or current is None:
                return
            self._apply_verdict(api, pod, current)
            ready = pod["status"]["phase"] == "Running" and all(
                s["ready"] for s in pod["status"]["containerStatuses"]
            )
            self._set_status(api, current, ready=1 if ready else 0)
            self.sync_endpoints(api, namespace)

    def _apply_verdict(self, api: FakeKubeApi, pod: Obj, workload: Obj) -> None:
        spec = workload["spec"]["template"]["spec"]
        c = spec["containers"][0]
        memory = (c.get("resources") or {}).get("requests", {}).get("memory", "")
        limit = (c.get("resources") or {}).get("limits", {}).get("memory", "")
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes") or []
            if "persistentVolumeClaim" in v
        ]
        unbound = [
            n
            for n in claims
            if (api.get("PersistentVolumeClaim", n, pod["metadata"]["namespace"]) or {})
            .get("status", {})
            .get("phase")
            != "Bound"
        ]
        command = " ".join(c.get("command") or []) + " " + " ".join(c.get("args") or [])
        status = pod["status"]
        if memory.endswith("Ti") or unbound:
            why = (
                "0/3 nodes are available: 3 Insufficient memory."
                if memory.endswith("Ti")
                else "pod has unbound immediate PersistentVolumeClaims"
            )
            status.update(conditions=ko.unschedulable_conditions(why), phase="Pending")
            status.pop("containerStatuses", None)
            return
        if "nonexistent" in c["image"]:
            state, last = (
                ko.waiting("ImagePullBackOff", f'Back-off pulling image "{c["image"]}"'),
                None,
            )
        elif limit == "10Mi":
            state, last = ko.waiting("CrashLoopBackOff"), ko.terminated("OOMKilled", 137)
        elif "exit 1" in command or "shared_buffers=lots" in command:
            state, last = ko.waiting("CrashLoopBackOff"), ko.terminated("Error", 1)
        else:
            status["containerStatuses"] = [ko.container_status(c, ko.running(1), ready=True)]
            status.update(phase="Running", conditions=ko.ready_conditions(ready=True))
            return
        status["containerStatuses"] = [
            ko.container_status(c, state, last, restarts=3 if last else 0, ready=False)
        ]
        status.update(phase="Running" if last else "Pending")

    @staticmethod
    def _set_status(api: FakeKubeApi, workload: Obj, ready: int) -> None:
        generation = workload["metadata"].get("generation", 1)
        workload["status"] = {
            "observedGeneration": generation,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": ready,
        }

    @staticmethod
    def _pods_of(api: FakeKubeApi, workload: Obj) -> list[Obj]:
        name = workload["metadata"]["name"]
        return [
            p
            for p in api.list("Pod", workload["metadata"]["namespace"])
            if any(o["name"] == name for o in p["metadata"].get("ownerReferences") or [])
        ]

    def _deleted(self, api: FakeKubeApi, kind: str, namespace: str, name: str) -> None:
        if kind in WORKLOADS:  # garbage collection of the owned pods
            for pod in api.list("Pod", namespace):
                owners = pod["metadata"].get("ownerReferences") or []
                if any(o["kind"] == kind and o["name"] == name for o in owners):
                    api.objects.pop(("v1", "pods", namespace, pod["metadata"]["name"]), None)
        elif kind == "services":  # the endpoints controller drops the Service's Endpoints
            api.objects.pop(("v1", "endpoints", namespace, name), None)
        elif kind == "Pod":  # the workload controller replaces a deleted pod
            for workload in [
                *api.list("StatefulSet", namespace),
                *api.list("Deployment", namespace),
            ]:
                if name.startswith(workload["metadata"]["name"] + "-") and not self._pods_of(
                    api, workload
                ):
                    self._new_pod(api, workload)

    def sync_endpoints(self, api: FakeKubeApi, namespace: str) -> None:
        """The endpoints controller: ready pods a Service selects are its addresses."""
        for service in api.list("Service", namespace):
            selector = service["spec"].get("selector") or {}
            name = service["metadata"]["name"]
            text = ",".join(f"{k}={v}" for k, v in selector.items())
            pods = [p for p in api.list("Pod", namespace) if selector and labels_match(p, text)]
            ready = [p for p in pods if _ready(p)]
            route = self.routes.get(name)
            port = route[1] if route else 5432
            obj = ko.endpoints(
                name,
                namespace,
                ready=[
                    (p["status"].get("podIP", "10.0.0.1"), p["metadata"]["name"]) for p in ready
                ],
                not_ready=[
                    (p["status"].get("podIP", "10.0.0.1"), p["metadata"]["name"])
                    for p in pods
                    if p not in ready
                ],
                port=port,
            )
            for subset in obj.get("subsets", []):
                subset["ports"][0]["name"] = service["spec"]["ports"][0].get("name", "")
            api.add(obj)


def _ready(pod: Obj) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _kind_from_path(path: str) -> str:
    plural = [p for p in path.split("/") if p][-2]
    return {"deployments": "Deployment", "statefulsets": "StatefulSet", "pods": "Pod"}.get(
        plural, plural
    )


def _namespace_from_path(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[parts.index("namespaces") + 1] if "namespaces" in parts else ""
