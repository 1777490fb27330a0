"""Kubernetes mutation tools: delete a controller-managed pod, restart or scale a workload.

Like the database mutations: inspect the object, ask the approval policy (a cluster
tagged test/chaos in the infrastructure config, or an approval), act through lightkube,
then verify on two levels (the API's answer, then a fresh read after a bounded wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lightkube.resources.apps_v1 import Deployment, StatefulSet
from lightkube.resources.core_v1 import Pod
from lightkube.types import PatchType

from helpdesk.agents import approval
from helpdesk.agents.base import ToolOutput
from helpdesk.agents.k8s.client import KubeAccess, KubeError, KubeSession

AGENT_NAME = "k8s_agent"
KINDS: dict[str, Any] = {"deployment": Deployment, "statefulset": StatefulSet}
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
VERIFY_TIMEOUT_S = 5.0
VERIFY_INTERVAL_S = 0.2

Check = Callable[[], tuple[bool, dict[str, Any]]]


def _record(tool: str, session: KubeSession, target: str) -> dict[str, Any]:
    return {
        "tool": tool,
        "target": f"k8s:{session.context}/{session.namespace}/{target}",
        "outcome": "pending",
        "inspection": {},
        "decision": None,
        "action": None,
        "verification": {},
    }


def _output(record: dict[str, Any], ok: bool, headline: str) -> ToolOutput:
    lines = [f"{record['tool']} on {record['target']}: {record['outcome']}", headline]
    if record["inspection"]:
        lines.append(f"inspection: {record['inspection']}")
    if record["decision"]:
        lines.append(f"decision: {record['decision']['basis']}: {record['decision']['reason']}")
    if record["verification"]:
        lines.append(f"verification: {record['verification']}")
    return ToolOutput(text="\n".join(lines), data={"mutation": record}, ok=ok)


def _poll(check: Check) -> tuple[bool, dict[str, Any]]:
    started = time.monotonic()
    while True:
        ok, observed = check()
        waited = round(time.monotonic() - started, 2)
        if ok or waited >= VERIFY_TIMEOUT_S:
            return ok, {**observed, "waited_s": waited}
        time.sleep(VERIFY_INTERVAL_S)


def _decide_and_act(
    record: dict[str, Any],
    session: KubeSession,
    summary: str,
    act: Callable[[], dict[str, Any]],
    check: Check,
) -> ToolOutput:
    decision = approval.decide_k8s(session.context, AGENT_NAME, record["tool"], summary)
    record["decision"] = decision.as_dict()
    if not decision.allowed:
        record["outcome"] = "refused"
        return _output(record, False, f"refused: {decision.reason}. Planned: {summary}")
    record["action"] = act()
    call_ok = bool(record["action"].get("ok"))
    record["verification"]["call"] = {"ok": call_ok, "returned": record["action"]["returned"]}
    state_ok, observed = _poll(check)
    record["verification"]["state"] = {"ok": state_ok, **observed}
    if call_ok and state_ok:
        record["outcome"] = "done"
        return _output(record, True, f"done and verified: {summary}")
    record["outcome"] = "verification_failed"
    level = "the API call reported failure" if not call_ok else "the state did not change"
    return _output(record, False, f"NOT verified ({level}): {summary}")


def _kind(kind: str) -> Any:
    resource = KINDS.get(kind.strip().lower())
    if resource is None:
        raise KubeError(f"kind must be Deployment or StatefulSet, not {kind!r}")
    return resource


def delete_pod(access: KubeAccess, name: str, namespace: str = "", context: str = "") -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        record = _record("delete_pod", session, f"pod/{name}")
        pod = session.get_object(Pod, name)
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        owners = [f"{o.get('kind')}/{o.get('name')}" for o in meta.get("ownerReferences") or []]
        restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
        record["inspection"] = {
            "phase": status.get("phase"),
            "owners": owners,
            "restarts": restarts,
            "node": (pod.get("spec") or {}).get("nodeName"),
            "uid": meta.get("uid"),
        }
        if not owners:
            record["outcome"] = "refused"
            return _output(
                record,
                False,
                f"pod {name} has no controller: deleting it would lose it for good; "
                "a person must recreate or replace it",
            )

        def act() -> dict[str, Any]:
            session.client.delete(Pod, name, namespace=session.namespace)
            return {"request": f"DELETE pod {name}", "returned": "accepted", "ok": True}

        def check() -> tuple[bool, dict[str, Any]]:
            try:
                now = session.get_object(Pod, name)
            except Exception:  # gone (404): the controller will make a new one
                return True, {"old_pod_gone": True}
            replaced = (now.get("metadata") or {}).get("uid") != record["inspection"]["uid"]
            return replaced, {"old_pod_gone": replaced}

        summary = f"delete pod {name} ({status.get('phase')}, {restarts} restarts, owned by " + (
            f"{', '.join(owners)}: it will be recreated)"
        )
        return _decide_and_act(record, session, summary, act, check)

    return access.run(context, namespace, body)


def restart_workload(
    access: KubeAccess, kind: str, name: str, namespace: str = "", context: str = ""
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        resource = _kind(kind)
        record = _record("restart_workload", session, f"{kind.lower()}/{name}")
        obj = session.get_object(resource, name)
        meta, status = obj.get("metadata") or {}, obj.get("status") or {}
        record["inspection"] = {
            "generation": meta.get("generation"),
            "replicas": (obj.get("spec") or {}).get("replicas"),
            "ready": status.get("readyReplicas", 0),
        }
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}

        def stamped(o: dict[str, Any]) -> bool:
            template = ((o.get("spec") or {}).get("template") or {}).get("metadata") or {}
            return (template.get("annotations") or {}).get(RESTART_ANNOTATION) == stamp

        def act() -> dict[str, Any]:
            answer = session.client.patch(
                resource, name, patch, namespace=session.namespace, patch_type=PatchType.MERGE
            ).to_dict()
            return {"request": f"PATCH {RESTART_ANNOTATION}={stamp}", "returned": stamp,
                    "ok": stamped(answer)}  # fmt: skip

        def check() -> tuple[bool, dict[str, Any]]:
            ok = stamped(session.get_object(resource, name))
            return ok, {"rollout_requested": ok}

        summary = (
            f"rolling restart of {kind} {name} ({record['inspection']['ready']}/"
            f"{record['inspection']['replicas']} ready)"
        )
        return _decide_and_act(record, session, summary, act, check)

    return access.run(context, namespace, body)


def scale_workload(
    access: KubeAccess,
    kind: str,
    name: str,
    replicas: int,
    namespace: str = "",
    context: str = "",
) -> ToolOutput:
    def body(session: KubeSession) -> ToolOutput:
        resource = _kind(kind)
        record = _record("scale_workload", session, f"{kind.lower()}/{name}")
        obj = session.get_object(resource, name)
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        record["inspection"] = {
            "replicas": spec.get("replicas"),
            "ready": status.get("readyReplicas", 0),
        }

        def act() -> dict[str, Any]:
            answer = session.client.patch(
                resource,
                name,
                {"spec": {"replicas": replicas}},
                namespace=session.namespace,
                patch_type=PatchType.MERGE,
            ).to_dict()
            returned = (answer.get("spec") or {}).get("replicas")
            return {"request": f"PATCH spec.replicas={replicas}", "returned": returned,
                    "ok": returned == replicas}  # fmt: skip

        def check() -> tuple[bool, dict[str, Any]]:
            now = session.get_object(resource, name)
            desired = (now.get("spec") or {}).get("replicas")
            ready = (now.get("status") or {}).get("readyReplicas", 0)
            return desired == replicas, {"desired_now": desired, "ready_now": ready}

        summary = f"scale {kind} {name} from {spec.get('replicas')} to {replicas} replicas"
        return _decide_and_act(record, session, summary, act, check)

    return access.run(context, namespace, body)
