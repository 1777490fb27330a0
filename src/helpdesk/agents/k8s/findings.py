"""The k8s diagnostician's rules: from surveyed objects to findings, one taxonomy category each.

Pure functions over the tools' structured data (no I/O). Rules judge from states, reasons,
exit codes, events and selectors — never from object names; names only link findings to
what the person asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from helpdesk.agents.k8s import views

Obj = dict[str, Any]

# Root causes first: when one pod shows several symptoms, the earlier category explains it.
PRECEDENCE = (
    "config_missing",
    "image_pull_failure",
    "oom_killed",
    "probe_failure",
    "pod_crash_loop",
    "pvc_pending",
    "pod_unschedulable",
    "scaled_to_zero",
    "no_endpoints",
)

IMAGE_REASONS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
CRASH_REASONS = frozenset({"CrashLoopBackOff", "RunContainerError"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError"})
MISSING_REF = re.compile(
    r"(?:(secret|configmap)s?\s+\"([^\"]+)\"\s+not found)"
    r"|(?:couldn't find key (\S+) in (Secret|ConfigMap) ([\w./-]+))",
    re.IGNORECASE,
)
PROBE_FAILED = re.compile(r"\b(liveness|readiness|startup) probe (?:failed|errored)", re.IGNORECASE)
PROBE_KILL = re.compile(r"failed (liveness|startup) probe", re.IGNORECASE)


@dataclass
class Survey:
    """What the investigation collected, as the tools' structured data."""

    context: str
    namespace: str
    pods: list[Obj] = field(default_factory=list)
    details: dict[str, Obj] = field(default_factory=dict)  # pod name -> describe_pod data
    previous_logs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    workloads: list[Obj] = field(default_factory=list)
    services: list[Obj] = field(default_factory=list)
    endpoints: list[Obj] = field(default_factory=list)
    pvcs: list[Obj] = field(default_factory=list)
    storage_classes: list[Obj] = field(default_factory=list)
    nodes: list[Obj] = field(default_factory=list)

    def kubectl(self, args: str) -> str:
        ctx = f"--context {self.context} " if self.context else ""
        return f"kubectl {ctx}-n {self.namespace} {args}"

    def owner_of(self, pod: Obj) -> Obj | None:
        """The Deployment/StatefulSet whose selector matches the pod's labels."""
        return next(
            (w for w in self.workloads if views.selects(w["selector"], pod["labels"])), None
        )

    def services_of(self, labels: dict[str, str]) -> list[Obj]:
        return [s for s in self.services if views.selects(s["selector"], labels)]

    def endpoint(self, name: str) -> Obj | None:
        return next((e for e in self.endpoints if e["name"] == name), None)

    def events_for(self, kind: str, name: str) -> list[Obj]:
        return [e for e in self.events if e["kind"] == kind and e["object"] == name]


@dataclass
class Finding:
    category: str
    summary: str
    evidence: list[str]
    actions: list[str]
    related: set[str] = field(default_factory=set)  # object names this finding concerns
    confidence: float = 0.9
    details: list[str] = field(default_factory=list)  # e.g. log lines, shown in the answer

    @property
    def rank(self) -> int:
        return PRECEDENCE.index(self.category)


# ---- pods ------------------------------------------------------------------------------------


def _pod_ref(survey: Survey, pod: Obj) -> tuple[str, set[str]]:
    owner = survey.owner_of(pod)
    related = {pod["name"]}
    ref = f"pod {pod['name']}"
    if owner:
        ref += f" ({owner['kind']} {owner['name']})"
        related.add(owner["name"])
    related.update(s["name"] for s in survey.services_of(pod["labels"]))
    return ref, related


def _workload(survey: Survey, pod: Obj) -> str:
    owner = survey.owner_of(pod)
    return f"{owner['kind'].lower()}/{owner['name']}" if owner else "deployment/<name>"


def _latest(events: list[Obj], reason: str, contains: str = "") -> Obj | None:
    return next(
        (e for e in events if e["reason"] == reason and contains.lower() in e["message"].lower()),
        None,
    )


