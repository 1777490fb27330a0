"""The built-in Kubernetes diagnostician (no LLM): investigate with the tools, conclude a category.

It surveys the namespace the message names (pods, workloads, events, PVCs, services,
endpoints), looks deeper at what is unhealthy (describe, previous logs, nodes, service
matching), applies the rules of `findings`, and answers in markdown with evidence and
kubectl commands. Every tool call goes through `ToolRegistry.call`, so it is traced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.k8s.findings import Finding, Survey, all_findings
from helpdesk.agents.k8s.request import K8sRequest, parse_request
from helpdesk.result import AgentResult, Diagnosis, ModelInfo, ToolCall

MAX_PODS_DESCRIBED = 6
MAX_SERVICES_DESCRIBED = 4
LOG_TAIL = 20


class K8sDiagnostician:
    """Rule-based brain of the k8s agent; `run(message, registry)` returns the SPEC §6 result."""

    def __init__(self, known_contexts: Callable[[], list[str]] | None = None) -> None:
        self.known_contexts = known_contexts

    def run(self, message: str, registry: ToolRegistry) -> AgentResult:
        request = parse_request(message, self._contexts())
        investigation = _Investigation(registry, request)
        error = investigation.survey()
        if error:
            return _unreachable(request, error, investigation.trace)
        findings = all_findings(investigation.data)
        return conclude(request, investigation.data, findings, investigation.trace)

    def _contexts(self) -> list[str]:
        if self.known_contexts is None:
            return []
        try:
            return self.known_contexts()
        except Exception:  # noqa: BLE001 - an unreadable kubeconfig is reported by the tools
            return []


class _Investigation:
    """Calls the tools in order and collects their structured data into a `Survey`."""

    def __init__(self, registry: ToolRegistry, request: K8sRequest) -> None:
        self.registry = registry
        self.request = request
        self.trace: list[ToolCall] = []
        self.scope: dict[str, Any] = {}
        if request.context:
            self.scope["context"] = request.context
        if request.namespace:
            self.scope["namespace"] = request.namespace
        self.data = Survey(context=request.context or "", namespace=request.namespace or "")

    def call(self, tool: str, **args: Any) -> Any:
        accepted = self.registry.get(tool).parameters.get("properties", {})
        scope = {k: v for k, v in self.scope.items() if k in accepted}
        output = self.registry.call(tool, {**scope, **args}, self.trace)
        return output.data if output.ok else None

    def survey(self) -> str | None:
        """Collect the namespace's state; return the error text when the cluster cannot be read."""
        pods = self.registry.call(
            "get_pods", {**self.scope, "limit": 200}, self.trace
        )  # first contact
        if not pods.ok:
            return pods.text
        d = self.data
        d.context, d.namespace = pods.data["context"], pods.data["namespace"]
        d.pods = pods.data["pods"]
        d.workloads = (self.call("get_workloads", limit=200) or {}).get("workloads", [])
        d.events = (self.call("get_events", limit=200) or {}).get("events", [])
        storage = self.call("get_pvcs", limit=200) or {}
        d.pvcs, d.storage_classes = storage.get("pvcs", []), storage.get("storage_classes", [])
        d.services = (self.call("get_service", limit=200) or {}).get("services", [])
        d.endpoints = (self.call("get_endpoints", limit=200) or {}).get("endpoints", [])
        self._look_at_pods()
        self._look_at_services()
        return None

    def _look_at_pods(self) -> None:
        troubled = [p for p in self.data.pods if _troubled(p)]
        troubled.sort(key=lambda p: (not self._asked_about(p), p["name"]))
        for pod in troubled[:MAX_PODS_DESCRIBED]:
            detail = self.call("describe_pod", name=pod["name"])
            if detail is None:
                continue
            self.data.details[pod["name"]] = detail
            for c in detail["containers"]:
                if (
                    c["last"].get("state") == "terminated"
                    or c["current"].get("state") == "terminated"
                ):
                    logs = self.call(
                        "get_pod_logs",
                        name=pod["name"],
                        container=c["name"],
                        previous=True,
                        tail=LOG_TAIL,
                    )
                    if logs:
                        self.data.previous_logs[(pod["name"], c["name"])] = logs["lines"]
        if any(p["phase"] == "Pending" and not p["node"] for p in troubled) and not self.data.nodes:
            self.data.nodes = (self.call("get_nodes", limit=200) or {}).get("nodes", [])

    def _look_at_services(self) -> None:
        endpoints = {e["name"]: e for e in self.data.endpoints}
        empty = [
            s
            for s in self.data.services
            if s["selector"] and not (endpoints.get(s["name"]) or {}).get("ready_addresses")
        ]
        empty.sort(key=lambda s: (not self.request.mentions(s["name"]), s["name"]))
        for service in empty[:MAX_SERVICES_DESCRIBED]:
            self.call("describe_service", name=service["name"])

    def _asked_about(self, pod: dict[str, Any]) -> bool:
        owner = self.data.owner_of(pod)
        return self.request.mentions(pod["name"]) or bool(
            owner and self.request.mentions(owner["name"])
        )


def _troubled(pod: dict[str, Any]) -> bool:
    ready, total = pod["ready"].split("/")
    finished = pod["phase"] == "Succeeded"
    return not finished and (pod["phase"] != "Running" or ready != total or pod["restarts"] > 0)


# ---- conclusion and answer -----------------------------------------------------------------------


