"""The fake Kubernetes API itself, driven by lightkube: apply, create, patch, delete, selectors.

The injection work tests against this double, so its write verbs must behave like a
cluster's: server-side apply creates or updates, create conflicts, delete 404s.
"""

from __future__ import annotations

import pytest
from lightkube import ApiError, Client
from lightkube.codecs import from_dict
from lightkube.config.kubeconfig import KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Pod

from tests.fakes import kube_objects as k
from tests.fakes.kube_api import FakeKubeApi, write_kubeconfig


@pytest.fixture
def client(tmp_path):
    api = FakeKubeApi()
    with api.serve() as url:
        config = KubeConfig.from_file(write_kubeconfig(tmp_path / "c", {"fake": url}))
        with Client(config, namespace="lab", field_manager="faulttest") as c:
            yield api, c


def test_server_side_apply_creates_then_updates(client) -> None:
    api, c = client
    cm = ConfigMap(metadata=ObjectMeta(name="settings", namespace="lab"), data={"a": "1"})
    created = c.apply(cm)
    assert created.metadata.uid and created.data == {"a": "1"}
    updated = c.apply(
        ConfigMap(metadata=ObjectMeta(name="settings", namespace="lab"), data={"a": "2"})
    )
    assert updated.metadata.uid == created.metadata.uid and updated.data == {"a": "2"}

    applies = [r for r in api.writes() if r.is_apply]
    assert [r.path for r in applies] == ["/api/v1/namespaces/lab/configmaps/settings"] * 2
    assert applies[0].query["fieldManager"] == "faulttest"
    assert applies[0].body["data"] == {"a": "1"}


def test_apply_of_a_manifest_dict(client) -> None:
    api, c = client
    manifest = k.deployment(
        "web", "lab", {"app": "web"}, [k.container("web", "nginx:1.27")], replicas=2
    )
    manifest.pop("status")
    c.apply(from_dict(manifest))
    stored = api.get("Deployment", "web", "lab")
    assert stored["spec"]["replicas"] == 2
    assert c.get(Deployment, "web").spec.template.spec.containers[0].image == "nginx:1.27"


def test_create_conflicts_and_delete_removes(client) -> None:
    api, c = client
    c.create(ConfigMap(metadata=ObjectMeta(name="x"), data={}))
    with pytest.raises(ApiError) as conflict:
        c.create(ConfigMap(metadata=ObjectMeta(name="x"), data={}))
    assert conflict.value.status.code == 409 and conflict.value.status.reason == "AlreadyExists"
    c.delete(ConfigMap, "x")
    assert api.get("ConfigMap", "x", "lab") is None
    with pytest.raises(ApiError) as missing:
        c.delete(ConfigMap, "x")
    assert missing.value.status.message == 'configmaps "x" not found'


def test_merge_patch_and_label_selectors(client) -> None:
    api, c = client
    for name, tier in (("a", "web"), ("b", "db")):
        cont = k.container("c", "busybox")
        api.add(
            k.pod(
                name,
                "lab",
                {"app": "shop", "tier": tier},
                [cont],
                [k.container_status(cont, k.running())],
            )
        )
    assert [p.metadata.name for p in c.list(Pod, labels={"tier": "db"})] == ["b"]
    c.patch(Pod, "a", {"metadata": {"labels": {"tier": None, "canary": "yes"}}})
    assert api.get("Pod", "a", "lab")["metadata"]["labels"] == {"app": "shop", "canary": "yes"}


def test_unknown_paths_are_404_status(client) -> None:
    api, c = client
    status, ctype, body = api.handle("GET", "/apis/example.com/v1/widgets", "", b"")
    assert status == 404 and ctype == "application/json" and b'"kind": "Status"' in body


def test_a_reactor_can_play_the_deployment_controller(client) -> None:
    """Injection tests can make applied workloads produce pods, as a cluster would."""
    api, c = client

    def controller(api: FakeKubeApi, request, obj) -> None:
        if request.is_apply and obj and obj["kind"] == "Deployment":
            tpl = obj["spec"]["template"]
            cont = tpl["spec"]["containers"][0]
            status = k.container_status(cont, k.waiting("CrashLoopBackOff"), restarts=3)
            name = f"{obj['metadata']['name']}-abc12"
            api.add(k.pod(name, "lab", tpl["metadata"]["labels"], [cont], [status]))

    api.reactors.append(controller)
    manifest = k.deployment("api", "lab", {"app": "api"}, [k.container("api", "busybox")])
    manifest.pop("status")
    c.apply(from_dict(manifest))
    (pod,) = c.list(Pod, labels={"app": "api"})
    assert pod.status.containerStatuses[0].state.waiting.reason == "CrashLoopBackOff"


def test_a_body_that_is_not_json_is_a_400_status(client) -> None:
    api, _ = client
    status, _, body = api.handle(
        "POST", "/api/v1/namespaces/lab/configmaps", "application/json", b"{"
    )
    assert status == 400 and b"not valid JSON" in body
