"""Fixtures for Kubernetes fault injection: a fake API server with a toy controller.

Each test gets its own fake cluster on a free local port (with the pods/portforward
WebSocket of a real API server), a kubeconfig pointing at it
(exported as KUBECONFIG) and an infrastructure config registering its context with a
`test` tag (exported as HELPDESK_INFRA_CONFIG). Nothing here reaches a real cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from faulttest.targets import ClusterTarget, KubeCluster
from tests.fakes.kube_api import FakeKubeApi, Request, write_kubeconfig
from tests.inject_k8s.controller import ToyController
from tests.inject_k8s.portforward_server import serve_with_portforward

CONTEXT = "kind-faulttest"
UNTAGGED = "kind-prod"
NS = "helpdesk-test"


@dataclass
class FakeCluster:
    api: FakeKubeApi
    controller: ToyController
    kubeconfig: Path
    infra: Path
    home: Path
    forwards: list[tuple[str, int]] = field(default_factory=list)  # (pod, port) per tunnel

    def target(self, context: str = CONTEXT) -> ClusterTarget:
        return ClusterTarget(KubeCluster(context, NS, str(self.kubeconfig), approved=True))

    def applies(self, since: int = 0) -> list[Request]:
        return [r for r in self.api.requests[since:] if r.is_apply]

    def deletes(self, since: int = 0) -> list[Request]:
        return [r for r in self.api.requests[since:] if r.method == "DELETE"]


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    api = FakeKubeApi(token="inject-token")
    controller = ToyController()
    api.reactors.append(controller)
    forwards: list[tuple[str, int]] = []
    with serve_with_portforward(api, forwards) as url:
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig", {CONTEXT: url, UNTAGGED: url}, token="inject-token"
        )
        infra = tmp_path / "infrastructure.json"
        infra.write_text(
            json.dumps(
                {
                    "k8s_clusters": {
                        "faulttest-kind": {"context": CONTEXT, "tags": ["test"]},
                        "production": {"context": UNTAGGED, "tags": ["prod"]},
                    }
                }
            )
        )
        home = tmp_path / "home"
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(infra))
        monkeypatch.setenv("FAULTTEST_HOME", str(home))
        monkeypatch.delenv("FAULTTEST_KUBE_CONTEXT", raising=False)
        monkeypatch.delenv("FAULTTEST_KUBE_NAMESPACE", raising=False)
        monkeypatch.delenv("FAULTTEST_KUBE_FORWARD", raising=False)
        yield FakeCluster(api, controller, kubeconfig, infra, home, forwards)
        controller.close()


def faulttest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the `faulttest` CLI as a user would (a real subprocess)."""
    return subprocess.run(
        [sys.executable, "-m", "faulttest.cli.main", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
