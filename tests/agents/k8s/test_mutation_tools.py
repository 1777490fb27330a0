"""The k8s mutation tools through the real lightkube client against the fake API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpdesk.agents import approval
from helpdesk.result import ToolCall
from tests.agents.k8s import scenarios
from tests.agents.k8s.conftest import CONTEXT, FakeCluster
from tests.fakes import kube_objects as k


@pytest.fixture
def untagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPDESK_INFRA_CONFIG", raising=False)
    monkeypatch.delenv(approval.ENV_VAR, raising=False)


@pytest.fixture
def tagged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "infrastructure.json"
    path.write_text(json.dumps({"k8s_clusters": {"shop": {"context": CONTEXT, "tags": ["chaos"]}}}))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(path))
    monkeypatch.delenv(approval.ENV_VAR, raising=False)


def mutate(cluster: FakeCluster, tool: str, **args):  # type: ignore[no-untyped-def]
    trace: list[ToolCall] = []
    out = cluster.registry.call(tool, args, trace)
    assert cluster.registry.get(tool).mutating
    return out, trace[0].model_dump()["mutation"]


def catalog_pod() -> str:
    return k.replica_pod_name("catalog", "7xk2p")[0]


@pytest.mark.usefixtures("untagged")
def test_refused_on_an_untagged_cluster(cluster: FakeCluster) -> None:
    out, record = mutate(cluster, "scale_workload", kind="Deployment", name="catalog", replicas=0)
    assert not out.ok and record["outcome"] == "refused"
    assert record["inspection"]["replicas"] == 2
    assert cluster.api.writes() == []
    with approval.grant(f"k8s:{CONTEXT}"):
        out, record = mutate(cluster, "scale_workload", kind="Deployment", name="catalog",
                             replicas=1)  # fmt: skip
    assert out.ok and record["decision"]["basis"] == "grant"


@pytest.mark.usefixtures("tagged")
def test_scale_restart_and_delete_on_a_tagged_cluster(cluster: FakeCluster) -> None:
    out, record = mutate(cluster, "scale_workload", kind="Deployment", name="catalog", replicas=3)
    assert out.ok, out.text
    assert record["decision"]["basis"].startswith("tag:chaos")
    assert record["verification"]["call"] == {"ok": True, "returned": 3}
    assert record["verification"]["state"]["desired_now"] == 3
    assert cluster.api.get("Deployment", "catalog", scenarios.NS)["spec"]["replicas"] == 3

    out, record = mutate(cluster, "restart_workload", kind="Deployment", name="catalog")
    assert out.ok and record["verification"]["state"]["rollout_requested"]
    template = cluster.api.get("Deployment", "catalog", scenarios.NS)["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]

    out, record = mutate(cluster, "delete_pod", name=catalog_pod())
    assert out.ok and record["inspection"]["owners"][0].startswith("ReplicaSet/")
    assert record["verification"]["state"]["old_pod_gone"]
    assert cluster.api.get("Pod", catalog_pod(), scenarios.NS) is None


@pytest.mark.usefixtures("tagged")
def test_a_pod_without_controller_is_not_deleted(cluster: FakeCluster) -> None:
    c = k.container("job", "busybox:1.36")
    cluster.api.add(k.pod("one-off", scenarios.NS, {"app": "x"}, [c], None))
    out, record = mutate(cluster, "delete_pod", name="one-off")
    assert not out.ok and record["outcome"] == "refused" and "no controller" in out.text
    assert cluster.api.get("Pod", "one-off", scenarios.NS) is not None


@pytest.mark.usefixtures("tagged")
def test_a_missing_object_is_a_clear_error(cluster: FakeCluster) -> None:
    out = cluster.registry.call(
        "scale_workload", {"kind": "StatefulSet", "name": "nope", "replicas": 1}, trace=[]
    )
    assert not out.ok and "nope" in out.text
