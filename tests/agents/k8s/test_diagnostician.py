"""The built-in Kubernetes diagnostician against a fake cluster, through the real lightkube client.

Each failure is built from the objects a real cluster reports; the category must follow
from states and reasons, and the answer must cite the facts only the tools reveal.
"""

from __future__ import annotations

import pytest

from helpdesk.agents.k8s.agent import K8sAgent
from helpdesk.agents.k8s.client import KubeAccess
from helpdesk.agents.k8s.request import parse_request
from tests.agents.k8s import scenarios
from tests.agents.k8s.conftest import CONTEXT

PROMPT = (
    f"Something is wrong in namespace shop (Kubernetes context `{CONTEXT}`). Please investigate."
)

# category -> facts the answer must cite (from the objects, not from the prompt)
MUST_CITE: dict[str, list[str]] = {
    "pod_crash_loop": [
        "CrashLoopBackOff",
        "exit code 1",
        "restart count 6",
        "open /etc/ledger/app.yaml: no such file or directory",
        "ledger-api",
    ],
    "oom_killed": ["OOMKilled", "exit code 137", "32Mi", "thumbnailer"],
    "pod_unschedulable": [
        "0/3 nodes are available: 3 Insufficient memory.",
        "memory=64Gi",
        "report-builder",
    ],
    "image_pull_failure": [
        "registry.invalid/acme/storefront:9.9.9",
        "no such host",
        "ImagePullBackOff",
    ],
    "no_endpoints": ["app=check-out", "app=checkout", "no pod"],
    "pvc_pending": ["invoices-data", "premium-nvme", "fast-ssd, standard", "Pending"],
    "scaled_to_zero": ["notifier", "replicas 0", "Scaled down replica set"],
    "probe_failure": [
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        "restart count 5",
        "gateway",
    ],
    "config_missing": [
        'secret "mailer-smtp" not found',
        "CreateContainerConfigError",
        "mailer-smtp",
    ],
}

EXPECTED_TOOLS: dict[str, set[str]] = {
    "pod_crash_loop": {"get_pods", "describe_pod", "get_pod_logs", "get_events"},
    "oom_killed": {"get_pods", "describe_pod", "get_events"},
    "pod_unschedulable": {"get_pods", "describe_pod", "get_events", "get_nodes"},
    "image_pull_failure": {"get_pods", "describe_pod", "get_events"},
    "no_endpoints": {"get_service", "get_endpoints", "get_pods", "describe_service"},
    "pvc_pending": {"get_pvcs", "get_pods", "describe_pod", "get_events"},
    "scaled_to_zero": {"get_workloads", "get_service", "get_endpoints"},
    "probe_failure": {"get_pods", "describe_pod", "get_events"},
    "config_missing": {"get_pods", "describe_pod", "get_events"},
}


@pytest.mark.parametrize("category", list(scenarios.SCENARIOS))
def test_each_failure_is_diagnosed_from_the_cluster(cluster, category: str) -> None:
    scenarios.SCENARIOS[category](cluster.api, scenarios.NS)
    result = K8sAgent(access=cluster.access).answer(PROMPT)

    assert result.diagnosis is not None
    assert result.diagnosis.category == category, result.text
    for fact in MUST_CITE[category]:
        assert fact in result.text, f"{fact!r} missing from:\n{result.text}"
    used = {c.tool for c in result.tool_calls if c.ok}
    assert EXPECTED_TOOLS[category] <= used, used
    assert all(c.agent == "k8s_agent" for c in result.tool_calls)
    assert result.diagnosis.evidence and result.diagnosis.recommended_actions
    assert any("kubectl" in a for a in result.diagnosis.recommended_actions)
    assert result.model.vendor == "builtin"


def test_a_healthy_namespace_is_healthy(cluster) -> None:
    result = K8sAgent(access=cluster.access).answer(PROMPT)

    assert result.diagnosis is not None and result.diagnosis.category == "healthy", result.text
    assert "2 pod(s), all Running and ready" in result.text
    assert all(c.ok for c in result.tool_calls)


def test_the_object_asked_about_comes_first(cluster) -> None:
    """Two failures at once: the one the person names is the primary, the other contributes."""
    scenarios.scaled_to_zero(cluster.api)
    scenarios.oom_killed(cluster.api)
    agent = K8sAgent(access=cluster.access)

    asked = agent.answer(f"notifier in namespace shop (context `{CONTEXT}`) does not answer.")
    assert asked.diagnosis.category == "scaled_to_zero"
    assert "oom_killed" in asked.diagnosis.contributing

    unnamed = agent.answer(PROMPT)  # root causes before consequences
    assert unnamed.diagnosis.category == "oom_killed"


def test_a_crashing_pod_behind_a_service_is_not_no_endpoints(cluster) -> None:
    """The service of a crash-looping app has only not-ready addresses: the crash is the cause."""
    scenarios.crash_loop(cluster.api)
    result = K8sAgent(access=cluster.access).answer(
        f"The ledger-api service in namespace shop (context `{CONTEXT}`) has no endpoints."
    )
    assert result.diagnosis.category == "pod_crash_loop"
    assert "no_endpoints" not in result.diagnosis.contributing


