"""Pod tools: list pods, describe one (containers, states, resources, events), read its logs."""

from __future__ import annotations

from typing import Any

from lightkube.resources.core_v1 import Event, Pod

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s import text as tables
from helpdesk.agents.k8s import views
from helpdesk.agents.k8s.client import KubeAccess, KubeSession

LOG_LINE_WIDTH = 300
MAX_TAIL = 500


def get_pods(
    access: KubeAccess,
    namespace: str = "",
    context: str = "",
    label_selector: str = "",
    limit: int = 30,
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        pods = [views.pod_summary(p) for p in session.list_objects(Pod, labels=label_selector)]
        pods.sort(key=lambda p: p["name"])
        title = f"pods in namespace {session.namespace} (context {session.context})"
        if label_selector:
            title += f" matching {label_selector}"
        text = tables.render(
            pods,
            ["name", "status", "ready", "restarts", "node", "age", "owner"],
            cap=limit,
            title=title,
            empty="(no pods)",
        )
        data = {"context": session.context, "namespace": session.namespace, "pods": pods}
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)


def pod_events(session: KubeSession, pod: str, limit: int = 15) -> list[dict[str, Any]]:
    raw = session.list_objects(
        Event, fields={"involvedObject.kind": "Pod", "involvedObject.name": pod}
    )
    events = [views.event_summary(e) for e in raw]
    events.sort(key=lambda e: e["last_seen"] or "", reverse=True)
    return events[:limit]


def _container_lines(c: dict[str, Any]) -> list[str]:
    kind = "init container" if c["init"] else "container"
    lines = [
        f"{kind} {c['name']}: image {c['image']}, ready {tables.cell(c['ready'])}, restarts "
        f"{c['restarts']}"
    ]
    for label, state in (("state", c["current"]), ("last state", c["last"])):
        if state:
            lines.append(f"  {label}: {_state_text(state)}")
    res = c["resources"]
    if res["requests"] or res["limits"]:
        lines.append(
            f"  requests: {views.selector_text(res['requests'])}  limits: "
            f"{views.selector_text(res['limits'])}"
        )
    if c["config_refs"]:
        lines.append(f"  reads: {', '.join(c['config_refs'])}")
    if c["probes"]:
        lines.append(f"  probes: {', '.join(c['probes'])}")
    return lines


def _state_text(state: dict[str, Any]) -> str:
    parts = [state.get("state", "")]
    if state.get("reason"):
        parts.append(f"reason={state['reason']}")
    if state.get("exit_code") is not None:
        parts.append(f"exit_code={state['exit_code']}")
    if state.get("finished_at"):
        parts.append(f"finished={state['finished_at']}")
    elif state.get("started_at"):
        parts.append(f"started={state['started_at']}")
    if state.get("message"):
        parts.append(f"message={tables.cell(state['message'], 200)!r}")
    return " ".join(parts)


def describe_pod(
    access: KubeAccess, name: str, namespace: str = "", context: str = "", events: int = 10
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        detail = views.pod_detail(session.get_object(Pod, name))
        detail["events"] = pod_events(session, name, events)
        head = {
            "pod": f"{session.namespace}/{detail['name']}",
            "status": detail["status"],
            "phase": detail["phase"],
            "ready": detail["ready"],
            "restarts": detail["restarts"],
            "node": detail["node"] or "<none>",
            "owner": detail["owner"],
            "labels": views.selector_text(detail["labels"]),
            "qos": detail["qos_class"],
        }
        if detail["pvcs"]:
            head["pvcs"] = ", ".join(detail["pvcs"])
        if detail["volume_refs"]:
            head["volumes from"] = ", ".join(detail["volume_refs"])
        if detail["status_message"]:
            head["message"] = detail["status_message"]
        parts = [tables.pairs(head)]
        parts.append("\n".join(line for c in detail["containers"] for line in _container_lines(c)))
        parts.append(
            tables.render(
                detail["conditions"], ["type", "status", "reason", "message"], title="conditions"
            )
        )
        parts.append(
            tables.render(
                detail["events"],
                ["age", "type", "reason", "count", "message"],
                title="events (newest first)",
                empty="(no events)",
            )
        )
        detail["context"] = session.context
        return ToolOutput(text="\n\n".join(parts), data=detail)

    return access.run(context, namespace, body)


def get_pod_logs(
    access: KubeAccess,
    name: str,
    namespace: str = "",
    context: str = "",
    container: str = "",
    previous: bool = False,
    tail: int = 50,
) -> ToolOutput:
    tail = max(1, min(tail, MAX_TAIL))

    def body(session: KubeSession) -> ToolOutput:
        lines = session.read_log(name, container or None, previous=previous, tail_lines=tail)
        lines = [tables.cell(line, LOG_LINE_WIDTH) for line in lines[-tail:]]
        which = "previous (last terminated) container" if previous else "current container"
        target = f"{session.namespace}/{name}" + (f" container {container}" if container else "")
        title = f"logs of pod {target}, {which}, last {tail} lines"
        text = "\n".join([title, *lines]) if lines else f"{title}\n(empty log)"
        data = {
            "context": session.context,
            "namespace": session.namespace,
            "pod": name,
            "container": container or None,
            "previous": previous,
            "lines": lines,
        }
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)