def pod_findings(survey: Survey, detail: Obj) -> list[Finding]:
    ref, related = _pod_ref(survey, detail)
    events = detail.get("events") or []
    found: list[Finding] = []
    for c in detail["containers"]:
        finding = _container_finding(survey, detail, c, events, ref)
        if finding:
            finding.related |= related
            found.append(finding)
    scheduling = _scheduling_finding(survey, detail, events, ref)
    if scheduling:
        scheduling.related |= related
        found.append(scheduling)
    mount = _mount_finding(survey, detail, events, ref)
    if mount and not any(f.category == "config_missing" for f in found):
        mount.related |= related
        found.append(mount)
    return found


def _container_finding(
    survey: Survey, pod: Obj, c: Obj, events: list[Obj], ref: str
) -> Finding | None:
    cur, last = c["current"], c["last"]
    reason = cur.get("reason")
    where = f"{ref}, container {c['name']}"
    if reason in CONFIG_REASONS and MISSING_REF.search(cur.get("message") or ""):
        return _config_missing(survey, pod, c, cur.get("message") or "", where, reason)
    if reason in IMAGE_REASONS:
        return _image_pull(survey, pod, c, events, where, reason)
    if "OOMKilled" in (last.get("reason"), cur.get("reason")):
        return _oom(survey, pod, c, where)
    probe_events = [e for e in events if PROBE_FAILED.search(e["message"])]
    kills = [e for e in events if PROBE_KILL.search(e["message"])]
    liveness = [e for e in probe_events if not e["message"].lower().startswith("readiness")]
    if c["restarts"] and (kills or liveness):
        return _probe(survey, pod, c, kills + liveness + probe_events, where, killed=True)
    crashed = last.get("state") == "terminated" or cur.get("state") == "terminated"
    if reason in CRASH_REASONS or (crashed and c["restarts"] >= 2):
        return _crash_loop(survey, pod, c, events, where)
    if cur.get("state") == "running" and not c["ready"] and probe_events:
        return _probe(survey, pod, c, probe_events, where, killed=False)
    return None


def _config_missing(
    survey: Survey, pod: Obj, c: Obj, message: str, where: str, reason: str
) -> Finding:
    match = MISSING_REF.search(message)
    assert match is not None
    if match.group(1):
        kind = "Secret" if match.group(1).lower() == "secret" else "ConfigMap"
        missing, name = f'{kind} "{match.group(2)}"', match.group(2)
    else:
        kind, name = match.group(4), match.group(5).split("/")[-1]
        missing = f'key {match.group(3)} in {kind} "{name}"'
    return Finding(
        category="config_missing",
        summary=f"{where} cannot be created: {reason} because {missing} does not exist.",
        evidence=[
            f"{where}: waiting, reason {reason}: {message}",
            "the container reads: "
            f"{', '.join(c['config_refs'] + pod.get('volume_refs', [])) or '(see spec)'}",
        ],
        actions=[
            survey.kubectl(f"get {kind.lower()} {name}") + "   # confirm it is missing",
            f"create the {kind} {name} (e.g. "
            + survey.kubectl(f"create {kind.lower()} generic {name} --from-literal=...")
            + ") or fix the name the pod spec references",
            survey.kubectl(f"describe pod {pod['name']}") + "   # the pod starts once it exists",
        ],
        related={name},
        confidence=0.95,
    )


def _image_pull(
    survey: Survey, pod: Obj, c: Obj, events: list[Obj], where: str, reason: str
) -> Finding:
    failed = _latest(events, "Failed", "failed to pull") or _latest(events, "Failed", "image")
    registry_error = failed["message"] if failed else (c["current"].get("message") or "")
    evidence = [f"{where}: waiting, reason {reason} for image {c['image']}"]
    if registry_error:
        evidence.append(f"kubelet: {registry_error}")
    if c["current"].get("message") and c["current"]["message"] not in registry_error:
        evidence.append(f"status message: {c['current']['message']}")
    return Finding(
        category="image_pull_failure",
        summary=f"{where} never started: the kubelet cannot pull image {c['image']} ({reason}).",
        evidence=evidence,
        actions=[
            f"check that the image {c['image']} exists (registry, repository and tag) and that the "
            "node can resolve and reach the registry",
            "fix the image reference in the workload (or add imagePullSecrets for a private "
            "registry) and roll out again",
            survey.kubectl(f"describe pod {pod['name']}") + "   # watch the pull events",
        ],
        confidence=0.95,
    )


