"""The `kubernetes` action: apply manifests with server-side apply, restore the base, forward.

Objects go only into the cluster's fault namespace (helpdesk-test by default) of an approved
context (`safety.check_cluster`); what is applied is journaled as `apiVersion|Kind|name`,
so teardown (`restore_base`) re-applies the base, deletes every object the overlay added
and waits (bounded by the fault's timeout) until the base workloads are ready again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lightkube import ApiError, codecs
from lightkube.core.resource import NamespacedResource
from lightkube.core.resource_registry import resource_registry

from faulttest import safety
from faulttest.catalog.models import FailureMode, KubernetesAction
from faulttest.errors import InjectionFailed, SafetyRefusal, UsageError
from faulttest.inject import kube_forward
from faulttest.inject.context import Context
from faulttest.inject.journal import KubeRecord
from faulttest.targets import KubeCluster
from helpdesk.agents.k8s.client import KubeError, KubeSession

log = logging.getLogger(__name__)

UNSUPPORTED_REASON = "needs a Kubernetes context (--context or FAULTTEST_KUBE_CONTEXT)"
FIELD_MANAGER = "faulttest"
POLL_INTERVAL = 0.5
MANAGED_LABEL = {"app.kubernetes.io/managed-by": "faulttest"}


@dataclass(frozen=True)
class Manifest:
    """One object of a manifest file as lightkube loaded it (`obj`), or a journaled ref."""

    resource: Any  # the lightkube resource class
    kind: str
    name: str
    source: str
    obj: Any = None

    @classmethod
    def of(cls, obj: Any, source: str) -> Manifest:
        return cls(type(obj), obj.kind, obj.metadata.name, source, obj)

    @property
    def ref(self) -> str:
        return f"{self.api_version}|{self.kind}|{self.name}"

    @property
    def api_version(self) -> str:
        info = self.resource._api_info.resource  # noqa: SLF001 - lightkube's type metadata
        return f"{info.group}/{info.version}" if info.group else info.version

    @property
    def namespaced(self) -> bool:
        return issubclass(self.resource, NamespacedResource)


# ── entry points ─────────────────────────────────────────────────────────────


def run(action: KubernetesAction, ctx: Context) -> None:
    cluster = cluster_for(ctx)
    safety.check_namespace(cluster, action.namespace, f"action {action.action}")
    record = _record(ctx, cluster)
    runners: dict[str, Callable[[KubernetesAction, Context, KubeCluster, KubeRecord], None]] = {
        "apply": _apply,
        "delete": _delete,
        "restore_base": _restore_base,
        "port_forward": _port_forward,
    }
    _call(cluster, lambda: runners[action.action](action, ctx, cluster, record))


def preflight(failure: FailureMode, cluster: KubeCluster, override: bool = False) -> None:
    """Before anything is journaled or applied: the context is approved (else exit 3), and
    every action and manifest stays inside the fault namespace (else exit 3)."""
    if not cluster.approved:
        safety.check_cluster(cluster, safety.load_infra(None), override=override)
    for action in (*failure.inject, *failure.teardown):
        if isinstance(action, KubernetesAction):
            safety.check_namespace(cluster, action.namespace, f"action {action.action}")
            load_manifests(failure, action.manifests, cluster)


def cluster_for(ctx: Context) -> KubeCluster:
    """The approved cluster of this injection (the journal's, when tearing down)."""
    cluster = ctx.kube
    if cluster is None and ctx.entry.kube is not None:
        cluster = KubeCluster(
            context=ctx.entry.kube.context,
            namespace=ctx.entry.kube.namespace,
            kubeconfig=ctx.entry.kube.kubeconfig,
            approved=True,  # approved when it went in: undoing it is allowed
        )
        ctx.kube = cluster
    if cluster is None:
        raise UsageError(f"{ctx.failure.id} {UNSUPPORTED_REASON}")
    if not cluster.approved:
        infra = safety.load_infra(None)
        safety.check_cluster(cluster, infra, override=ctx.entry.safety_override)
    return cluster


def stop_forwards(ctx: Context) -> None:
    """End the fault's port-forward processes (journaled or found by command line)."""
    pids = {p.pid for p in ctx.entry.kube.proxies} if ctx.entry.kube else set()
    pids |= set(kube_forward.find(ctx.failure.id))
    for pid in sorted(pids):
        kube_forward.stop(pid, ctx.failure.id)
    if ctx.entry.kube:
        ctx.entry.kube.proxies = [
            p for p in ctx.entry.kube.proxies if kube_forward.alive(p.pid, ctx.failure.id)
        ]
        ctx.save()


def leftovers(ctx: Context) -> list[str]:
    """Overlay objects still present and forwards still running (empty when clean)."""
    left = [f"port-forward process {pid}" for pid in kube_forward.find(ctx.failure.id)]
    if ctx.kube is None and ctx.entry.kube is None:
        return left
    cluster = cluster_for(ctx)

    def still_there(session: KubeSession) -> list[str]:
        found = [f"{m.kind} {m.name}" for m in overlay_objects(ctx) if _exists(session, m)]
        return found + [f"base not ready: {p}" for p in base_problems(ctx, session)]

    try:  # `run` turns API, HTTP and transport failures into KubeError
        left += cluster.access().run(cluster.context, cluster.namespace, still_there)
    except KubeError as exc:
        left.append(f"cannot check the Kubernetes objects: {exc}")
    return left


# ── actions ──────────────────────────────────────────────────────────────────


def _apply(action: KubernetesAction, ctx: Context, cluster: KubeCluster, rec: KubeRecord) -> None:
    session = cluster.session()
    manifests = load_manifests(ctx.failure, action.manifests, cluster)
    ensure_namespace(session, cluster)
    for manifest in manifests:
        apply_object(session, manifest, cluster)
        if manifest.ref not in rec.applied:
            rec.applied.append(manifest.ref)
            ctx.save()


def _delete(action: KubernetesAction, ctx: Context, cluster: KubeCluster, rec: KubeRecord) -> None:
    session = cluster.session()
    manifests = load_manifests(ctx.failure, action.manifests, cluster)
    for manifest in manifests:
        delete_object(session, manifest, cluster)
    if action.wait:
        _wait_gone(session, manifests, ctx.failure.timeout)


def _restore_base(
    action: KubernetesAction, ctx: Context, cluster: KubeCluster, rec: KubeRecord
) -> None:
    """Re-apply the base, delete what the overlay added, replace stuck pods, wait ready."""
    stop_forwards(ctx)
    session = cluster.session()
    base = load_manifests(ctx.failure, action.manifests, cluster)
    ensure_namespace(session, cluster)
    for manifest in base:
        apply_object(session, manifest, cluster)
    extra = overlay_objects(ctx, base)
    for manifest in extra:
        delete_object(session, manifest, cluster)
    if not action.wait:
        return
    deadline = time.monotonic() + ctx.failure.timeout
    _wait_gone(session, extra, ctx.failure.timeout)
    _replace_stuck_pods(session, base)
    problems = _wait_ready(session, base, deadline)
    if problems:
        raise InjectionFailed(
            f"{ctx.failure.id}: the base in namespace {cluster.namespace} is not ready after"
            f" {ctx.failure.timeout:g}s: {'; '.join(problems)}"
        )
    rec.applied = [r for r in rec.applied if r in {m.ref for m in base}]
    ctx.save()


def _port_forward(
    action: KubernetesAction, ctx: Context, cluster: KubeCluster, rec: KubeRecord
) -> None:
    assert action.service and action.port  # the model validates this
    proxy = kube_forward.start(ctx.failure.id, cluster, action.service, action.port, ctx.home)
    rec.proxies.append(proxy)
    ctx.overrides.update({"host": "127.0.0.1", "port": str(proxy.port)})
    ctx.save()


# ── manifests and objects ────────────────────────────────────────────────────


def load_manifests(
    failure: FailureMode, paths: list[str], cluster: KubeCluster, *, skip_foreign: bool = False
) -> list[Manifest]:
    """Every object of the files, each checked to stay inside the fault namespace (an object
    outside it is refused, or with `skip_foreign` left out: it was never applied)."""
    found: list[Manifest] = []
    for path in paths:
        file = failure.resolve_path(path)
        try:
            objects = codecs.load_all_yaml(file.read_text())
        except OSError as exc:
            raise UsageError(f"{failure.id}: cannot read manifest {file}: {exc.strerror}") from None
        except Exception as exc:  # lightkube raises LoadResourceError and YAML errors
            raise UsageError(f"{failure.id}: manifest {file} does not load: {exc}") from None
        for obj in objects:
            manifest = Manifest.of(obj, str(file))
            try:
                _check_scope(manifest, cluster)
            except SafetyRefusal:
                if not skip_foreign:
                    raise
                continue
            found.append(manifest)
    return found


def _check_scope(manifest: Manifest, cluster: KubeCluster) -> None:
    what = f"{manifest.kind} {manifest.name} in {manifest.source}"
    if manifest.namespaced:
        safety.check_namespace(cluster, manifest.obj.metadata.namespace, what)
    elif not (manifest.kind == "Namespace" and manifest.name == cluster.namespace):
        safety.check_namespace(cluster, f"(cluster-scoped {manifest.kind})", what)


def overlay_objects(ctx: Context, base: list[Manifest] | None = None) -> list[Manifest]:
    """What the fault applies beyond its base: the inject manifests' and the journal's objects."""
    cluster = cluster_for(ctx)
    base_paths = {
        p
        for a in ctx.failure.teardown
        if _is_restore(a)
        for p in a.manifests  # type: ignore[union-attr]
    }
    if base is None:
        base = load_manifests(ctx.failure, sorted(base_paths), cluster)
    base_refs = {m.ref for m in base}
    candidates: dict[str, Manifest] = {}
    for action in ctx.failure.inject:
        if isinstance(action, KubernetesAction) and action.action == "apply":
            if action.namespace not in (None, cluster.namespace):
                continue  # refused before anything was applied
            for manifest in load_manifests(
                ctx.failure, action.manifests, cluster, skip_foreign=True
            ):
                candidates.setdefault(manifest.ref, manifest)
    for ref in ctx.entry.kube.applied if ctx.entry.kube else []:
        candidates.setdefault(ref, _from_ref(ref))
    return [m for ref, m in candidates.items() if ref not in base_refs]


def _is_restore(action: object) -> bool:
    return isinstance(action, KubernetesAction) and action.action == "restore_base"


def _from_ref(ref: str) -> Manifest:
    api_version, kind, name = ref.split("|", 2)
    return Manifest(resource_registry.load(api_version, kind), kind, name, "the journal")


def ensure_namespace(session: KubeSession, cluster: KubeCluster) -> None:
    namespace = codecs.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": cluster.namespace, "labels": dict(MANAGED_LABEL)},
        }
    )
    session.client.apply(namespace, field_manager=FIELD_MANAGER, force=True)


