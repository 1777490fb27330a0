"""Fixtures for the k8s agent tests: a fake API server, a kubeconfig pointing at it, tools.

Every test gets its own fake cluster on a free local port, reached through the real
lightkube client exactly as a real cluster would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def serve_cluster(tmp_path: Path, context: str, token: str = "test-token") -> Iterator[FakeCluster]:
    """A fake cluster holding the healthy base, a kubeconfig whose current context is it,
    and the k8s agent's tools bound to it (shared with the incident agent's tests)."""
    api = FakeKubeApi(token=token)
    scenarios.base(api)
    with api.serve() as url:
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            {context: url},
            namespaces={context: scenarios.NS},
            token=token,
        )
        access = KubeAccess(kubeconfig=kubeconfig, timeout=5)
        try:
            yield FakeCluster(api, url, kubeconfig, access, build_registry(access))
        finally:
            access.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    with serve_cluster(tmp_path, CONTEXT) as fake:
        yield fake
