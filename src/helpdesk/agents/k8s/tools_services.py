"""Service tools: list/get services, describe one against the pods it selects, read endpoints."""

from __future__ import annotations

from typing import Any

from lightkube import ApiError
from lightkube.resources.core_v1 import Endpoints, Pod, Service

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s import text as tables
from helpdesk.agents.k8s import views
from helpdesk.agents.k8s.client import KubeAccess, KubeSession

MAX_PODS_SHOWN = 15


def _service_rows(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **s,
            "selector_text": views.selector_text(s["selector"]),
            "ports_text": views.ports_text(s["ports"]),
        }
        for s in services
    ]


def get_service(
    access: KubeAccess, name: str = "", namespace: str = "", context: str = "", limit: int = 30
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        raw = [session.get_object(Service, name)] if name else session.list_objects(Service)
        services = sorted((views.service_summary(s) for s in raw), key=lambda s: s["name"])
        text = tables.render(
            _service_rows(services),
            ["name", "type", "cluster_ip", "ports_text", "selector_text", "age"],
            cap=limit,
            title=f"services in namespace {session.namespace} (context {session.context})",
            empty="(no services)",
            wide=("selector_text", "ports_text"),
        )
        data = {"context": session.context, "namespace": session.namespace, "services": services}
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)


def _endpoint_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": e["name"],
            "ready": ", ".join(e["ready_addresses"]) or "<none>",
            "not_ready": ", ".join(e["not_ready_addresses"]) or "",
            "ports": ",".join(e["ports"]),
        }
        for e in items
    ]


def get_endpoints(
    access: KubeAccess, name: str = "", namespace: str = "", context: str = "", limit: int = 30
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        raw = [session.get_object(Endpoints, name)] if name else session.list_objects(Endpoints)
        items = sorted((views.endpoints_summary(e) for e in raw), key=lambda e: e["name"])
        text = tables.render(
            _endpoint_rows(items),
            ["name", "ready", "not_ready", "ports"],
            cap=limit,
            title=f"endpoints in namespace {session.namespace} (context {session.context})",
            empty="(no endpoints objects)",
            wide=("ready", "not_ready"),
        )
        data = {"context": session.context, "namespace": session.namespace, "endpoints": items}
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)


def describe_service(
    access: KubeAccess, name: str, namespace: str = "", context: str = ""
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        service = views.service_summary(session.get_object(Service, name))
        endpoints = _endpoints_or_none(session, name)
        pods = [views.pod_summary(p) for p in session.list_objects(Pod)]
        matching = [p for p in pods if views.selects(service["selector"], p["labels"])]
        data = {
            "context": session.context,
            "namespace": session.namespace,
            "service": service,
            "endpoints": endpoints,
            "matching_pods": matching,
            "other_pods": [p for p in pods if p not in matching][:MAX_PODS_SHOWN],
        }
        return ToolOutput(text=_describe_text(session, data), data=data)

    return access.run(context, namespace, body)


def _endpoints_or_none(session: KubeSession, name: str) -> dict[str, Any] | None:
    try:
        return views.endpoints_summary(session.get_object(Endpoints, name))
    except ApiError as exc:
        if exc.response.status_code == 404:
            return None
        raise


def _describe_text(session: KubeSession, data: dict[str, Any]) -> str:
    service, endpoints = data["service"], data["endpoints"]
    head = {
        "service": f"{session.namespace}/{service['name']}",
        "type": service["type"],
        "cluster ip": service["cluster_ip"],
        "ports": views.ports_text(service["ports"]),
        "selector": views.selector_text(service["selector"]),
        "ready endpoints": ", ".join(endpoints["ready_addresses"]) or "<none>"
        if endpoints
        else "<no Endpoints object>",
        "not-ready endpoints": ", ".join(endpoints["not_ready_addresses"]) or "<none>"
        if endpoints
        else "",
        "pods matching the selector": str(len(data["matching_pods"])),
    }
    parts = [tables.pairs(head)]
    rows = [
        {**p, "labels_text": views.selector_text(p["labels"])}
        for p in data["matching_pods"] + data["other_pods"]
    ]
    for p in rows:
        p["selected"] = p["name"] in {m["name"] for m in data["matching_pods"]}
    parts.append(
        tables.render(
            rows,
            ["name", "selected", "status", "ready", "labels_text"],
            cap=MAX_PODS_SHOWN,
            title="pods in the namespace and their labels",
            empty="(no pods in the namespace)",
            wide=("labels_text",),
        )
    )
    return "\n\n".join(parts)
