"""Cluster-level tools: nodes (readiness, pressure, allocatable), PVCs and storage classes."""

from __future__ import annotations

from lightkube.resources.core_v1 import Node, PersistentVolumeClaim
from lightkube.resources.storage_v1 import StorageClass

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s import text as tables
from helpdesk.agents.k8s import views
from helpdesk.agents.k8s.client import KubeAccess, KubeSession


def get_nodes(access: KubeAccess, context: str = "", limit: int = 30) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        nodes = sorted(
            (views.node_summary(n) for n in session.list_objects(Node)), key=lambda n: n["name"]
        )
        rows = [
            {
                **n,
                "cpu": n["allocatable"].get("cpu"),
                "memory": n["allocatable"].get("memory"),
                "pods": n["allocatable"].get("pods"),
                "problems": ", ".join(
                    n["pressure"] + n["taints"] + (["cordoned"] if n["unschedulable"] else [])
                ),
            }
            for n in nodes
        ]
        text = tables.render(
            rows,
            ["name", "ready", "cpu", "memory", "pods", "version", "age", "problems"],
            cap=limit,
            title=f"nodes (context {session.context}); cpu/memory/pods are allocatable",
            empty="(no nodes)",
            wide=("problems",),
        )
        return ToolOutput(text=text, data={"context": session.context, "nodes": nodes})

    return access.run(context, None, body)


def get_pvcs(
    access: KubeAccess, namespace: str = "", context: str = "", limit: int = 30
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        pvcs = sorted(
            (views.pvc_summary(p) for p in session.list_objects(PersistentVolumeClaim)),
            key=lambda p: p["name"],
        )
        classes = sorted(
            (views.storage_class_summary(s) for s in session.list_objects(StorageClass)),
            key=lambda s: s["name"],
        )
        names = {c["name"] for c in classes}
        for p in pvcs:
            p["storage_class_exists"] = p["storage_class"] in names if p["storage_class"] else None
        text = "\n\n".join(
            [
                tables.render(
                    pvcs,
                    [
                        "name",
                        "phase",
                        "storage_class",
                        "storage_class_exists",
                        "requested",
                        "volume",
                        "age",
                    ],
                    cap=limit,
                    title=f"persistent volume claims in namespace {session.namespace} "
                    f"(context {session.context})",
                    empty="(no persistent volume claims)",
                ),
                tables.render(
                    classes,
                    ["name", "provisioner", "default", "binding_mode", "reclaim_policy"],
                    cap=limit,
                    title="storage classes in the cluster",
                    empty="(no storage classes)",
                ),
            ]
        )
        data = {
            "context": session.context,
            "namespace": session.namespace,
            "pvcs": pvcs,
            "storage_classes": classes,
        }
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)
