"""The built-in catalog: the 17 aiHelpDesk failure modes load, with their exact identity,
and the Kubernetes and compound entries are complete and well-formed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faulttest.catalog.loader import BUILTIN_FILES, builtin_paths, load_catalog
from faulttest.catalog.models import (
    PLACEHOLDERS,
    FailureMode,
    KubernetesAction,
    KubernetesProbe,
    Requirement,
)
from helpdesk.taxonomy import BY_NAME, Domain

# id, category, severity, name — exactly as aiHelpDesk's `faulttest list` shows them
EXPECTED = [
    ("db-max-connections", "database", "high", "Max connections exhausted"),
    ("db-long-running-query", "database", "high", "Long-running query blocking"),
    ("db-lock-contention", "database", "high", "Lock contention / deadlock"),
    ("db-table-bloat", "database", "medium", "Table bloat / dead tuples"),
    ("db-high-cache-miss", "database", "medium", "High cache miss ratio"),
    ("db-connection-refused", "database", "critical", "Database connection refused"),
    ("db-auth-failure", "database", "critical", "Authentication failure"),
    ("db-not-exist", "database", "critical", "Database does not exist"),
    ("db-replication-lag", "database", "high", "Replication lag"),
    ("k8s-crashloop", "kubernetes", "critical", "CrashLoopBackOff"),
    ("k8s-pending", "kubernetes", "critical", "Pending pod (unschedulable)"),
    ("k8s-image-pull", "kubernetes", "critical", "ImagePullBackOff"),
    ("k8s-no-endpoints", "kubernetes", "high", "Service with no endpoints"),
    ("k8s-pvc-pending", "kubernetes", "critical", "PVC pending (bad StorageClass)"),
    ("k8s-oomkilled", "kubernetes", "critical", "OOMKilled"),
    ("compound-db-pod-crash", "compound", "critical", "DB unreachable + pod crashing"),
    ("compound-db-no-endpoints", "compound", "critical", "DB timeout + no endpoints"),
]
K8S_AND_COMPOUND = EXPECTED[9:]
EXPECTED_DIAGNOSIS = {
    "k8s-crashloop": "pod_crash_loop",
    "k8s-pending": "pod_unschedulable",
    "k8s-image-pull": "image_pull_failure",
    "k8s-no-endpoints": "no_endpoints",
    "k8s-pvc-pending": "pvc_pending",
    "k8s-oomkilled": "oom_killed",
    "compound-db-pod-crash": "compound_crash",
    "compound-db-no-endpoints": "compound_no_endpoints",
}
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _identity(failure: FailureMode) -> tuple[str, str, str, str]:
    return failure.id, failure.category.value, failure.severity.value, failure.name


@pytest.fixture(scope="module")
def catalog_failures() -> list[FailureMode]:
    return load_catalog().failures


def test_builtin_catalog_holds_the_17_failure_modes_in_order(
    catalog_failures: list[FailureMode],
) -> None:
    assert [_identity(f) for f in catalog_failures] == EXPECTED


def test_builtin_files_load_in_the_documented_order() -> None:
    assert BUILTIN_FILES == ("database.yaml", "kubernetes.yaml", "compound.yaml")
    names = [p.name for p in builtin_paths()]
    assert names == [n for n in BUILTIN_FILES if n in names]
    assert {"kubernetes.yaml", "compound.yaml"} <= set(names)


def test_every_builtin_entry_is_complete(catalog_failures: list[FailureMode]) -> None:
    for failure in catalog_failures:
        where = f"{failure.id} ({failure.source})"
        assert failure.description.strip(), where
        assert failure.prompt.strip(), where
        assert failure.verify, where
        # teardown may be implicit: the engine undoes sessions, config overrides and
        # server actions itself, and drops what `owns` lists
        assert failure.inject, where
        evaluation = failure.evaluation
        assert evaluation.expected_tools, where
        assert evaluation.expected_keywords.any_of, where
        assert evaluation.expected_diagnosis is not None, where
        assert evaluation.expected_diagnosis.category in BY_NAME, where
        assert evaluation.must_cite and evaluation.forbidden, where
        assert evaluation.narrative.strip(), where
        assert failure.timeout > 0, where
        assert not failure.unsupported_actions, where
        assert set(_PLACEHOLDER.findall(failure.prompt)) <= set(PLACEHOLDERS), where


@pytest.mark.parametrize(("failure_id", "category", "severity", "name"), K8S_AND_COMPOUND)
def test_kubernetes_and_compound_entries(
    failure_id: str, category: str, severity: str, name: str
) -> None:
    failure = load_catalog().get(failure_id)
    assert _identity(failure) == (failure_id, category, severity, name)
    assert Path(failure.source).name == f"{category}.yaml"
    assert failure.requires == [Requirement.KUBERNETES]

    diagnosis = failure.evaluation.expected_diagnosis
    assert diagnosis is not None and diagnosis.category == EXPECTED_DIAGNOSIS[failure_id]
    expected_domain = Domain.COMPOUND if category == "compound" else Domain.KUBERNETES
    assert BY_NAME[diagnosis.category].domain == expected_domain

    placeholders = set(_PLACEHOLDER.findall(failure.prompt))
    wanted = {"kube_context", "connection_string"} if category == "compound" else {"kube_context"}
    assert placeholders == wanted

    actions = [*failure.inject, *failure.teardown]
    assert actions and all(isinstance(a, KubernetesAction) for a in actions)
    assert all(a.namespace == "helpdesk-test" for a in actions)
    assert all(
        isinstance(p, KubernetesProbe) and p.namespace == "helpdesk-test" for p in failure.verify
    )


@pytest.mark.parametrize("failure_id", [row[0] for row in K8S_AND_COMPOUND])
def test_prompts_describe_symptoms_not_the_cause(failure_id: str) -> None:
    """No scored keyword and no diagnosis word is given away by the prompt."""
    failure = load_catalog().get(failure_id)
    prompt = failure.prompt.lower()
    for keyword in failure.evaluation.expected_keywords.any_of:
        assert not re.search(rf"\b{re.escape(keyword.lower())}\b", prompt), keyword
    diagnosis = failure.evaluation.expected_diagnosis
    assert diagnosis is not None
    assert diagnosis.category.replace("_", " ") not in prompt
    for tell in ("crashloop", "oom", "memory", "image", "storageclass", "selector", "schedul"):
        assert tell not in prompt, tell


def test_manifest_paths_resolve_against_the_catalog_folder() -> None:
    failure = load_catalog().get("k8s-crashloop")
    action = failure.inject[0]
    assert isinstance(action, KubernetesAction)
    folder = Path(failure.source).parent
    assert Path(failure.base_dir) == folder.resolve()
    assert [Path(m) for m in action.manifests] == [
        folder.resolve() / "k8s" / "base.yaml",
        folder.resolve() / "k8s" / "crashloop.yaml",
    ]
    assert failure.resolve_path("k8s/base.yaml") == folder.resolve() / "k8s" / "base.yaml"