def apply_object(session: KubeSession, manifest: Manifest, cluster: KubeCluster) -> None:
    namespace = cluster.namespace if manifest.namespaced else None
    if manifest.namespaced:
        manifest.obj.metadata.namespace = cluster.namespace
    log.info("apply %s %s", manifest.kind, manifest.name)
    client: Any = session.client  # lightkube's overloads do not know a loaded manifest's type
    client.apply(manifest.obj, namespace=namespace, field_manager=FIELD_MANAGER, force=True)


def delete_object(session: KubeSession, manifest: Manifest, cluster: KubeCluster) -> None:
    if not manifest.namespaced:
        return  # only the fault namespace's objects are ever deleted
    try:
        session.client.delete(manifest.resource, manifest.name, namespace=cluster.namespace)
        log.info("deleted %s %s", manifest.kind, manifest.name)
    except ApiError as exc:
        if exc.status.code != 404:
            raise


def _exists(session: KubeSession, manifest: Manifest) -> bool:
    try:
        session.client.get(manifest.resource, manifest.name, namespace=session.namespace)
    except ApiError as exc:
        if exc.status.code == 404:
            return False
        raise
    return True


# ── waiting ──────────────────────────────────────────────────────────────────


def _wait_gone(session: KubeSession, manifests: list[Manifest], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = [m for m in manifests if m.namespaced]
    while pending and time.monotonic() < deadline:
        pending = [m for m in pending if _exists(session, m)]
        if pending:
            time.sleep(POLL_INTERVAL)


def _workloads(base: list[Manifest]) -> list[Manifest]:
    return [m for m in base if m.kind in ("StatefulSet", "Deployment") and m.obj is not None]


def _replace_stuck_pods(session: KubeSession, base: list[Manifest]) -> None:
    """Delete the base workloads' broken pods: a StatefulSet does not replace a crashing
    pod by itself after its template is fixed (it waits for it to become ready first)."""
    from lightkube.resources.core_v1 import Pod

    for workload in _workloads(base):
        labels = workload.obj.spec.selector.matchLabels or {}
        for pod in session.list_objects(
            Pod, labels=",".join(f"{k}={v}" for k, v in labels.items())
        ):
            if _stuck(pod):
                session.client.delete(Pod, pod["metadata"]["name"], namespace=session.namespace)


STUCK_REASONS = {
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
    "CreateContainerError", "RunContainerError", "InvalidImageName",
}  # fmt: skip


def _stuck(pod: dict[str, Any]) -> bool:
    """A pod that will not become ready by itself (a starting pod is left alone)."""
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    if any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in conditions):
        return True
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        if ((state.get("waiting") or {}).get("reason") in STUCK_REASONS) or "terminated" in state:
            return True
    return False


