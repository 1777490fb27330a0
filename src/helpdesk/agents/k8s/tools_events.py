"""The events tool: a namespace's events, newest first, filterable by the object they concern."""

from __future__ import annotations

from lightkube.resources.core_v1 import Event

from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s import text as tables
from helpdesk.agents.k8s import views
from helpdesk.agents.k8s.client import KubeAccess, KubeSession


def get_events(
    access: KubeAccess,
    namespace: str = "",
    context: str = "",
    kind: str = "",
    name: str = "",
    warnings_only: bool = False,
    limit: int = 30,
) -> ToolOutput:
    fields = {}
    if kind:
        fields["involvedObject.kind"] = kind
    if name:
        fields["involvedObject.name"] = name
    if warnings_only:
        fields["type"] = "Warning"

    def body(session: KubeSession) -> ToolOutput:
        events = [
            views.event_summary(e) for e in session.list_objects(Event, fields=fields or None)
        ]
        events.sort(key=lambda e: e["last_seen"] or "", reverse=True)
        total = len(events)
        events = events[:limit]
        for e in events:
            e["object_ref"] = f"{e['kind']}/{e['object']}"
        title = f"events in namespace {session.namespace} (context {session.context}), newest first"
        if fields:
            title += " where " + ", ".join(f"{k}={v}" for k, v in fields.items())
        text = tables.render(
            events,
            ["age", "type", "reason", "object_ref", "count", "message"],
            cap=limit,
            title=title,
            empty="(no events)",
        )
        if total > limit:
            text += f"\n... {total - limit} older event(s) not shown"
        data = {
            "context": session.context,
            "namespace": session.namespace,
            "events": events,
            "total": total,
        }
        return ToolOutput(text=text, data=data)

    return access.run(context, namespace, body)
