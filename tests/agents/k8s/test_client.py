"""Kubeconfig and context selection like kubectl, and clear errors when the API cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from faulttest.lab import free_port
from helpdesk.agents.k8s.client import KubeAccess, KubeError, load_kubeconfig
from helpdesk.agents.k8s.registry import build_registry
from helpdesk.infra import InfraConfig
from tests.agents.k8s import scenarios
from tests.fakes import kube_objects as k
from tests.fakes.kube_api import FakeKubeApi, write_kubeconfig


@pytest.fixture
def two_clusters(tmp_path: Path):
    """Two fake clusters, `blue` (current context) and `green`, told apart by their pods."""
    blue, green = FakeKubeApi(), FakeKubeApi()
    for api, name in ((blue, "blue-app"), (green, "green-app")):
        c = k.container("app", "nginx:1.27")
        api.add(k.pod(name, "default", {"app": name}, [c], [k.container_status(c, k.running())]))
    with blue.serve() as blue_url, green.serve() as green_url:
        kubeconfig = write_kubeconfig(
            tmp_path / "config", {"blue": blue_url, "green": green_url}, current="blue"
        )
        yield kubeconfig, blue_url, green_url


def _pods(registry, **args) -> list[str]:
    out = registry.call("get_pods", args)
    assert out.ok, out.text
    return [p["name"] for p in out.data["pods"]]


def test_the_context_argument_picks_the_cluster(two_clusters) -> None:
    kubeconfig, _, _ = two_clusters
    registry = build_registry(KubeAccess(kubeconfig=kubeconfig))
    assert _pods(registry) == ["blue-app"]  # current-context
    assert _pods(registry, context="green") == ["green-app"]
    assert _pods(registry, context="blue") == ["blue-app"]


def test_kubeconfig_env_var_is_honoured_and_merged(two_clusters, tmp_path, monkeypatch) -> None:
    kubeconfig, _, green_url = two_clusters
    extra = write_kubeconfig(
        tmp_path / "extra", {"green": "http://127.0.0.1:1", "only-extra": green_url}
    )
    monkeypatch.setenv("KUBECONFIG", f"{kubeconfig}:{extra}")
    access = KubeAccess()
    assert access.contexts() == ["blue", "green", "only-extra"]
    assert access.config().current_context == "blue"  # the first file that sets it wins
    registry = build_registry(access)
    assert _pods(registry, context="green") == ["green-app"]  # the first definition wins
    assert _pods(registry, context="only-extra") == ["green-app"]


def test_an_infra_alias_resolves_to_its_context_and_namespace(two_clusters) -> None:
    kubeconfig, _, _ = two_clusters
    infra = InfraConfig.from_dict(
        {
            "k8s_clusters": {
                "staging": {"context": "green", "namespace": "default", "tags": ["test"]}
            }
        }
    )
    access = KubeAccess(kubeconfig=kubeconfig, infra=infra)
    assert access.resolve_context("staging") == ("green", "default")
    assert _pods(build_registry(access), context="staging") == ["green-app"]


def test_an_unknown_context_names_the_known_ones(two_clusters) -> None:
    kubeconfig, _, _ = two_clusters
    out = build_registry(KubeAccess(kubeconfig=kubeconfig)).call("get_pods", {"context": "purple"})
    assert not out.ok
    assert "context 'purple' is not in the kubeconfig" in out.text
    assert "blue, green" in out.text


def test_the_context_namespace_is_the_default(tmp_path) -> None:
    api = FakeKubeApi()
    scenarios.base(api, ns="team-a")
    with api.serve() as url:
        kubeconfig = write_kubeconfig(tmp_path / "c", {"ctx": url}, namespaces={"ctx": "team-a"})
        registry = build_registry(KubeAccess(kubeconfig=kubeconfig))
        out = registry.call("get_pods", {})
        assert out.data["namespace"] == "team-a" and len(out.data["pods"]) == 2
        assert registry.call("get_pods", {"namespace": "default"}).data["pods"] == []


def test_an_unreachable_api_server_is_a_clear_tool_error(tmp_path) -> None:
    port = free_port()
    kubeconfig = write_kubeconfig(tmp_path / "c", {"down": f"http://127.0.0.1:{port}"})
    out = build_registry(KubeAccess(kubeconfig=kubeconfig, timeout=2)).call("get_nodes", {})
    assert not out.ok
    assert out.text.startswith("error: cannot reach the Kubernetes API server")
    assert f"http://127.0.0.1:{port}" in out.text and "context down" in out.text


def test_rejected_credentials_are_a_clear_tool_error(tmp_path) -> None:
    api = FakeKubeApi(token="right")
    with api.serve() as url:
        kubeconfig = write_kubeconfig(tmp_path / "c", {"ctx": url}, token="wrong")
        out = build_registry(KubeAccess(kubeconfig=kubeconfig)).call("get_pods", {})
    assert not out.ok
    assert "rejected the credentials" in out.text
    assert "wrong" not in out.text


def test_a_missing_kubeconfig_says_where_it_looked(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(KubeError, match="no kubeconfig found"):
        load_kubeconfig()
    out = build_registry(KubeAccess()).call("get_pods", {})
    assert not out.ok and str(tmp_path / "absent") in out.text
