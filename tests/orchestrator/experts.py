"""Real expert agents for the orchestrator and gateway tests, served over real A2A sockets.

The database agent is the real DatabaseAgent (lab PostgreSQL); the k8s agent is the real
K8sAgent against the fake Kubernetes API (a test double of the API server); the incident
agent is a small real agent defined here (the product's comes later) whose tools write
real tar.gz bundles.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.base import Tool, ToolOutput, ToolRegistry
from helpdesk.agents.database.agent import DatabaseAgent
from helpdesk.agents.k8s.agent import K8sAgent
from helpdesk.agents.k8s.client import KubeAccess
from helpdesk.result import AgentResult
from tests.agents.k8s import scenarios
from tests.fakes.kube_api import FakeKubeApi, write_kubeconfig

CONTEXT = "kind-shop"
NAMESPACE = scenarios.NS


class IncidentAgent:
    """A small incident agent: bundles a description into a tar.gz and lists the bundles."""

    name = "incident_agent"
    description = "Collects incident bundles (tar.gz of diagnostics) and lists them."

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tools = ToolRegistry(self.name)
        self.tools.add(
            Tool(
                "create_incident_bundle",
                "Write an incident bundle.",
                {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                    },
                    "required": ["title"],
                },
                self._create,
            )
        )
        self.tools.add(
            Tool(
                "list_incidents",
                "List incident bundles.",
                {"type": "object", "properties": {}},
                self._list,
            )
        )

    def _create(self, title: str, description: str = "") -> ToolOutput:
        path = self.folder / f"incident-{time.time_ns()}.tar.gz"
        payload = json.dumps({"title": title, "description": description}).encode()
        with tarfile.open(path, "w:gz") as bundle:
            info = tarfile.TarInfo("incident.json")
            info.size = len(payload)
            bundle.addfile(info, io.BytesIO(payload))
        return ToolOutput(text=f"bundle written: {path.name}", data={"bundle": path.name})

    def _list(self) -> ToolOutput:
        names = sorted(p.name for p in self.folder.glob("incident-*.tar.gz"))
        return ToolOutput(text="\n".join(names) or "no incidents", data={"bundles": names})

    def answer(self, message: str) -> AgentResult:
        trace: list = []
        listing = self.tools.call("list_incidents", {}, trace)
        return AgentResult(text=f"Incident bundles: {listing.text}", tool_calls=trace)


@dataclass
class FakeCluster:
    api: FakeKubeApi
    kubeconfig: Path
    access: KubeAccess


@contextmanager
def fake_cluster(folder: Path, scenario: str | None = "crash_loop") -> Iterator[FakeCluster]:
    """A fake API server holding the shop namespace (plus a failure scenario)."""
    api = FakeKubeApi(token="test-token")
    scenarios.base(api)
    if scenario:
        getattr(scenarios, scenario)(api)
    with api.serve() as url:
        kubeconfig = write_kubeconfig(
            folder / "kubeconfig",
            {CONTEXT: url},
            namespaces={CONTEXT: NAMESPACE},
            token="test-token",
        )
        access = KubeAccess(kubeconfig=kubeconfig, timeout=5)
        try:
            yield FakeCluster(api, kubeconfig, access)
        finally:
            access.close()


@dataclass
class Experts:
    database: ServedAgent
    k8s: ServedAgent
    incident: ServedAgent
    cluster: FakeCluster
    incident_folder: Path

    @property
    def urls(self) -> list[str]:
        return [self.database.url, self.k8s.url, self.incident.url]


@contextmanager
def serve_experts(folder: Path) -> Iterator[Experts]:
    """All three experts on free loopback ports for the duration of the block."""
    bundles = folder / "incidents"
    bundles.mkdir(parents=True, exist_ok=True)
    with (
        fake_cluster(folder) as cluster,
        serve_in_thread(DatabaseAgent()) as database,
        serve_in_thread(K8sAgent(access=cluster.access)) as k8s,
        serve_in_thread(IncidentAgent(bundles)) as incident,
    ):
        yield Experts(database, k8s, incident, cluster, bundles)
