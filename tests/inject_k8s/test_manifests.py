"""The fault manifests as files: overlays of base objects differ from the base in one field.

With server-side apply, re-applying base.yaml only undoes an overlay of a base object if
the overlay is that object in full (same field manager); these tests keep them in step.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from faulttest.catalog.models import KubernetesProbe
from faulttest.errors import UsageError
from faulttest.inject.kube_probes import parse_condition

K8S = Path(__file__).resolve().parents[2] / "src/faulttest/catalog/builtin/k8s"


def _docs(name: str) -> dict[tuple[str, str], dict]:
    return {
        (d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all((K8S / name).read_text())
    }


def test_the_base_is_a_postgres_statefulset_service_and_configmap_without_namespace() -> None:
    base = _docs("base.yaml")
    assert set(base) == {
        ("ConfigMap", "helpdesk-db-config"),
        ("Service", "helpdesk-db"),
        ("StatefulSet", "helpdesk-db"),
    }
    assert all("namespace" not in d["metadata"] for d in base.values())
    assert base[("Service", "helpdesk-db")]["spec"]["selector"] == {"app": "helpdesk-db"}


@pytest.mark.parametrize(
    ("overlay", "key", "path", "value"),
    [
        ("db-crashloop.yaml", ("StatefulSet", "helpdesk-db"),
         ("spec", "template", "spec", "containers", 0, "args"),
         ["postgres", "-c", "shared_buffers=lots"]),
        ("db-no-endpoints.yaml", ("Service", "helpdesk-db"), ("spec", "selector"),
         {"app": "helpdesk-db-primary"}),
    ],
)  # fmt: skip
def test_db_overlays_are_the_base_object_with_one_field_changed(
    overlay: str, key: tuple[str, str], path: tuple, value: object
) -> None:
    expected = copy.deepcopy(_docs("base.yaml")[key])
    node = expected
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert _docs(overlay) == {key: expected}


def test_every_manifest_object_carries_the_managed_by_label() -> None:
    for file in K8S.glob("*.yaml"):
        for doc in yaml.safe_load_all(file.read_text()):
            assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "faulttest", file


def test_unknown_probe_conditions_are_a_usage_error() -> None:
    assert parse_condition("waiting_reason=CrashLoopBackOff") == (
        "waiting_reason",
        "CrashLoopBackOff",
    )
    with pytest.raises(UsageError, match="unknown condition 'restarts>3'"):
        parse_condition("restarts>3")
    KubernetesProbe(type="kubernetes", kind="Pod", condition="phase=Pending")  # the model accepts