def _oom(survey: Survey, pod: Obj, c: Obj, where: str) -> Finding:
    term = c["last"] if c["last"].get("reason") == "OOMKilled" else c["current"]
    limit = c["resources"]["limits"].get("memory")
    request = c["resources"]["requests"].get("memory")
    evidence = [
        f"{where}: last terminated with reason OOMKilled, exit code {term.get('exit_code')}"
        + (f" at {term['finished_at']}" if term.get("finished_at") else ""),
        f"memory limit {limit or 'none set'}"
        + (f", request {request}" if request else "")
        + f"; restart count {c['restarts']}",
    ]
    if c["current"].get("reason") == "CrashLoopBackOff":
        evidence.append("current state: waiting in CrashLoopBackOff after the OOM kills")
    return Finding(
        category="oom_killed",
        summary=f"{where} is killed for exceeding its memory limit ({limit or 'node memory'}): "
        f"OOMKilled, exit code {term.get('exit_code')}, restarted {c['restarts']} times.",
        evidence=evidence,
        actions=[
            f"raise the memory limit above what the container needs (now {limit or 'unset'}), e.g. "
            + survey.kubectl(
                f"set resources {_workload(survey, pod)} -c {c['name']} --limits=memory=<more>"
            ),
            "or find and fix the memory growth in the application",
            survey.kubectl(f"top pod {pod['name']} --containers") + "   # observe its real usage",
        ],
        confidence=0.95,
    )


def _probe(
    survey: Survey, pod: Obj, c: Obj, events: list[Obj], where: str, killed: bool
) -> Finding:
    seen: list[str] = []
    for e in events:
        line = f"event {e['reason']} (x{e['count']}): {e['message']}"
        if line not in seen:
            seen.append(line)
    kinds = sorted(
        {m.group(1).lower() for e in events for m in [PROBE_FAILED.search(e["message"])] if m}
    )
    what = " and ".join(kinds) or "liveness"
    summary = (
        f"{where} fails its {what} probe"
        + (
            f" and is restarted by the kubelet (restart count {c['restarts']})"
            if killed
            else ", so it is not ready"
        )
        + "."
    )
    evidence = [
        f"{where}: ready {'yes' if c['ready'] else 'no'}, restart count {c['restarts']}",
        *seen[:4],
    ]
    if c["last"].get("state") == "terminated":
        evidence.append(
            f"last termination: reason {c['last'].get('reason')}, exit code "
            f"{c['last'].get('exit_code')}"
        )
    return Finding(
        category="probe_failure",
        summary=summary,
        evidence=evidence,
        actions=[
            survey.kubectl(f"describe pod {pod['name']}") + "   # probe definition and failures",
            survey.kubectl(f"logs {pod['name']} -c {c['name']}")
            + "   # why the health endpoint fails",
            "fix what makes the health endpoint fail, or correct the probe (path, port, "
            "timeoutSeconds, initialDelaySeconds/startupProbe) if it is wrong",
        ],
        confidence=0.85,
    )


