"""The k8s tools through the real lightkube client against the fake API: content and bounds."""

from __future__ import annotations

import pytest

from helpdesk.agents.base import ToolArgumentError
from tests.agents.k8s import scenarios
from tests.fakes import kube_objects as k

NS = scenarios.NS


def test_schemas_are_flat_json_objects(cluster) -> None:
    names = [t.name for t in cluster.registry if not t.mutating]
    mutating = [t.name for t in cluster.registry if t.mutating]
    assert mutating == ["delete_pod", "restart_workload", "scale_workload"]  # tools_mutation
    assert names == [
        "get_pods",
        "describe_pod",
        "get_pod_logs",
        "get_events",
        "get_service",
        "describe_service",
        "get_endpoints",
        "get_nodes",
        "get_pvcs",
        "get_workloads",
    ]
    for tool in cluster.registry:
        assert tool.parameters["type"] == "object"
        assert "context" in tool.parameters["properties"]


def test_get_pods_shows_kubectl_status_and_is_bounded(cluster) -> None:
    scenarios.crash_loop(cluster.api)
    for i in range(40):
        c = k.container("job", "busybox:1.36")
        cluster.api.add(
            k.pod(f"batch-{i:02d}", NS, {"app": "batch"}, [c], [k.container_status(c, k.running())])
        )

    out = cluster.registry.call("get_pods", {"limit": 10})
    assert out.ok
    assert len(out.data["pods"]) == 43
    assert "... 33 more row(s) not shown" in out.text
    assert len(out.text.splitlines()) <= 14

    selected = cluster.registry.call("get_pods", {"label_selector": "app=ledger-api"})
    (pod,) = selected.data["pods"]
    assert (pod["status"], pod["ready"], pod["restarts"]) == ("CrashLoopBackOff", "0/1", 6)
    assert "CrashLoopBackOff" in selected.text


def test_describe_pod_reports_states_resources_and_events(cluster) -> None:
    scenarios.oom_killed(cluster.api)
    name = scenarios._pod("thumbnailer")
    out = cluster.registry.call("describe_pod", {"name": name})
    (c,) = out.data["containers"]
    assert c["current"] == {
        "state": "waiting",
        "reason": "CrashLoopBackOff",
        "message": c["current"]["message"],
    }
    assert (c["last"]["reason"], c["last"]["exit_code"]) == ("OOMKilled", 137)
    assert c["resources"]["limits"] == {"memory": "32Mi"}
    assert out.data["node"] == "worker-2"
    assert [e["reason"] for e in out.data["events"]] == ["BackOff"]
    assert "last state: terminated reason=OOMKilled exit_code=137" in out.text
    assert "limits: memory=32Mi" in out.text


def test_describe_pod_of_a_missing_pod_is_a_clear_error(cluster) -> None:
    out = cluster.registry.call("describe_pod", {"name": "nope"})
    assert not out.ok
    assert 'pods "nope" not found' in out.text
    assert "namespace shop" in out.text


def test_pod_logs_current_previous_and_tail(cluster) -> None:
    scenarios.crash_loop(cluster.api)
    name = scenarios._pod("ledger-api")
    cluster.api.set_log(
        NS, name, "".join(f"line {i} " + "x" * 1000 + "\n" for i in range(1000)), container="api"
    )

    current = cluster.registry.call("get_pod_logs", {"name": name, "tail": 5})
    assert current.data["lines"][0].startswith("line 995 ")
    assert len(current.data["lines"]) == 5
    assert all(len(line) <= 300 for line in current.data["lines"])

    previous = cluster.registry.call("get_pod_logs", {"name": name, "previous": True})
    assert previous.data["previous"] is True
    assert "FATAL cannot start without configuration" in previous.text

    with pytest.raises(ToolArgumentError):
        cluster.registry.call("get_pod_logs", {"name": name, "tail": "all"})


def test_previous_logs_of_a_never_restarted_pod_are_an_error(cluster) -> None:
    pod = cluster.api.list("Pod", NS)[0]["metadata"]["name"]
    out = cluster.registry.call("get_pod_logs", {"name": pod, "previous": True})
    assert not out.ok
    assert "previous terminated container" in out.text


