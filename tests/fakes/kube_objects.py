"""Builders for Kubernetes objects shaped as a real cluster reports them (for the fake API).

Statuses carry what the kubelet, scheduler and controllers really write: waiting and
terminated reasons with messages, lastState, conditions, event sources and counts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]


def ts(seconds_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash(text: str, n: int) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:n]


def meta(
    name: str, namespace: str | None = None, labels: dict | None = None, age: float = 3600
) -> Obj:
    m: Obj = {"name": name, "creationTimestamp": ts(age)}
    if namespace:
        m["namespace"] = namespace
    if labels:
        m["labels"] = dict(labels)
    return m


# ---- cluster ----------------------------------------------------------------------------------


def node(name: str, cpu: str = "4", memory: str = "16283796Ki", ready: bool = True) -> Obj:
    cond = [
        {
            "type": t,
            "status": "False",
            "reason": r,
            "message": m,
            "lastHeartbeatTime": ts(20),
            "lastTransitionTime": ts(86400),
        }
        for t, r, m in (
            (
                "MemoryPressure",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    cond.append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status"
            if ready
            else "container runtime network not ready",
            "lastHeartbeatTime": ts(20),
            "lastTransitionTime": ts(86400),
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            name,
            labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
            age=86400 * 30,
        ),
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "capacity": {
                "cpu": cpu,
                "memory": memory,
                "pods": "110",
                "ephemeral-storage": "102687672Ki",
            },
            "allocatable": {
                "cpu": cpu,
                "memory": memory,
                "pods": "110",
                "ephemeral-storage": "94636958186",
            },
            "conditions": cond,
            "nodeInfo": {
                "kubeletVersion": "v1.31.4",
                "kubeProxyVersion": "v1.31.4",
                "containerRuntimeVersion": "containerd://1.7.24",
                "osImage": "Ubuntu 24.04.1 LTS",
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kernelVersion": "6.8.0-49-generic",
                "bootID": _uid(name + "boot"),
                "machineID": _hash(name + "machine", 32),
                "systemUUID": _uid(name + "system"),
            },
        },
    }


def storage_class(
    name: str, default: bool = False, provisioner: str = "rancher.io/local-path"
) -> Obj:
    m = meta(name, age=86400 * 30)
    if default:
        m["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": m,
        "provisioner": provisioner,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


# ---- containers -------------------------------------------------------------------------------


def container(
    name: str,
    image: str,
    requests: dict | None = None,
    limits: dict | None = None,
    env: list | None = None,
    probes: dict | None = None,
    ports: list[int] | None = None,
) -> Obj:
    c: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if requests or limits:
        c["resources"] = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    else:
        c["resources"] = {}
    if env:
        c["env"] = env
    if ports:
        c["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in ports]
    c.update(probes or {})
    return c


def running(seconds_ago: float = 600) -> Obj:
    return {"running": {"startedAt": ts(seconds_ago)}}


def waiting(reason: str, message: str | None = None) -> Obj:
    w: Obj = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def terminated(
    reason: str, exit_code: int, seconds_ago: float = 30, ran: float = 2, message: str | None = None
) -> Obj:
    t: Obj = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": ts(seconds_ago + ran),
        "finishedAt": ts(seconds_ago),
        "containerID": "containerd://" + _hash(reason + str(seconds_ago), 64),
    }
    if message:
        t["message"] = message
    return {"terminated": t}


def container_status(
    c: Obj, state: Obj, last: Obj | None = None, restarts: int = 0, ready: bool | None = None
) -> Obj:
    started = "running" in state
    s: Obj = {
        "name": c["name"],
        "image": c["image"],
        "imageID": ""
        if "waiting" in state and not last
        else f"docker.io/library/{c['image']}@sha256:{_hash(c['image'], 64)}",
        "ready": started if ready is None else ready,
        "restartCount": restarts,
        "started": started,
        "state": state,
        "lastState": last or {},
    }
    if "imageID" in s and s["imageID"]:
        s["containerID"] = "containerd://" + _hash(c["name"] + str(restarts), 64)
    return s


# ---- workloads and pods -------------------------------------------------------------------------


def _template(labels: dict, containers: list[Obj], volumes: list | None = None) -> Obj:
    spec: Obj = {
        "containers": containers,
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
    }
    if volumes:
        spec["volumes"] = volumes
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def deployment(
    name: str,
    namespace: str,
    labels: dict,
    containers: list[Obj],
    replicas: int = 1,
    ready: int | None = None,
    volumes: list | None = None,
    age: float = 3600,
) -> Obj:
    ready = replicas if ready is None else ready
    status: Obj = {"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas}
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    if replicas - ready > 0:
        status["unavailableReplicas"] = replicas - ready
    available = ready >= replicas
    status["conditions"] = [
        {
            "type": "Available",
            "status": "True" if available else "False",
            "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability."
            if available
            else "Deployment does not have minimum availability.",
            "lastUpdateTime": ts(age / 2),
            "lastTransitionTime": ts(age / 2),
        },
        {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable" if available else "ReplicaSetUpdated",
            "message": f'ReplicaSet "{name}-{_hash(name, 9)}" has successfully progressed.'
            if available
            else f'ReplicaSet "{name}-{_hash(name, 9)}" is progressing.',
            "lastUpdateTime": ts(age / 2),
            "lastTransitionTime": ts(age),
        },
    ]
    if replicas == 0:
        status = {"observedGeneration": 3, "conditions": status["conditions"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **meta(name, namespace, labels, age),
            "generation": 2,
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": _template(labels, containers, volumes),
        },
        "status": status,
    }


def statefulset(
    name: str,
    namespace: str,
    labels: dict,
    containers: list[Obj],
    replicas: int = 1,
    ready: int | None = None,
    service_name: str | None = None,
    age: float = 3600,
) -> Obj:
    ready = replicas if ready is None else ready
    status: Obj = {
        "observedGeneration": 1,
        "replicas": replicas,
        "currentReplicas": replicas,
        "updatedReplicas": replicas,
        "currentRevision": f"{name}-{_hash(name, 10)}",
        "updateRevision": f"{name}-{_hash(name, 10)}",
        "collisionCount": 0,
    }
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    if replicas == 0:
        status = {"observedGeneration": 2, "replicas": 0, "availableReplicas": 0}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {**meta(name, namespace, labels, age), "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "serviceName": service_name or name,
            "podManagementPolicy": "OrderedReady",
            "template": _template(labels, containers),
        },
        "status": status,
    }


def pod(
    name: str,
    namespace: str,
    labels: dict,
    containers: list[Obj],
    statuses: list[Obj] | None,
    phase: str = "Running",
    node_name: str | None = "worker-1",
    owner: tuple[str, str] | None = None,
    conditions: list[Obj] | None = None,
    volumes: list | None = None,
    age: float = 1800,
    qos: str = "Burstable",
) -> Obj:
    m = meta(name, namespace, labels, age)
    if owner:
        m["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": _uid(owner[1]),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    spec: Obj = {
        "containers": containers,
        "restartPolicy": "Always",
        "serviceAccountName": "default",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
    }
    if node_name:
        spec["nodeName"] = node_name
    if volumes:
        spec["volumes"] = volumes
    status: Obj = {"phase": phase, "qosClass": qos}
    if conditions is None:
        all_ready = bool(statuses) and all(s.get("ready") for s in statuses)
        conditions = ready_conditions(scheduled=node_name is not None, ready=all_ready)
    status["conditions"] = conditions
    if node_name:
        status.update(
            {
                "hostIP": "172.18.0.3",
                "hostIPs": [{"ip": "172.18.0.3"}],
                "podIP": "10.244.1." + str(int(_hash(name, 2), 16) % 250 + 2),
                "startTime": ts(age),
            }
        )
    if statuses is not None:
        status["containerStatuses"] = statuses
    return {"apiVersion": "v1", "kind": "Pod", "metadata": m, "spec": spec, "status": status}


def ready_conditions(
    scheduled: bool = True, ready: bool = True, unready_names: str = ""
) -> list[Obj]:
    if not scheduled:
        return []
    names = unready_names or "app"
    conds = [
        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": ts(1700)},
        {"type": "Initialized", "status": "True", "lastTransitionTime": ts(1790)},
        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ts(1600)},
        {
            "type": "ContainersReady",
            "status": "True" if ready else "False",
            "lastTransitionTime": ts(1600),
        },
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(1795)},
    ]
    if not ready:
        for c in conds[2:4]:
            c["reason"] = "ContainersNotReady"
            c["message"] = f"containers with unready status: [{names}]"
    return conds


def unschedulable_conditions(message: str) -> list[Obj]:
    return [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": ts(1700),
        }
    ]


def replica_pod_name(deployment_name: str, suffix: str) -> tuple[str, str]:
    """(pod name, replicaset name) as a Deployment's controller names them."""
    rs = f"{deployment_name}-{_hash(deployment_name, 9)}"
    return f"{rs}-{suffix}", rs