def _crash_loop(survey: Survey, pod: Obj, c: Obj, events: list[Obj], where: str) -> Finding:
    term = c["last"] if c["last"].get("state") == "terminated" else c["current"]
    logs = survey.previous_logs.get((pod["name"], c["name"]), [])
    evidence = [
        f"{where}: {c['current'].get('reason') or c['current'].get('state')}, restart count "
        f"{c['restarts']}",
        f"last termination: reason {term.get('reason')}, exit code {term.get('exit_code')}"
        + (f", message {term['message']!r}" if term.get("message") else ""),
    ]
    back_off = _latest(events, "BackOff")
    if back_off:
        evidence.append(f"event BackOff (x{back_off['count']}): {back_off['message']}")
    error_lines = [
        line
        for line in logs
        if re.search(r"error|fatal|panic|exception|denied|not found|no such", line, re.I)
    ]
    for line in dict.fromkeys([*error_lines[:1], *error_lines[-1:]]):
        evidence.append(f"previous container log: {line.strip()}")
    return Finding(
        category="pod_crash_loop",
        summary=f"{where} is in a crash loop: it exits with exit code {term.get('exit_code')} "
        f"({term.get('reason')}) right after starting and the kubelet keeps restarting it "
        f"(restart count {c['restarts']}).",
        evidence=evidence,
        actions=[
            survey.kubectl(f"logs {pod['name']} -c {c['name']} --previous") + "   # why it exits",
            "fix the cause the log shows (missing configuration, wrong command or arguments, "
            "unreachable dependency) in the workload spec and roll out again",
            survey.kubectl(f"rollout undo {_workload(survey, pod)}")
            + "   # if the last rollout broke it",
        ],
        details=[line.rstrip() for line in logs[-8:]],
        confidence=0.9,
    )


def _scheduling_finding(survey: Survey, pod: Obj, events: list[Obj], ref: str) -> Finding | None:
    scheduled = next((c for c in pod["conditions"] if c["type"] == "PodScheduled"), None)
    if pod["phase"] != "Pending" or not scheduled or scheduled["status"] != "False":
        return None
    failed = _latest(events, "FailedScheduling")
    message = failed["message"] if failed else (scheduled.get("message") or "")
    if "persistentvolumeclaim" in message.lower():
        return None  # the claim is the cause: reported by the PVC rule
    requests = {
        k: v
        for c in pod["containers"]
        for k, v in c["resources"]["requests"].items()
        if k in ("cpu", "memory")
    }
    biggest = {
        key: max(
            (n["allocatable"].get(key) for n in survey.nodes if n["allocatable"].get(key)),
            key=_quantity,
            default=None,
        )
        for key in ("cpu", "memory")
    }
    evidence = [f"{ref}: Pending, PodScheduled=False ({scheduled.get('reason')})"]
    if message:
        evidence.append(
            f"scheduler: {message}" + (f" (FailedScheduling x{failed['count']})" if failed else "")
        )
    if requests:
        evidence.append(f"the pod requests {views.selector_text(requests)}")
    if survey.nodes:
        evidence.append(
            f"{len(survey.nodes)} node(s); largest allocatable cpu={biggest['cpu']}, "
            f"memory={biggest['memory']}"
        )
    return Finding(
        category="pod_unschedulable",
        summary=(
            f"{ref} cannot be scheduled and stays Pending: {message or scheduled.get('reason')}"
        ),
        evidence=evidence,
        actions=[
            "lower the pod's resource requests to what a node can offer, or add nodes/capacity "
            "(or fix the node selector, affinity or tolerations the scheduler message names)",
            survey.kubectl(f"describe pod {pod['name']}") + "   # scheduler events",
            (f"kubectl --context {survey.context} " if survey.context else "kubectl ")
            + "describe nodes | grep -A8 Allocated   # what is already requested",
        ],
        confidence=0.9,
    )


def _mount_finding(survey: Survey, pod: Obj, events: list[Obj], ref: str) -> Finding | None:
    for e in events:
        if e["reason"] == "FailedMount":
            match = MISSING_REF.search(e["message"])
            if match and match.group(1):
                kind = "Secret" if match.group(1).lower() == "secret" else "ConfigMap"
                return Finding(
                    category="config_missing",
                    summary=(
                        f"{ref} cannot start: the {kind} {match.group(2)} it mounts does not exist."
                    ),
                    evidence=[f"event FailedMount (x{e['count']}): {e['message']}"],
                    actions=[
                        survey.kubectl(f"get {kind.lower()} {match.group(2)}"),
                        f"create the {kind} {match.group(2)} or fix the volume's reference",
                    ],
                    related={match.group(2)},
                )
    return None


