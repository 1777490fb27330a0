"""Fixtures for the k8s agent tests: a fake API server, a kubeconfig pointing at it, tools.

Every test gets its own fake cluster on a free local port, reached through the real
lightkube client exactly as a real cluster would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpdesk.agents.base import ToolRegistry
from helpdesk.agents.k8s.client import KubeAccess
from helpdesk.agents.k8s.registry import build_registry
from tests.agents.k8s import scenarios
from tests.fakes.kube_api import FakeKubeApi, write_kubeconfig

CONTEXT = "kind-shop"


@dataclass
class FakeCluster:
    api: FakeKubeApi
    url: str
    kubeconfig: Path
    access: KubeAccess
    registry: ToolRegistry


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    """A fake cluster holding the healthy base; the kubeconfig's current context is it."""
    api = FakeKubeApi(token="test-token")
    scenarios.base(api)
    with api.serve() as url:
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            {CONTEXT: url},
            namespaces={CONTEXT: scenarios.NS},
            token="test-token",
        )
        access = KubeAccess(kubeconfig=kubeconfig, timeout=5)
        yield FakeCluster(api, url, kubeconfig, access, build_registry(access))
        access.close()