def _uid(name: str) -> str:
    h = _hash(name, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# ---- services, endpoints, storage, events ----------------------------------------------


def service(
    name: str, namespace: str, selector: dict | None, port: int, target_port: int | str
) -> Obj:
    spec: Obj = {
        "type": "ClusterIP",
        "clusterIP": "10.96." + str(int(_hash(name, 2), 16)) + ".17",
        "ports": [{"name": "main", "port": port, "targetPort": target_port, "protocol": "TCP"}],
        "sessionAffinity": "None",
    }
    if selector:
        spec["selector"] = dict(selector)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, namespace),
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def endpoints(
    name: str,
    namespace: str,
    ready: list[tuple[str, str]],
    port: int,
    not_ready: list[tuple[str, str]] = (),
) -> Obj:
    m = meta(name, namespace)
    obj: Obj = {"apiVersion": "v1", "kind": "Endpoints", "metadata": m}
    if ready or not_ready:
        subset: Obj = {"ports": [{"name": "main", "port": port, "protocol": "TCP"}]}
        if ready:
            subset["addresses"] = [
                {
                    "ip": ip,
                    "nodeName": "worker-1",
                    "targetRef": {"kind": "Pod", "name": p, "namespace": namespace},
                }
                for ip, p in ready
            ]
        if not_ready:
            subset["notReadyAddresses"] = [
                {
                    "ip": ip,
                    "nodeName": "worker-1",
                    "targetRef": {"kind": "Pod", "name": p, "namespace": namespace},
                }
                for ip, p in not_ready
            ]
        obj["subsets"] = [subset]
    return obj