def choose(request: K8sRequest, findings: list[Finding]) -> tuple[Finding | None, list[Finding]]:
    """The primary finding (what the person asked about first, then root causes) and the rest."""
    if not findings:
        return None, []

    def key(f: Finding) -> tuple[bool, int, float]:
        return (not request.mentioned(f.related), f.rank, -f.confidence)

    ordered = sorted(findings, key=key)
    return ordered[0], ordered[1:]


def conclude(
    request: K8sRequest, survey: Survey, findings: list[Finding], trace: list[ToolCall]
) -> AgentResult:
    primary, others = choose(request, findings)
    if primary is None:
        diagnosis = _healthy(survey)
        text = _render_healthy(survey, diagnosis)
    else:
        contributing = list(
            dict.fromkeys(f.category for f in others if f.category != primary.category)
        )[:3]
        diagnosis = Diagnosis(
            category=primary.category,
            contributing=contributing,
            summary=primary.summary,
            confidence=primary.confidence,
            evidence=primary.evidence,
            recommended_actions=primary.actions,
        )
        text = _render(survey, primary, others)
    return AgentResult(
        text=text,
        diagnosis=diagnosis,
        tool_calls=trace,
        model=ModelInfo(vendor="builtin", name="k8s-rules"),
    )


def _where(survey: Survey) -> str:
    return f"namespace `{survey.namespace}`" + (
        f", context `{survey.context}`" if survey.context else ""
    )


def _render(survey: Survey, primary: Finding, others: list[Finding]) -> str:
    lines = [
        f"**Diagnosis: {primary.category}** ({_where(survey)})",
        "",
        primary.summary,
        "",
        "**Evidence**",
    ]
    lines += [f"- {e}" for e in primary.evidence]
    if primary.details:
        lines += [
            "",
            "**Last lines of the previous container's log**",
            "```",
            *primary.details,
            "```",
        ]
    lines += ["", "**Recommended actions**"]
    lines += [f"{i}. {_code(a)}" for i, a in enumerate(primary.actions, 1)]
    seen = {primary.summary}
    extra = [f for f in others if f.summary not in seen]
    if extra:
        lines += ["", "**Also noticed**"]
        lines += [f"- {f.category}: {f.summary}" for f in extra[:4]]
    return "\n".join(lines)


def _code(action: str) -> str:
    if action.startswith("kubectl "):
        command, _, comment = action.partition("   # ")
        return f"`{command}`" + (f" — {comment}" if comment else "")
    return action


def _healthy(survey: Survey) -> Diagnosis:
    pods = [p for p in survey.pods if p["phase"] != "Succeeded"]
    restarts = sum(p["restarts"] for p in pods)
    warnings = [e for e in survey.events if e["type"] == "Warning"]
    evidence = [
        f"{len(pods)} pod(s), all Running and ready"
        + (f" ({restarts} restart(s) in total)" if restarts else ""),
        f"{len(survey.workloads)} deployment(s)/statefulset(s) at their desired replicas: "
        + ", ".join(f"{w['name']} {w['ready']}/{w['desired']}" for w in survey.workloads[:6]),
        f"{len(survey.services)} service(s) with ready endpoints",
        f"{len(survey.pvcs)} persistent volume claim(s), all Bound"
        if all(p["phase"] == "Bound" for p in survey.pvcs)
        else "persistent volume claims pending only for a first consumer",
        f"{len(warnings)} warning event(s)"
        + (f", latest: {warnings[0]['reason']}: {warnings[0]['message']}" if warnings else ""),
    ]
    empty = not (survey.pods or survey.workloads or survey.services)
    if empty:
        evidence.insert(
            0,
            f"namespace {survey.namespace} holds no pods, workloads or services: check that it is "
            "the right namespace (kubectl get namespaces)",
        )
    return Diagnosis(
        category="healthy",
        summary=(
            f"Nothing is wrong in {_where(survey)}: pods run and are ready, workloads "
            "have their replicas, services have endpoints and claims are bound."
        ),
        confidence=0.3 if empty else 0.6 if warnings else 0.8,
        evidence=evidence,
        recommended_actions=[
            "if the symptom persists, check the application's own logs and its dependencies "
            "outside the cluster: " + survey.kubectl("logs deploy/<name>"),
        ],
    )


def _render_healthy(survey: Survey, diagnosis: Diagnosis) -> str:
    lines = [
        f"**Diagnosis: healthy** ({_where(survey)})",
        "",
        diagnosis.summary,
        "",
        "**What I checked**",
    ]
    lines += [f"- {e}" for e in diagnosis.evidence]
    lines += ["", "**Next steps**", *(f"1. {_code(a)}" for a in diagnosis.recommended_actions)]
    return "\n".join(lines)


def _unreachable(request: K8sRequest, error: str, trace: list[ToolCall]) -> AgentResult:
    where = " ".join(
        part
        for part in (
            f"context `{request.context}`" if request.context else "",
            f"namespace `{request.namespace}`" if request.namespace else "",
        )
        if part
    )
    text = (
        f"I could not read the Kubernetes cluster{(' (' + where + ')') if where else ''}, so "
        "I cannot "
        f"diagnose it.\n\n```\n{error}\n```\n\nCheck that the API server is reachable and that the "
        "kubeconfig (KUBECONFIG) and context are right: `kubectl config get-contexts`, "
        "`kubectl cluster-info`."
    )
    return AgentResult(
        text=text,
        diagnosis=None,
        tool_calls=trace,
        model=ModelInfo(vendor="builtin", name="k8s-rules"),
    )