def _wait_ready(session: KubeSession, base: list[Manifest], deadline: float) -> list[str]:
    while True:
        problems = _base_problems(session, base)
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(POLL_INTERVAL)


def base_problems(ctx: Context, session: KubeSession) -> list[str]:
    """Why the fault's base is not ready (empty when it is, or when it has no base)."""
    paths = sorted({p for a in ctx.failure.teardown if _is_restore(a) for p in a.manifests})  # type: ignore[union-attr]
    if not paths:
        return []
    return _base_problems(session, load_manifests(ctx.failure, paths, cluster_for(ctx)))


def _base_problems(session: KubeSession, base: list[Manifest]) -> list[str]:
    problems = [p for m in _workloads(base) if (p := _workload_problem(session, m))]
    for service in (m for m in base if m.kind == "Service" and m.obj.spec.selector):
        if not ready_endpoint_addresses(session, service.name):
            problems.append(f"Service {service.name} has no ready endpoints")
    return problems


def _workload_problem(session: KubeSession, workload: Manifest) -> str | None:
    name, kind = workload.name, workload.kind
    try:
        found = session.client.get(workload.resource, name, namespace=session.namespace)
    except ApiError as exc:
        return f"{kind} {name}: {exc.status.message}"
    obj = found.to_dict()
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    wanted = spec.get("replicas", 1)
    generation = (obj.get("metadata") or {}).get("generation")
    if generation and (status.get("observedGeneration") or 0) < generation:
        return f"{kind} {name}: the controller has not seen the new spec yet"
    ready, updated = status.get("readyReplicas") or 0, status.get("updatedReplicas")
    if ready < wanted or (updated is not None and updated < wanted):
        return f"{kind} {name}: {ready}/{wanted} ready"
    return None


def ready_endpoint_addresses(session: KubeSession, service: str) -> list[str]:
    """The ready addresses of a Service's Endpoints (empty when it has none)."""
    from lightkube.resources.core_v1 import Endpoints

    try:
        endpoints = session.client.get(Endpoints, service, namespace=session.namespace)
    except ApiError as exc:
        if exc.status.code == 404:
            return []
        raise
    return [a.ip for s in endpoints.subsets or [] for a in s.addresses or []]


# ── helpers ──────────────────────────────────────────────────────────────────


def _record(ctx: Context, cluster: KubeCluster) -> KubeRecord:
    if ctx.entry.kube is None:
        ctx.entry.kube = KubeRecord(
            context=cluster.context,
            namespace=cluster.namespace,
            kubeconfig=cluster.reference()["kubeconfig"],
        )
        ctx.save()
    return ctx.entry.kube


def _call(cluster: KubeCluster, body: Callable[[], None]) -> None:
    """Run `body`, turning Kubernetes API and transport failures into one clear message."""
    try:
        cluster.access().run(cluster.context, cluster.namespace, lambda _session: body())
    except KubeError as exc:
        raise InjectionFailed(str(exc)) from None
