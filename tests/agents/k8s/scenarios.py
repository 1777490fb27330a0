"""Cluster states for the k8s agent tests: a healthy base plus one failure per category.

Each scenario adds to a `FakeKubeApi` the objects a real cluster shows for that failure
(statuses, events, logs). Names are arbitrary on purpose: the diagnostician must judge
from states and reasons, never from names.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes import kube_objects as k
from tests.fakes.kube_api import FakeKubeApi

NS = "shop"


def base(api: FakeKubeApi, ns: str = NS) -> None:
    """Three ready nodes, two storage classes, a healthy web app with a service and a PVC."""
    api.add(*(k.node(f"worker-{i}") for i in (1, 2, 3)))
    api.add(
        k.storage_class("standard", default=True),
        k.storage_class("fast-ssd", provisioner="ebs.csi.aws.com"),
    )
    api.add(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns},
            "status": {"phase": "Active"},
        }
    )
    labels = {"app": "catalog", "tier": "web"}
    c = k.container(
        "web", "nginx:1.27.3", {"cpu": "100m", "memory": "128Mi"}, {"memory": "256Mi"}, ports=[8080]
    )
    api.add(k.deployment("catalog", ns, labels, [c], replicas=2))
    ips = []
    for suffix in ("7xk2p", "q9w4d"):
        name, rs = k.replica_pod_name("catalog", suffix)
        pod = k.pod(
            name,
            ns,
            {**labels, "pod-template-hash": rs.rsplit("-", 1)[1]},
            [c],
            [k.container_status(c, k.running(3000))],
            owner=("ReplicaSet", rs),
        )
        api.add(pod)
        ips.append((pod["status"]["podIP"], name))
    api.add(k.service("catalog", ns, labels, 80, 8080), k.endpoints("catalog", ns, ips, 8080))
    api.add(k.pvc("catalog-cache", ns, "standard"))
    api.add(
        k.event(
            ns,
            "Deployment",
            "catalog",
            "ScalingReplicaSet",
            "Scaled up replica set catalog-6f9d8c7b5 to 2",
            "Normal",
            seconds_ago=3000,
            component="deployment-controller",
            api_version="apps/v1",
        )
    )


def _app(
    api: FakeKubeApi,
    ns: str,
    name: str,
    c: dict,
    status: dict,
    *,
    phase: str = "Running",
    node: str | None = "worker-2",
    conditions: list | None = None,
    volumes: list | None = None,
    replicas_ready: int = 0,
    suffix: str = "b7m2x",
) -> str:
    """A one-replica Deployment and its pod with `status`; returns the pod name."""
    labels = {"app": name}
    api.add(k.deployment(name, ns, labels, [c], replicas=1, ready=replicas_ready, volumes=volumes))
    pod_name, rs = k.replica_pod_name(name, suffix)
    if conditions is None and node is not None:
        conditions = k.ready_conditions(ready=bool(status.get("ready")), unready_names=c["name"])
    pod = k.pod(
        pod_name,
        ns,
        {**labels, "pod-template-hash": rs.rsplit("-", 1)[1]},
        [c],
        [status] if status else None,
        phase=phase,
        node_name=node,
        owner=("ReplicaSet", rs),
        conditions=conditions,
        volumes=volumes,
    )
    api.add(pod)
    return pod_name


def _pod(deployment: str) -> str:
    return k.replica_pod_name(deployment, "b7m2x")[0]


def crash_loop(api: FakeKubeApi, ns: str = NS) -> None:
    readiness = {
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 9000}, "periodSeconds": 10}
    }
    c = k.container(
        "api",
        "ghcr.io/acme/ledger:2.4.1",
        {"cpu": "200m", "memory": "256Mi"},
        {"memory": "512Mi"},
        probes=readiness,
        ports=[9000],
    )
    status = k.container_status(
        c,
        k.waiting(
            "CrashLoopBackOff",
            f"back-off 2m40s restarting failed container=api pod={_pod('ledger-api')}_{ns}(0d1f)",
        ),
        last=k.terminated("Error", 1, seconds_ago=70, ran=1.2),
        restarts=6,
        ready=False,
    )
    pod = _app(api, ns, "ledger-api", c, status)
    api.set_log(ns, pod, "", container="api")
    api.set_log(
        ns,
        pod,
        "2026-12-03T16:01:02Z INFO  starting ledger v2.4.1\n"
        "2026-12-03T16:01:02Z INFO  loading configuration from /etc/ledger/app.yaml\n"
        "2026-12-03T16:01:03Z ERROR config: open /etc/ledger/app.yaml: no such file or directory\n"
        "2026-12-03T16:01:03Z FATAL cannot start without configuration, exiting with status 1\n",
        container="api",
        previous=True,
    )
    api.add(
        k.service("ledger-api", ns, {"app": "ledger-api"}, 80, 9000),
        k.endpoints("ledger-api", ns, [], 9000, not_ready=[("10.244.2.31", pod)]),
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "Pulled",
            'Container image "ghcr.io/acme/ledger:2.4.1" already present on machine',
            "Normal",
            count=7,
            seconds_ago=75,
            first_seen_ago=900,
            field_path="spec.containers{api}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Started",
            "Started container api",
            "Normal",
            count=7,
            seconds_ago=72,
            first_seen_ago=900,
            field_path="spec.containers{api}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "BackOff",
            f"Back-off restarting failed container api in pod {pod}_{ns}(0d1f)",
            count=31,
            seconds_ago=5,
            first_seen_ago=880,
            field_path="spec.containers{api}",
        ),
        # A readiness probe fails once while the process is still starting: not the cause.
        k.event(
            ns,
            "Pod",
            pod,
            "Unhealthy",
            'Readiness probe failed: Get "http://10.244.2.31:9000/ready": dial tcp '
            "10.244.2.31:9000: connect: connection refused",
            count=2,
            seconds_ago=72,
            first_seen_ago=600,
            field_path="spec.containers{api}",
        ),
    )


def oom_killed(api: FakeKubeApi, ns: str = NS) -> None:
    c = k.container(
        "worker",
        "ghcr.io/acme/thumbnailer:1.8.0",
        {"cpu": "100m", "memory": "32Mi"},
        {"memory": "32Mi"},
    )
    status = k.container_status(
        c,
        k.waiting(
            "CrashLoopBackOff",
            "back-off 1m20s restarting failed container=worker "
            f"pod={_pod('thumbnailer')}_{ns}(a1b2)",
        ),
        last=k.terminated("OOMKilled", 137, seconds_ago=40, ran=6),
        restarts=4,
        ready=False,
    )
    pod = _app(api, ns, "thumbnailer", c, status)
    api.set_log(
        ns,
        pod,
        "processing batch 1 (512 images)\nresizing image 1/512\nresizing image 2/512\n",
        container="worker",
        previous=True,
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "BackOff",
            f"Back-off restarting failed container worker in pod {pod}_{ns}(a1b2)",
            count=12,
            seconds_ago=8,
            first_seen_ago=300,
            field_path="spec.containers{worker}",
        )
    )


def unschedulable(api: FakeKubeApi, ns: str = NS) -> None:
    message = (
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )
    c = k.container(
        "builder",
        "ghcr.io/acme/report-builder:3.1.0",
        {"cpu": "2", "memory": "64Gi"},
        {"memory": "64Gi"},
    )
    pod = _app(
        api,
        ns,
        "report-builder",
        c,
        {},
        phase="Pending",
        node=None,
        conditions=k.unschedulable_conditions(message),
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "FailedScheduling",
            message,
            count=9,
            seconds_ago=20,
            first_seen_ago=1200,
            component="default-scheduler",
        )
    )


def image_pull(api: FakeKubeApi, ns: str = NS) -> None:
    image = "registry.invalid/acme/storefront:9.9.9"
    registry_error = (
        f'Failed to pull image "{image}": failed to pull and unpack image "{image}": failed '
        "to resolve "
        f'reference "{image}": failed to do request: Head "https://registry.invalid/v2/acme/storefront/'
        'manifests/9.9.9": dial tcp: lookup registry.invalid on 10.96.0.10:53: no such host'
    )
    c = k.container("storefront", image, {"cpu": "100m", "memory": "128Mi"}, ports=[3000])
    status = k.container_status(
        c, k.waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'), ready=False
    )
    pod = _app(
        api,
        ns,
        "storefront",
        c,
        status,
        phase="Pending",
        conditions=k.ready_conditions(ready=False, unready_names="storefront"),
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "Pulling",
            f'Pulling image "{image}"',
            "Normal",
            count=5,
            seconds_ago=100,
            first_seen_ago=600,
            field_path="spec.containers{storefront}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Failed",
            registry_error,
            count=5,
            seconds_ago=99,
            first_seen_ago=600,
            field_path="spec.containers{storefront}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Failed",
            "Error: ErrImagePull",
            count=5,
            seconds_ago=99,
            first_seen_ago=600,
            field_path="spec.containers{storefront}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "BackOff",
            f'Back-off pulling image "{image}"',
            "Normal",
            count=22,
            seconds_ago=10,
            first_seen_ago=590,
            field_path="spec.containers{storefront}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Failed",
            "Error: ImagePullBackOff",
            count=22,
            seconds_ago=10,
            first_seen_ago=590,
            field_path="spec.containers{storefront}",
        ),
    )


def no_endpoints(api: FakeKubeApi, ns: str = NS) -> None:
    c = k.container(
        "checkout", "ghcr.io/acme/checkout:5.0.2", {"cpu": "100m", "memory": "128Mi"}, ports=[8443]
    )
    pod = _app(
        api,
        ns,
        "checkout",
        c,
        k.container_status(c, k.running(2400)),
        replicas_ready=1,
        conditions=k.ready_conditions(),
    )
    assert pod
    api.add(
        k.service("checkout", ns, {"app": "check-out"}, 443, 8443),
        k.endpoints("checkout", ns, [], 8443),
    )


def pvc_pending(api: FakeKubeApi, ns: str = NS) -> None:
    api.add(k.pvc("invoices-data", ns, "premium-nvme", phase="Pending", size="20Gi"))
    api.add(
        k.event(
            ns,
            "PersistentVolumeClaim",
            "invoices-data",
            "ProvisioningFailed",
            'storageclass.storage.k8s.io "premium-nvme" not found',
            count=14,
            seconds_ago=15,
            first_seen_ago=900,
            component="persistentvolume-controller",
        )
    )
    message = (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/3 "
        "nodes are available: 3 Preemption is not helpful for scheduling."
    )
    c = k.container("invoices", "ghcr.io/acme/invoices:1.2.0", {"cpu": "100m", "memory": "128Mi"})
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "invoices-data"}}]
    pod = _app(
        api,
        ns,
        "invoices",
        c,
        {},
        phase="Pending",
        node=None,
        conditions=k.unschedulable_conditions(message),
        volumes=volumes,
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "FailedScheduling",
            message,
            count=6,
            seconds_ago=25,
            first_seen_ago=900,
            component="default-scheduler",
        )
    )


def scaled_to_zero(api: FakeKubeApi, ns: str = NS) -> None:
    c = k.container(
        "notifier", "ghcr.io/acme/notifier:0.9.3", {"cpu": "50m", "memory": "64Mi"}, ports=[8000]
    )
    api.add(k.deployment("notifier", ns, {"app": "notifier"}, [c], replicas=0))
    api.add(
        k.service("notifier", ns, {"app": "notifier"}, 80, 8000),
        k.endpoints("notifier", ns, [], 8000),
    )
    api.add(
        k.event(
            ns,
            "Deployment",
            "notifier",
            "ScalingReplicaSet",
            "Scaled down replica set notifier-84d5f6b9c7 to 0 from 2",
            "Normal",
            seconds_ago=600,
            component="deployment-controller",
            api_version="apps/v1",
        )
    )


def probe_failure(api: FakeKubeApi, ns: str = NS) -> None:
    probes = {
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10,
            "failureThreshold": 3,
            "timeoutSeconds": 1,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 5,
            "failureThreshold": 3,
            "timeoutSeconds": 1,
        },
    }
    c = k.container(
        "gateway",
        "ghcr.io/acme/gateway:4.2.0",
        {"cpu": "250m", "memory": "256Mi"},
        {"memory": "512Mi"},
        probes=probes,
        ports=[8080],
    )
    status = k.container_status(
        c,
        k.running(25),
        last=k.terminated("Error", 137, seconds_ago=26, ran=60),
        restarts=5,
        ready=False,
    )
    pod = _app(
        api,
        ns,
        "gateway",
        c,
        status,
        conditions=k.ready_conditions(ready=False, unready_names="gateway"),
    )
    log = "listening on :8080\nhealth check: upstream auth-service unreachable, reporting 500\n"
    api.set_log(ns, pod, log, container="gateway")
    api.set_log(
        ns, pod, log + "received SIGTERM, shutting down\n", container="gateway", previous=True
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "Unhealthy",
            "Liveness probe failed: HTTP probe failed with statuscode: 500",
            count=15,
            seconds_ago=12,
            first_seen_ago=400,
            field_path="spec.containers{gateway}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            count=40,
            seconds_ago=4,
            first_seen_ago=400,
            field_path="spec.containers{gateway}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Killing",
            "Container gateway failed liveness probe, will be restarted",
            "Normal",
            count=5,
            seconds_ago=26,
            first_seen_ago=340,
            field_path="spec.containers{gateway}",
        ),
    )


def config_missing(api: FakeKubeApi, ns: str = NS) -> None:
    env = [
        {
            "name": "SMTP_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "mailer-smtp", "key": "password"}},
        }
    ]
    c = k.container(
        "mailer", "ghcr.io/acme/mailer:2.0.0", {"cpu": "50m", "memory": "64Mi"}, env=env
    )
    status = k.container_status(
        c, k.waiting("CreateContainerConfigError", 'secret "mailer-smtp" not found'), ready=False
    )
    pod = _app(
        api,
        ns,
        "mailer",
        c,
        status,
        phase="Pending",
        conditions=k.ready_conditions(ready=False, unready_names="mailer"),
    )
    api.add(
        k.event(
            ns,
            "Pod",
            pod,
            "Pulled",
            'Container image "ghcr.io/acme/mailer:2.0.0" already present on machine',
            "Normal",
            count=9,
            seconds_ago=30,
            first_seen_ago=500,
            field_path="spec.containers{mailer}",
        ),
        k.event(
            ns,
            "Pod",
            pod,
            "Failed",
            'Error: secret "mailer-smtp" not found',
            count=9,
            seconds_ago=30,
            first_seen_ago=500,
            field_path="spec.containers{mailer}",
        ),
    )


SCENARIOS: dict[str, Callable[[FakeKubeApi, str], None]] = {
    "pod_crash_loop": crash_loop,
    "oom_killed": oom_killed,
    "pod_unschedulable": unschedulable,
    "image_pull_failure": image_pull,
    "no_endpoints": no_endpoints,
    "pvc_pending": pvc_pending,
    "scaled_to_zero": scaled_to_zero,
    "probe_failure": probe_failure,
    "config_missing": config_missing,
}
