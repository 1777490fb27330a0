"""The workloads tool: Deployments and StatefulSets with desired, ready and available replicas."""

from __future__ import annotations

from lightkube.resources.apps_v1 import Deployment, StatefulSet

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s import text as tables
from helpdesk.agents.k8s import views
from helpdesk.agents.k8s.client import KubeAccess, KubeSession


def get_workloads(
    access: KubeAccess, namespace: str = "", context: str = "", limit: int = 30
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        workloads = [
            views.workload_summary(d, "Deployment") for d in session.list_objects(Deployment)
        ]
        workloads += [
            views.workload_summary(s, "StatefulSet") for s in session.list_objects(StatefulSet)
        ]
        workloads.sort(key=lambda w: (w["kind"], w["name"]))
        rows = [
            {
                **w,
                "ref": f"{w['kind']}/{w['name']}",
                "images_text": ",".join(i for i in w["images"] if i),
                "note": _note(w),
            }
            for w in workloads
        ]
        text = tables.render(
            rows,
            ["ref", "desired", "ready", "available", "updated", "age", "images_text", "note"],
            cap=limit,
            title=f"deployments and statefulsets in namespace {session.namespace} "
            f"(context {session.context})",
            empty="(no deployments or statefulsets)",
            wide=("note",),
        )
        data = {"context": session.context, "namespace": session.namespace, "workloads": workloads}
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)


def _note(workload: dict) -> str:
    if workload["desired"] == 0:
        return "scaled to zero"
    failing = [
        f"{c['type']}={c['status']} {c.get('reason') or ''}".strip()
        for c in workload["conditions"]
        if c.get("status") == "False" or c.get("type") == "ReplicaFailure"
    ]
    return "; ".join(failing)