def _quantity(value: str | None) -> float:
    """A Kubernetes quantity (cpu or bytes) as a number, for comparisons."""
    if not value:
        return 0.0
    units = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "m": 1e-3,
    }
    for suffix, factor in units.items():
        if value.endswith(suffix):
            try:
                return float(value[: -len(suffix)]) * factor
            except ValueError:
                return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0


# ---- storage, workloads, services ---------------------------------------------------------------


def pvc_findings(survey: Survey) -> list[Finding]:
    found = []
    classes = [s["name"] for s in survey.storage_classes]
    for pvc in survey.pvcs:
        if pvc["phase"] != "Pending":
            continue
        events = survey.events_for("PersistentVolumeClaim", pvc["name"])
        warnings = [e for e in events if e["type"] == "Warning"]
        pods = [d for d in survey.details.values() if pvc["name"] in d.get("pvcs", [])]
        class_missing = bool(pvc["storage_class"]) and pvc["storage_class"] not in classes
        if not (class_missing or warnings or pods):
            continue
        evidence = [
            f"PersistentVolumeClaim {pvc['name']}: Pending, storageClassName "
            f"{pvc['storage_class'] or '<none>'}"
        ]
        if class_missing:
            evidence.append(
                f"StorageClass {pvc['storage_class']} does not exist; existing classes: "
                f"{', '.join(classes) or 'none'}"
            )
        evidence += [f"event {e['reason']} (x{e['count']}): {e['message']}" for e in warnings[:2]]
        evidence += [f"pod {d['name']} mounts it and is {d['status']}" for d in pods[:3]]
        cause = (
            f"StorageClass {pvc['storage_class']} does not exist"
            if class_missing
            else (warnings[0]["message"] if warnings else "no volume is provisioned for it")
        )
        default = next(
            (s["name"] for s in survey.storage_classes if s["default"]),
            classes[0] if classes else None,
        )
        found.append(
            Finding(
                category="pvc_pending",
                summary=f"PersistentVolumeClaim {pvc['name']} is Pending (not bound): {cause}"
                + (f"; pod {pods[0]['name']} waits for it" if pods else "")
                + ".",
                evidence=evidence,
                actions=[
                    "recreate the claim with an existing StorageClass "
                    f"({default or 'create one first'}); "
                    "storageClassName cannot be changed on an existing claim",
                    f"or create the StorageClass {pvc['storage_class']}"
                    if class_missing
                    else survey.kubectl(f"describe pvc {pvc['name']}"),
                    "kubectl get storageclass",
                ],
                related={pvc["name"], *(d["name"] for d in pods), *(_owner_names(survey, pods))},
                confidence=0.95 if class_missing else 0.8,
            )
        )
    return found


def _owner_names(survey: Survey, pods: list[Obj]) -> list[str]:
    return [o["name"] for o in (survey.owner_of(p) for p in pods) if o]


def workload_findings(survey: Survey) -> list[Finding]:
    found = []
    for w in survey.workloads:
        if w["desired"] != 0:
            continue
        services = survey.services_of(w["template_labels"])
        evidence = [
            f"{w['kind']} {w['name']}: spec.replicas 0 (ready {w['ready']}, available "
            f"{w['available']})"
        ]
        scaled = _latest(survey.events_for(w["kind"], w["name"]), "ScalingReplicaSet", "to 0")
        if scaled:
            evidence.append(f"event ScalingReplicaSet: {scaled['message']}")
        for s in services:
            ep = survey.endpoint(s["name"])
            if not ep or not ep["ready_addresses"]:
                evidence.append(
                    f"service {s['name']} selects {views.selector_text(s['selector'])} and "
                    "has no endpoints"
                )
        found.append(
            Finding(
                category="scaled_to_zero",
                summary=f"{w['kind']} {w['name']} is scaled to zero replicas, so nothing runs"
                + (f" behind service {services[0]['name']}" if services else "")
                + ".",
                evidence=evidence,
                actions=[
                    survey.kubectl(f"scale {w['kind'].lower()}/{w['name']} --replicas=<N>"),
                    "check who scaled it down (an HPA/KEDA scaler, a CronJob, a person) so it "
                    "does not happen again",
                ],
                related={w["name"], *(s["name"] for s in services)},
                confidence=0.9,
            )
        )
    return found