def pvc(
    name: str, namespace: str, storage_class: str, phase: str = "Bound", size: str = "1Gi"
) -> Obj:
    spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        "storageClassName": storage_class,
        "volumeMode": "Filesystem",
    }
    status: Obj = {"phase": phase}
    if phase == "Bound":
        spec["volumeName"] = "pvc-" + _uid(name)
        status.update({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta(name, namespace),
        "spec": spec,
        "status": status,
    }


def event(
    namespace: str,
    kind: str,
    name: str,
    reason: str,
    message: str,
    type_: str = "Warning",
    count: int = 1,
    seconds_ago: float = 30,
    first_seen_ago: float | None = None,
    component: str = "kubelet",
    field_path: str | None = None,
    api_version: str = "v1",
) -> Obj:
    involved: Obj = {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "uid": _uid(name),
        "apiVersion": api_version,
        "resourceVersion": "4711",
    }
    if field_path:
        involved["fieldPath"] = field_path
    source: Obj = {"component": component}
    if component == "kubelet":
        source["host"] = "worker-1"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{name}.{_hash(reason + message, 16)}",
            "namespace": namespace,
            "creationTimestamp": ts(first_seen_ago or seconds_ago),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": ts(first_seen_ago or seconds_ago),
        "lastTimestamp": ts(seconds_ago),
        "count": count,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "worker-1" if component == "kubelet" else "",
    }
