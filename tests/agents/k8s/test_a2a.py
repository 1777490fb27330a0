"""The k8s agent served over A2A: card, `/tool/NAME`, and a diagnosis of a fake cluster."""

from __future__ import annotations

import httpx

from helpdesk.a2a.client import ask_sync, fetch_card_sync
from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.agents.k8s.agent import K8sAgent
from tests.agents.k8s import scenarios
from tests.agents.k8s.conftest import CONTEXT


def test_k8s_agent_over_a2a(cluster) -> None:
    scenarios.image_pull(cluster.api)
    with serve_in_thread(K8sAgent(access=cluster.access)) as served:
        card = fetch_card_sync(served.url)
        assert card.name == "k8s_agent"
        assert "get_pod_logs" in {s.id for s in card.skills}

        tool = httpx.post(
            f"{served.url}/tool/get_workloads", json={"namespace": "shop"}, timeout=30
        )
        assert tool.status_code == 200 and tool.json()["ok"] is True

        result = ask_sync(
            served.url,
            f"After a release, storefront in namespace shop (context `{CONTEXT}`) never came up.",
            timeout=60,
        )
    assert result.diagnosis is not None and result.diagnosis.category == "image_pull_failure"
    assert "registry.invalid/acme/storefront:9.9.9" in result.text
    assert {c.tool for c in result.tool_calls} >= {"get_pods", "describe_pod", "get_events"}
