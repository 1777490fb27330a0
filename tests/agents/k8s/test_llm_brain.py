"""The k8s agent with an LLM brain: the shared tool loop drives the same tools on the fake cluster.

The model is the OpenAI SDK talking to a scripted fake of the vendor API; the tools hit
the fake Kubernetes API through lightkube, so what the model sees is real tool output.
"""

from __future__ import annotations

from helpdesk.agents.k8s.agent import K8S_CATEGORIES, K8sAgent, llm_brain
from helpdesk.llm.loop import LoopSettings
from helpdesk.llm.submission import SUBMIT_TOOL
from tests.agents.k8s import scenarios
from tests.fakes.llm_server import ScriptedLLMServer
from tests.fakes.openai_api import OpenAIFake
from tests.fakes.vendor import Call

fake = OpenAIFake()


def test_an_llm_investigates_with_the_k8s_tools(cluster) -> None:
    scenarios.oom_killed(cluster.api)
    pod = scenarios._pod("thumbnailer")
    diagnosis = {
        "category": "oom_killed",
        "summary": "thumbnailer is OOMKilled under its 32Mi limit.",
        "confidence": 0.9,
        "evidence": ["last state OOMKilled, exit code 137, limit 32Mi"],
        "recommended_actions": ["raise the memory limit"],
    }
    script = [
        fake.tool_turn(Call("get_pods", {"namespace": "shop"})),
        fake.tool_turn(Call("describe_pod", {"name": pod, "namespace": "shop"})),
        fake.tool_turn(Call(SUBMIT_TOOL, diagnosis)),
    ]
    server = ScriptedLLMServer(script, validator=fake.validate, error_body=fake.error_body)
    with server:
        brain = llm_brain(fake.client(server.url), LoopSettings(max_steps=5, overall_timeout=30))
        result = K8sAgent(brain=brain, access=cluster.access).answer(
            "thumbnailer in namespace shop keeps going down"
        )
    assert server.problems == []
    offered = fake.offered_tools(server.model_requests[0].json)
    assert {"get_pods", "describe_pod", "get_pod_logs", "get_workloads"} <= set(offered)
    seen = fake.tool_results(server.model_requests[2].json)
    assert "reason=OOMKilled exit_code=137" in seen[-1].content
    assert result.diagnosis.category == "oom_killed"
    assert [c.tool for c in result.tool_calls][:2] == ["get_pods", "describe_pod"]
    assert all(c.ok for c in result.tool_calls[:2])


def test_the_llm_may_only_submit_kubernetes_categories() -> None:
    assert "oom_killed" in K8S_CATEGORIES and "healthy" in K8S_CATEGORIES
    assert "table_bloat" not in K8S_CATEGORIES


def test_from_env_picks_the_brain_and_the_infra_config(tmp_path) -> None:
    from helpdesk.agents.k8s.diagnostician import K8sDiagnostician
    from helpdesk.llm.loop import ToolLoop

    infra = tmp_path / "infra.json"
    infra.write_text('{"k8s_clusters": {"lab": {"context": "kind-lab", "tags": ["test"]}}}')
    builtin = K8sAgent.from_env({"HELPDESK_INFRA_CONFIG": str(infra)})
    assert isinstance(builtin.brain, K8sDiagnostician)
    assert builtin.access.infra.k8s_cluster("lab").context == "kind-lab"

    llm = K8sAgent.from_env(
        {
            "HELPDESK_MODEL_VENDOR": "openai",
            "HELPDESK_MODEL_NAME": "gpt-4.1-mini",
            "HELPDESK_API_KEY": "sk-test",
        }
    )
    assert isinstance(llm.brain, ToolLoop)