def test_readiness_failures_of_a_crashing_container_stay_a_crash_loop(cluster) -> None:
    scenarios.crash_loop(cluster.api)  # carries two readiness-probe Unhealthy events
    result = K8sAgent(access=cluster.access).answer(PROMPT)
    assert result.diagnosis.category == "pod_crash_loop"


def test_context_and_namespace_come_from_the_message(cluster, tmp_path) -> None:
    """With the kubeconfig's current context elsewhere, the message's context is used."""
    from tests.fakes.kube_api import write_kubeconfig

    scenarios.oom_killed(cluster.api)
    kubeconfig = write_kubeconfig(
        tmp_path / "two",
        {"elsewhere": "http://127.0.0.1:9", CONTEXT: cluster.url},
        current="elsewhere",
        token="test-token",
    )
    agent = K8sAgent(access=KubeAccess(kubeconfig=kubeconfig, timeout=2))
    result = agent.answer(f"thumbnailer keeps going down, namespace shop, context {CONTEXT}")
    assert result.diagnosis.category == "oom_killed"
    assert {c.args.get("context") for c in result.tool_calls} == {CONTEXT}
    assert {c.args.get("namespace") for c in result.tool_calls if "namespace" in c.args} == {"shop"}


def test_an_unreachable_cluster_is_reported_not_diagnosed(tmp_path) -> None:
    from faulttest.lab import free_port
    from tests.fakes.kube_api import write_kubeconfig

    port = free_port()
    kubeconfig = write_kubeconfig(tmp_path / "kc", {"gone": f"http://127.0.0.1:{port}"})
    result = K8sAgent(access=KubeAccess(kubeconfig=kubeconfig, timeout=2)).answer(
        PROMPT.replace(CONTEXT, "gone")
    )

    assert result.diagnosis is None
    assert "cannot reach the Kubernetes API server" in result.text
    assert f"127.0.0.1:{port}" in result.text
    assert [c.tool for c in result.tool_calls] == ["get_pods"]
    assert result.tool_calls[0].ok is False


@pytest.mark.parametrize(
    ("message", "context", "namespace"),
    [
        (
            "pods in namespace helpdesk-test (Kubernetes context `kind-lab`) crash",
            "kind-lab",
            "helpdesk-test",
        ),
        ("kubectl --context prod-eu -n payments get pods shows errors", "prod-eu", "payments"),
        ("the billing namespace is broken on context staging", "staging", "billing"),
        ("the namespace is broken, context of the outage unknown", None, None),
        (
            "namespace: orders, context: 'gke_acme_eu-west1_main'",
            "gke_acme_eu-west1_main",
            "orders",
        ),
    ],
)
def test_request_parsing(message: str, context: str | None, namespace: str | None) -> None:
    request = parse_request(message, known_contexts=["staging", "kind-lab"])
    assert (request.context, request.namespace) == (context, namespace)


def test_mentions_are_whole_names() -> None:
    request = parse_request("the faulttest-api app is down")
    assert request.mentions("faulttest-api")
    assert not request.mentions("faulttest")
    assert not request.mentions("faulttest-api-7d9f")


def test_an_empty_namespace_is_healthy_with_a_warning(cluster) -> None:
    result = K8sAgent(access=cluster.access).answer(
        f"is anything wrong in namespace shp (context `{CONTEXT}`)?"
    )
    assert result.diagnosis.category == "healthy"
    assert result.diagnosis.confidence < 0.5
    assert "holds no pods, workloads or services" in result.text


def test_a_bad_command_is_a_crash_loop_with_the_runtime_error(cluster) -> None:
    """A container whose command does not exist: StartError, exit code 128, no log at all."""
    from tests.fakes import kube_objects as k

    c = k.container("api", "postgres:17", {"cpu": "100m", "memory": "128Mi"})
    error = (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        'runc create failed: unable to start container process: exec: "postgress": executable '
        "file not found in $PATH: unknown"
    )
    status = k.container_status(
        c,
        k.waiting("CrashLoopBackOff", "back-off 40s restarting failed container=api"),
        last=k.terminated("StartError", 128, message=error),
        restarts=3,
        ready=False,
    )
    labels = {"app": "orders-db"}
    cluster.api.add(k.deployment("orders-db", "shop", labels, [c], ready=0))
    cluster.api.add(k.pod("orders-db-0", "shop", labels, [c], [status]))
    cluster.api.set_log("shop", "orders-db-0", "", container="api", previous=True)

    result = K8sAgent(access=cluster.access).answer(PROMPT)
    assert result.diagnosis.category == "pod_crash_loop"
    assert "exit code 128" in result.text and "executable file not found" in result.text
    assert "orders-db" in result.diagnosis.summary