def test_events_are_newest_first_filterable_and_bounded(cluster) -> None:
    scenarios.image_pull(cluster.api)
    scenarios.pvc_pending(cluster.api)
    out = cluster.registry.call("get_events", {})
    times = [e["last_seen"] for e in out.data["events"]]
    assert times == sorted(times, reverse=True)

    pvc = cluster.registry.call(
        "get_events", {"kind": "PersistentVolumeClaim", "name": "invoices-data"}
    )
    assert [e["reason"] for e in pvc.data["events"]] == ["ProvisioningFailed"]
    assert 'storageclass.storage.k8s.io "premium-nvme" not found' in pvc.text

    warnings = cluster.registry.call("get_events", {"warnings_only": True})
    assert {e["type"] for e in warnings.data["events"]} == {"Warning"}

    bounded = cluster.registry.call("get_events", {"limit": 2})
    assert len(bounded.data["events"]) == 2 and bounded.data["total"] > 2
    assert "older event(s) not shown" in bounded.text


def test_services_endpoints_and_selector_matching(cluster) -> None:
    scenarios.no_endpoints(cluster.api)
    services = cluster.registry.call("get_service", {})
    assert [s["name"] for s in services.data["services"]] == ["catalog", "checkout"]
    assert "app=check-out" in services.text

    endpoints = cluster.registry.call("get_endpoints", {"name": "checkout"})
    assert endpoints.data["endpoints"][0]["ready_addresses"] == []
    assert "<none>" in endpoints.text

    described = cluster.registry.call("describe_service", {"name": "checkout"})
    assert described.data["matching_pods"] == []
    labels = {p["name"]: p["labels"]["app"] for p in described.data["other_pods"]}
    assert "checkout" in labels.values()
    assert "pods matching the selector  0" in described.text

    healthy = cluster.registry.call("describe_service", {"name": "catalog"})
    assert len(healthy.data["matching_pods"]) == 2
    assert len(healthy.data["endpoints"]["ready_addresses"]) == 2


def test_nodes_pvcs_storage_classes_and_workloads(cluster) -> None:
    scenarios.pvc_pending(cluster.api)
    scenarios.scaled_to_zero(cluster.api)
    nodes = cluster.registry.call("get_nodes", {})
    assert [n["allocatable"]["memory"] for n in nodes.data["nodes"]] == ["16283796Ki"] * 3
    assert all(n["ready"] for n in nodes.data["nodes"])

    pvcs = cluster.registry.call("get_pvcs", {})
    by_name = {p["name"]: p for p in pvcs.data["pvcs"]}
    assert by_name["invoices-data"]["phase"] == "Pending"
    assert by_name["invoices-data"]["storage_class_exists"] is False
    assert by_name["catalog-cache"]["storage_class_exists"] is True
    assert [s["name"] for s in pvcs.data["storage_classes"]] == ["fast-ssd", "standard"]

    workloads = cluster.registry.call("get_workloads", {})
    by_name = {w["name"]: w for w in workloads.data["workloads"]}
    assert (by_name["notifier"]["desired"], by_name["notifier"]["ready"]) == (0, 0)
    assert (by_name["catalog"]["desired"], by_name["catalog"]["available"]) == (2, 2)
    assert "scaled to zero" in workloads.text


def test_statefulsets_are_workloads(cluster) -> None:
    c = k.container("pg", "postgres:17")
    cluster.api.add(k.statefulset("orders-db", NS, {"app": "orders-db"}, [c], replicas=3, ready=2))
    out = cluster.registry.call("get_workloads", {})
    sts = next(w for w in out.data["workloads"] if w["kind"] == "StatefulSet")
    assert (sts["desired"], sts["ready"]) == (3, 2)
    assert "StatefulSet/orders-db" in out.text


def test_text_stays_small_whatever_the_cluster_holds(cluster) -> None:
    for i in range(300):
        cluster.api.add(
            k.event(NS, "Pod", f"p{i}", "BackOff", "m" * 2000, count=i + 1, seconds_ago=i)
        )
    out = cluster.registry.call("get_events", {})
    assert len(out.text) < 12_000
    assert max(len(line) for line in out.text.splitlines()) < 400
