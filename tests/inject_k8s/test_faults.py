"""The Kubernetes faults against the fake API server: exact objects applied, symptom, teardown.

The toy controller only shows a symptom `delay` seconds after the apply, so an injection
that returns has really waited for it; teardown must re-apply the base, delete what the
overlay added and wait until the base is ready again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.catalog.models import FailureMode
from faulttest.errors import SafetyRefusal
from faulttest.inject import Injector, Journal
from tests.inject_k8s.conftest import NS, FakeCluster

Body = dict[str, Any]
BASE = {
    ("ConfigMap", "helpdesk-db-config"),
    ("Service", "helpdesk-db"),
    ("StatefulSet", "helpdesk-db"),
}


def _container(body: Body) -> Body:
    return body["spec"]["template"]["spec"]["containers"][0]


# fault id -> (overlay objects, the kind/name holding the crucial field, its check)
OVERLAYS: dict[str, tuple[set[tuple[str, str]], tuple[str, str], Callable[[Body], bool]]] = {
    "k8s-crashloop": (
        {("Deployment", "faulttest-api")},
        ("Deployment", "faulttest-api"),
        lambda b: (
            _container(b)["command"][:2] == ["sh", "-c"]
            and _container(b)["command"][2].endswith("exit 1")
        ),
    ),
    "k8s-pending": (
        {("Deployment", "faulttest-batch")},
        ("Deployment", "faulttest-batch"),
        lambda b: _container(b)["resources"]["requests"]["memory"] == "64Ti",
    ),
    "k8s-image-pull": (
        {("Deployment", "faulttest-frontend")},
        ("Deployment", "faulttest-frontend"),
        lambda b: _container(b)["image"] == "busybox:0.0.0-faulttest-nonexistent",
    ),
    "k8s-no-endpoints": (
        {("Deployment", "faulttest-web"), ("Service", "faulttest-web")},
        ("Service", "faulttest-web"),
        lambda b: b["spec"]["selector"] == {"app": "faulttest-wbe"},
    ),
    "k8s-pvc-pending": (
        {("PersistentVolumeClaim", "faulttest-reports-data"), ("Deployment", "faulttest-reports")},
        ("PersistentVolumeClaim", "faulttest-reports-data"),
        lambda b: b["spec"]["storageClassName"] == "faulttest-nonexistent",
    ),
    "k8s-oomkilled": (
        {("Deployment", "faulttest-worker")},
        ("Deployment", "faulttest-worker"),
        lambda b: _container(b)["resources"]["limits"]["memory"] == "10Mi",
    ),
}
SYMPTOMS = {
    "k8s-crashloop": "waiting_reason CrashLoopBackOff",
    "k8s-pending": "scheduled False",
    "k8s-image-pull": "waiting_reason ImagePullBackOff",
    "k8s-no-endpoints": "Endpoints faulttest-web: 0 ready address(es)",
    "k8s-pvc-pending": "phase Pending",
    "k8s-oomkilled": "last_terminated_reason OOMKilled",
}


def fault(failure_id: str, timeout: float = 20) -> FailureMode:
    return load_catalog([]).get(failure_id).model_copy(update={"timeout": timeout})


def applied(cluster: FakeCluster, since: int = 0) -> dict[tuple[str, str], Body]:
    """(kind, name) -> body of each object applied since request `since` (last one wins)."""
    found: dict[tuple[str, str], Body] = {}
    for request in cluster.applies(since):
        assert request.query["fieldManager"] == "faulttest"
        body = request.body
        if body["kind"] != "Namespace":
            assf = f"/namespaces/{NS}/"
            assert assf in request.path and body["metadata"]["namespace"] == NS, request.path
        found[(body["kind"], body["metadata"]["name"])] = body
    return found


def deleted(cluster: FakeCluster, since: int) -> set[tuple[str, str]]:
    plural = {
        "deployments": "Deployment",
        "services": "Service",
        "pods": "Pod",
        "persistentvolumeclaims": "PersistentVolumeClaim",
        "statefulsets": "StatefulSet",
    }
    out = set()
    for request in cluster.deletes(since):
        parts = request.path.split("/")
        assert f"/namespaces/{NS}/" in request.path
        out.add((plural[parts[-2]], parts[-1]))
    return out


def assert_base_ready(cluster: FakeCluster) -> None:
    sts = cluster.api.get("StatefulSet", "helpdesk-db", NS)
    assert sts is not None and sts["status"]["readyReplicas"] == 1
    endpoints = cluster.api.get("Endpoints", "helpdesk-db", NS)
    assert endpoints and endpoints["subsets"][0].get("addresses"), endpoints


@pytest.mark.parametrize("failure_id", sorted(OVERLAYS))
def test_fault_applies_its_overlay_waits_for_the_symptom_and_restores_the_base(
    cluster: FakeCluster, failure_id: str
) -> None:
    failure = fault(failure_id)
    journal = Journal(cluster.home)
    injector = Injector(cluster.target(), journal)
    assert injector.unsupported_reason(failure) is None

    injection = injector.inject(failure)

    overlay, (kind, name), crucial = OVERLAYS[failure_id]
    objects = applied(cluster)
    assert set(objects) == {("Namespace", NS), *BASE, *overlay}
    assert crucial(objects[(kind, name)])
    assert SYMPTOMS[failure_id] in injection.observed
    assert injection.seconds >= cluster.controller.delay  # it waited for the kubelet
    assert "`kind-faulttest`" in injection.prompt
    [entry] = journal.entries()
    assert entry.kube is not None and entry.kube.context == "kind-faulttest"
    assert {tuple(r.split("|")[1:]) for r in entry.kube.applied} == {*BASE, *overlay}

    mark = len(cluster.api.requests)
    result = injector.teardown(failure)

    assert result.clean, result.leftovers
    assert set(applied(cluster, mark)) >= BASE  # the base is re-applied ...
    assert deleted(cluster, mark) >= overlay  # ... and the overlay's objects deleted
    for kind_, name_ in overlay:
        assert cluster.api.get(kind_, name_, NS) is None
    assert_base_ready(cluster)
    assert journal.entries() == []


def test_a_verify_that_never_holds_fails_within_the_timeout_and_cleans_up(
    cluster: FakeCluster,
) -> None:
    cluster.controller.delay = 60  # the kubelet never gets to it within the fault's timeout
    failure = fault("k8s-crashloop", timeout=1.5)
    injector = Injector(cluster.target(), Journal(cluster.home))
    with pytest.raises(Exception, match="did not take within 1.5s"):
        injector.inject(failure)
    assert cluster.api.get("Deployment", "faulttest-api", NS) is None


def test_the_namespace_is_configurable(cluster: FakeCluster) -> None:
    """FAULTTEST_KUBE_NAMESPACE moves the one modifiable namespace: a fault whose catalog
    names no namespace goes there; the built-in ones (they name helpdesk-test) are refused."""
    target = cluster.target()
    target.cluster.namespace = "chaos-lab"
    injector = Injector(target, Journal(cluster.home))
    with pytest.raises(SafetyRefusal, match="refusing to modify namespace 'helpdesk-test'"):
        injector.inject(fault("k8s-oomkilled"))
    assert cluster.api.writes() == []

    failure = fault("k8s-oomkilled")
    unnamed = failure.model_copy(
        update={
            "inject": [a.model_copy(update={"namespace": None}) for a in failure.inject],
            "teardown": [a.model_copy(update={"namespace": None}) for a in failure.teardown],
            "verify": [p.model_copy(update={"namespace": None}) for p in failure.verify],
        }
    )
    injection = injector.inject(unnamed)
    assert "OOMKilled" in injection.observed
    assert {r.body["metadata"].get("namespace") for r in cluster.applies()} == {None, "chaos-lab"}
    assert cluster.api.get("Deployment", "faulttest-worker", NS) is None
    assert injector.teardown(unnamed).clean


def test_teardown_without_the_journal_entry_still_restores_the_base(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    failure = fault("k8s-no-endpoints")
    Injector(cluster.target(), Journal(cluster.home)).inject(failure)

    result = Injector(cluster.target(), Journal(tmp_path / "other-home")).teardown(failure)

    assert result.clean and not result.was_injected, result.leftovers
    assert cluster.api.get("Service", "faulttest-web", NS) is None
    assert cluster.api.get("Deployment", "faulttest-web", NS) is None
    assert_base_ready(cluster)