def service_findings(survey: Survey) -> list[Finding]:
    found = []
    for s in survey.services:
        if not s["selector"]:
            continue
        ep = survey.endpoint(s["name"])
        if ep and (ep["ready_addresses"] or ep["not_ready_addresses"]):
            continue
        if any(views.selects(s["selector"], p["labels"]) for p in survey.pods):
            continue  # pods match: their own state explains missing endpoints
        if any(views.selects(s["selector"], w["template_labels"]) for w in survey.workloads):
            continue  # a workload would match (scaled to zero or not yet created pods)
        found.append(_no_endpoints(survey, s, ep))
    return found


def _no_endpoints(survey: Survey, s: Obj, ep: Obj | None) -> Finding:
    selector = views.selector_text(s["selector"])
    near = sorted(survey.pods, key=lambda p: -_likeness(s["selector"], p["labels"]))
    evidence = [
        f"service {s['name']} selects {selector}; no pod in namespace {survey.namespace} has "
        "these labels",
        f"endpoints {s['name']}: " + ("no addresses" if ep else "no Endpoints object"),
    ]
    evidence += [
        f"pod {p['name']} ({p['status']}, ready {p['ready']}) has labels "
        f"{views.selector_text(p['labels'])}"
        for p in near[:3]
    ]
    suggestion = _closest_labels(survey, s["selector"])
    actions = [
        survey.kubectl("get pods --show-labels") + "   # compare with the selector",
        "correct the service's selector (or the pods' labels) so they match"
        + (
            ": "
            + survey.kubectl(
                f'patch service {s["name"]} -p \'{{"spec":{{"selector":{_json(suggestion)}}}}}\''
            )
            if suggestion
            else ""
        ),
        survey.kubectl(f"get endpoints {s['name']}") + "   # addresses appear once it matches",
    ]
    related = {s["name"], *(p["name"] for p in near[:3])}
    related.update(o["name"] for o in (survey.owner_of(p) for p in near[:3]) if o)
    return Finding(
        category="no_endpoints",
        summary=f"Service {s['name']} has no endpoints: its selector {selector} matches no pod, "
        "so traffic to it goes nowhere.",
        evidence=evidence,
        actions=actions,
        related=related,
        confidence=0.9,
    )


def _likeness(selector: dict[str, str], labels: dict[str, str]) -> float:
    """How close labels come to a selector: shared keys, plus how alike their values are."""
    return sum(
        1 + SequenceMatcher(None, value, labels[key]).ratio()
        for key, value in selector.items()
        if key in labels
    )


def _closest_labels(survey: Survey, selector: dict[str, str]) -> dict[str, str] | None:
    """The selector rewritten to the labels of the most alike workload template (a likely fix)."""
    scored = [(_likeness(selector, w["template_labels"]), w) for w in survey.workloads]
    scored = [(score, w) for score, w in scored if score > 0]
    if not scored:
        return None
    best = max(scored, key=lambda sw: sw[0])[1]["template_labels"]
    return {k: best[k] for k in selector if k in best}


def _json(mapping: dict[str, str]) -> str:
    return "{" + ",".join(f'"{k}":"{v}"' for k, v in mapping.items()) + "}"


def all_findings(survey: Survey) -> list[Finding]:
    found: list[Finding] = []
    for detail in survey.details.values():
        found += pod_findings(survey, detail)
    found += pvc_findings(survey) + workload_findings(survey) + service_findings(survey)
    return found
