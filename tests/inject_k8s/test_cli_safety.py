"""`faulttest inject / teardown` with --context against the fake cluster, and the safety guard.

Real CLI subprocesses talk to the fake API server over HTTP (KUBECONFIG and
HELPDESK_INFRA_CONFIG point at the test's files); refusals must not write anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.errors import SafetyRefusal
from faulttest.inject import Injector, Journal, kube_forward
from faulttest.inject.kubernetes import UNSUPPORTED_REASON
from faulttest.targets import DsnTarget
from tests.fakes.kube_api import write_kubeconfig
from tests.inject_k8s.conftest import NS, UNTAGGED, FakeCluster, faulttest

MANIFESTS = Path(__file__).resolve().parents[2] / "src/faulttest/catalog/builtin/k8s"


def journal(home: Path) -> list[dict]:
    path = home / "journal.json"
    return json.loads(path.read_text())["injections"] if path.exists() else []


def test_inject_with_context_then_teardown_all(cluster: FakeCluster) -> None:
    done = faulttest("inject", "--id", "k8s-crashloop", "--context", "kind-faulttest")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Failure injected: CrashLoopBackOff"
    assert "(Kubernetes context `kind-faulttest`)" in done.stdout
    assert (
        lines[-1] == "To tear down: faulttest teardown --id k8s-crashloop --context kind-faulttest"
    )
    pod = next(
        p for p in cluster.api.list("Pod", NS) if p["metadata"]["name"].startswith("faulttest-api")
    )
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    [entry] = journal(cluster.home)
    assert entry["target"]["kind"] == "kube" and entry["kube"]["context"] == "kind-faulttest"
    assert entry["target"]["kubeconfig"] == str(cluster.kubeconfig)

    down = faulttest("teardown", "--all")
    assert down.returncode == 0, down.stderr
    assert "CrashLoopBackOff torn down on Kubernetes context kind-faulttest" in down.stdout
    assert cluster.api.get("Deployment", "faulttest-api", NS) is None
    assert journal(cluster.home) == []


def test_compound_fault_from_the_environment_prints_the_forwarded_dsn(cluster: FakeCluster) -> None:
    env = {"FAULTTEST_KUBE_CONTEXT": "faulttest-kind"}  # the infra config's name for it
    done = faulttest("inject", "--id", "compound-db-no-endpoints", env=env)
    assert done.returncode == 0, done.stderr
    assert "host=127.0.0.1 port=" in done.stdout and "dbname=helpdesk" in done.stdout
    [entry] = journal(cluster.home)
    [proxy] = entry["kube"]["proxies"]
    assert kube_forward.find("compound-db-no-endpoints") == [proxy["pid"]]

    down = faulttest("teardown", "--id", "compound-db-no-endpoints")
    assert down.returncode == 0, down.stderr
    assert kube_forward.find("compound-db-no-endpoints") == []
    service = cluster.api.get("Service", "helpdesk-db", NS)
    assert service and service["spec"]["selector"] == {"app": "helpdesk-db"}


@pytest.mark.parametrize(
    ("context", "why"),
    [(UNTAGGED, "without a test or chaos tag"), ("kind-other", "is not registered")],
)
def test_an_untagged_or_unknown_context_is_refused(
    cluster: FakeCluster, context: str, why: str
) -> None:
    done = faulttest("inject", "--id", "k8s-crashloop", "--context", context)
    assert done.returncode == 3, done.stderr
    assert why in done.stderr and "--i-know-this-is-not-a-test-system" in done.stderr
    assert cluster.api.writes() == []


def _custom_catalog(tmp_path: Path, inject: dict) -> Path:
    fault = {
        "id": "custom-k8s",
        "name": "custom",
        "category": "kubernetes",
        "severity": "low",
        "requires": ["kubernetes"],
        "inject": inject,
        "prompt": "p",
        "verify": {
            "type": "kubernetes",
            "kind": "Pod",
            "selector": "app=x",
            "condition": "phase=Pending",
        },
    }
    path = tmp_path / "custom.yaml"
    path.write_text(json.dumps({"version": "1", "failures": [fault]}))
    return path


def test_another_namespace_is_refused(cluster: FakeCluster, tmp_path: Path) -> None:
    manifest = str(MANIFESTS / "crashloop.yaml")
    catalog = _custom_catalog(
        tmp_path,
        {
            "type": "kubernetes",
            "action": "apply",
            "namespace": "default",
            "manifests": [manifest],
        },
    )
    done = faulttest(
        "inject", "--id", "custom-k8s", "--context", "kind-faulttest", "--catalog", str(catalog)
    )
    assert done.returncode == 3, done.stderr
    assert "refusing to modify namespace 'default'" in done.stderr
    assert cluster.api.writes() == []


def test_a_manifest_naming_another_namespace_is_refused(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    manifest = tmp_path / "elsewhere.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n"
    )
    catalog = _custom_catalog(
        tmp_path, {"type": "kubernetes", "action": "apply", "manifests": [str(manifest)]}
    )
    failure = load_catalog([catalog]).get("custom-k8s")
    with pytest.raises(SafetyRefusal, match="namespace 'kube-system'"):
        Injector(cluster.target(), Journal(cluster.home)).inject(failure)
    assert not [r for r in cluster.api.writes() if "kube-system" in r.path]
    assert Journal(cluster.home).entries() == []  # nothing applied: the cleanup was clean


def test_without_a_context_kubernetes_faults_are_skipped_with_the_reason(
    cluster: FakeCluster,
) -> None:
    target = DsnTarget("host=127.0.0.1 port=1 dbname=x user=x")
    injector = Injector(target, Journal(cluster.home))
    for failure_id in ("k8s-crashloop", "compound-db-pod-crash"):
        failure = load_catalog([]).get(failure_id)
        assert injector.unsupported_reason(failure) == UNSUPPORTED_REASON
    assert UNSUPPORTED_REASON == "needs a Kubernetes context (--context or FAULTTEST_KUBE_CONTEXT)"

    done = faulttest("inject", "--id", "k8s-oomkilled")
    assert done.returncode == 2
    assert (
        "k8s-oomkilled needs a Kubernetes context (--context or FAULTTEST_KUBE_CONTEXT)"
        in done.stderr
    )
    assert cluster.api.requests == []


def test_an_unreachable_api_server_is_one_clear_error(
    cluster: FakeCluster, tmp_path: Path, free_tcp_port: int
) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "dead-kubeconfig", {"kind-dead": f"http://127.0.0.1:{free_tcp_port}"}
    )
    infra = tmp_path / "dead-infra.json"
    infra.write_text(
        json.dumps({"k8s_clusters": {"dead": {"context": "kind-dead", "tags": ["chaos"]}}})
    )
    env = {"KUBECONFIG": str(kubeconfig), "HELPDESK_INFRA_CONFIG": str(infra)}
    done = faulttest("inject", "--id", "k8s-crashloop", "--context", "kind-dead", env=env)
    assert done.returncode == 1, done.stderr
    assert "cannot reach the Kubernetes API server" in done.stderr
    assert "Traceback" not in done.stderr


def test_selftest_with_a_context_injects_and_restores_kubernetes_faults(
    cluster: FakeCluster,
) -> None:
    done = faulttest(
        "selftest", "--ids", "k8s-crashloop,k8s-no-endpoints", "--context", "kind-faulttest"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  k8s-crashloop" in done.stdout and "PASS  k8s-no-endpoints" in done.stdout
    assert cluster.api.get("Deployment", "faulttest-api", NS) is None
    assert journal(cluster.home) == []


def test_selftest_refuses_an_untagged_context(cluster: FakeCluster) -> None:
    done = faulttest("selftest", "--ids", "k8s-crashloop", "--context", UNTAGGED)
    assert done.returncode == 3, done.stdout + done.stderr
    assert journal(cluster.home) == []
