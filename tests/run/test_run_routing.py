"""Which agent answers which fault: kubernetes → k8s agent, compound → orchestrator, with
`--k8s-agent`/`--orchestrator` overriding the in-process ones, and no context → skipped.

The faults here are custom ones whose injection is a harmless shell step, so the routing
is tested without a cluster; the agents are real A2A servers that record what they get.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from faulttest.lab import Lab
from helpdesk.a2a.runtime import ServedAgent, serve_in_thread
from helpdesk.agents.base import ToolRegistry
from helpdesk.result import AgentResult
from tests.run.conftest import faulttest, only_report

CATALOG = """\
version: "1"
failures:
  - id: custom-k8s-route
    name: "A Kubernetes-category fault (shell no-op)"
    category: kubernetes
    severity: low
    inject: {type: shell, script_inline: "true"}
    prompt: Pods of the web app keep restarting in context {{kube_context}}.
    evaluation: {expected_diagnosis: {category: pod_crash_loop}}
    timeout: 10s
  - id: custom-compound-route
    name: "A compound fault (shell no-op)"
    category: compound
    severity: low
    inject: {type: shell, script_inline: "true"}
    prompt: The database at {{connection_string}} in context {{kube_context}} is unreachable.
    evaluation: {expected_diagnosis: {category: compound_no_endpoints}}
    timeout: 10s
"""


class RecordingAgent:
    def __init__(self, name: str) -> None:
        self.name = name
        self.description = f"records questions ({name})"
        self.tools = ToolRegistry(name)
        self.questions: list[str] = []
        self._lock = threading.Lock()

    def answer(self, message: str) -> AgentResult:
        with self._lock:
            self.questions.append(message)
        return AgentResult.text_only(f"{self.name} has no diagnosis.")


@pytest.fixture
def recorders() -> Iterator[tuple[RecordingAgent, ServedAgent, RecordingAgent, ServedAgent]]:
    k8s, orchestrator = RecordingAgent("k8s_recorder"), RecordingAgent("orch_recorder")
    k8s_served, orch_served = serve_in_thread(k8s), serve_in_thread(orchestrator)
    yield k8s, k8s_served, orchestrator, orch_served
    k8s_served.stop()
    orch_served.stop()


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    """An infrastructure config that registers the kind-lab context as a test cluster."""
    path = tmp_path / "infrastructure.json"
    cluster = {"name": "kind-lab", "context": "kind-lab", "tags": ["test"]}
    path.write_text(json.dumps({"k8s_clusters": [cluster]}))
    return path


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(CATALOG)
    return path


def test_faults_go_to_the_agent_of_their_category(
    lab: Lab, faulttest_home: Path, tmp_path: Path, catalog: Path, infra: Path, recorders
) -> None:  # type: ignore[no-untyped-def]
    k8s, k8s_served, orchestrator, orch_served = recorders
    done = faulttest(
        "run", "--source", "custom", "--catalog", str(catalog), "--context", "kind-lab",
        "--infra-config", str(infra),
        "--k8s-agent", k8s_served.url, "--orchestrator", orch_served.url,
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # the recorders diagnose nothing
    assert k8s.questions == ["Pods of the web app keep restarting in context kind-lab."]
    (question,) = orchestrator.questions
    assert "in context kind-lab is unreachable" in question
    assert f"port={lab.port}" in question
    results = only_report(tmp_path)
    assert [r["status"] for r in results["results"]] == ["failed", "failed"]
    assert results["environment"]["kube_context"] == "kind-lab"
    assert k8s_served.url in results["environment"]["agent"]


def test_without_a_context_they_are_skipped_and_no_agent_is_asked(
    lab: Lab, faulttest_home: Path, tmp_path: Path, catalog: Path, recorders
) -> None:  # type: ignore[no-untyped-def]
    k8s, k8s_served, orchestrator, orch_served = recorders
    done = faulttest(
        "run", "--source", "custom", "--catalog", str(catalog),
        "--k8s-agent", k8s_served.url, "--orchestrator", orch_served.url,
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert not k8s.questions and not orchestrator.questions
    for result in only_report(tmp_path)["results"]:
        assert result["status"] == "skipped"
        assert result["skip_reason"].startswith("no Kubernetes context given: pass --context")


def test_with_a_context_the_in_process_k8s_agent_and_orchestrator_answer(
    lab: Lab, faulttest_home: Path, tmp_path: Path, catalog: Path, infra: Path
) -> None:
    done = faulttest(
        "run", "--source", "custom", "--catalog", str(catalog), "--context", "kind-lab",
        "--infra-config", str(infra),
        home=faulttest_home, cwd=tmp_path, env={"KUBECONFIG": str(tmp_path / "none")},
    )  # fmt: skip
    report = only_report(tmp_path)
    agents = report["environment"]["agent"]
    assert "kubernetes=http://127.0.0.1:" in agents and "orchestrator=http://127.0.0.1:" in agents
    assert "database=http://127.0.0.1:" in agents, "the orchestrator's experts run too"
    for result in report["results"]:  # no cluster: the agents answer, but cannot diagnose
        assert result["status"] in ("failed", "error"), result
        assert result["agent_result"] is not None or "agent error" in (result["error"] or "")
    assert done.returncode == 1


def test_an_unregistered_context_is_refused(
    lab: Lab, faulttest_home: Path, tmp_path: Path, catalog: Path
) -> None:
    done = faulttest(
        "run", "--source", "custom", "--catalog", str(catalog), "--context", "prod-cluster",
        home=faulttest_home, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "prod-cluster" in done.stderr
