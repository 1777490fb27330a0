"""LLM routing: the orchestrator's model delegates through `delegate_to_<agent>` tools.

Each vendor's real SDK talks to its scripted fake API (tests/fakes); the experts are real
A2A servers. The fake rejects any request carrying the lab password, so the model never
sees it, while the database expert still receives a working DSN.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from helpdesk.dsn import mask
from helpdesk.llm import SUBMIT_TOOL, LoopSettings, RetryPolicy
from helpdesk.orchestrator import build_orchestrator
from tests.fakes.anthropic_api import AnthropicFake
from tests.fakes.gemini_api import GeminiFake
from tests.fakes.llm_server import ScriptedLLMServer
from tests.fakes.openai_api import OpenAIFake
from tests.fakes.vendor import Call
from tests.orchestrator.experts import CONTEXT, NAMESPACE

pytestmark = pytest.mark.lab

FAST = LoopSettings(
    max_steps=4,
    call_timeout=10.0,
    overall_timeout=90.0,
    retry=RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.5),
)
DB_TOOL = "delegate_to_postgres_database_agent"
K8S_TOOL = "delegate_to_k8s_agent"
CRASH = {
    "category": "pod_crash_loop",
    "contributing": [],
    "summary": "ledger-api crash-loops: its configuration file is missing.",
    "confidence": 0.8,
    "evidence": ["ledger-api: CrashLoopBackOff, exit code 1"],
    "recommended_actions": ["Restore /etc/ledger/app.yaml"],
}


@pytest.fixture(
    params=[AnthropicFake, OpenAIFake, GeminiFake], ids=["anthropic", "openai", "gemini"]
)
def fake(request):
    return request.param()


@pytest.fixture
def serve(fake, lab):
    @contextmanager
    def _serve(replies):
        server = ScriptedLLMServer(
            replies,
            validator=fake.validate,
            forbidden=(lab.info.password,),
            error_body=fake.error_body,
        )
        with server:
            yield server
        assert server.violations == [], "a password reached the model"
        assert server.problems == [], f"the fake API rejected a request: {server.problems}"

    return _serve


def _orchestrator(experts, client):
    orchestrator = build_orchestrator(env={}, urls=experts.urls, client=client)
    orchestrator.settings = FAST
    return orchestrator


def test_model_delegates_to_both_experts(fake, serve, experts, lab) -> None:
    masked = mask(lab.info.dsn)
    script = [
        fake.tool_turn(
            Call(
                DB_TOOL, {"message": f"The app cannot work with the database {masked}. Check it."}
            ),
            Call(K8S_TOOL, {"message": f"Check pods in namespace {NAMESPACE}, context {CONTEXT}."}),
            text="Asking both experts.",
        ),
        fake.tool_turn(Call(SUBMIT_TOOL, CRASH), text="The pods crash-loop."),
    ]
    with serve(script) as server:
        orchestrator = _orchestrator(experts, fake.client(server.url))
        result = orchestrator.answer(
            f"Our app on {lab.info.dsn} fails and pods in namespace {NAMESPACE} restart."
        )
    first, second = (r.json for r in server.model_requests)
    assert fake.offered_tools(first) == [
        DB_TOOL,
        K8S_TOOL,
        "delegate_to_incident_agent",
        SUBMIT_TOOL,
    ]
    assert "password=****" in server.model_requests[0].raw
    seen = {r.name: r.content for r in fake.tool_results(second)}
    assert "Answer from postgres_database_agent" in seen[DB_TOOL]
    assert '"category":"pod_crash_loop"' in seen[K8S_TOOL].replace(" ", "")

    assert result.diagnosis is not None and result.diagnosis.category == "pod_crash_loop"
    assert result.model.vendor == fake.vendor
    by_agent: dict[str, set[str]] = {}
    for call in result.tool_calls:
        by_agent.setdefault(call.agent, set()).add(call.tool)
    assert by_agent["helpdesk_orchestrator"] == {DB_TOOL, K8S_TOOL}
    assert "get_pods" in by_agent["k8s_agent"]
    check = next(c for c in result.tool_calls if c.tool == "check_connection")
    assert check.ok, "the database expert did not get the real password back"
    assert result.usage.llm_calls == 2
    assert result.usage.input_tokens == 2 * fake.usage_per_turn[0]
    assert lab.info.password not in result.model_dump_json()


def test_model_that_never_submits_falls_back_to_rule_synthesis(fake, serve, experts, lab) -> None:
    script = [
        fake.tool_turn(Call(K8S_TOOL, {"message": f"pods in namespace {NAMESPACE} restart"})),
        fake.text_turn("Looks like something with the pods."),
    ]
    with serve(script) as server:
        orchestrator = _orchestrator(experts, fake.client(server.url))
        orchestrator.settings = LoopSettings(
            max_steps=2, call_timeout=10.0, overall_timeout=60.0, retry=FAST.retry
        )
        result = orchestrator.answer(f"pods in namespace {NAMESPACE} keep restarting")
    assert result.model_extra["status"] == "step_cap"
    assert result.diagnosis is not None and result.diagnosis.category == "pod_crash_loop"
    assert "merged by rule" in result.text


def test_no_expert_available_means_no_model_call(fake, serve, dead_url) -> None:
    with serve([]) as server:
        orchestrator = build_orchestrator(env={}, urls=[dead_url], client=fake.client(server.url))
        result = orchestrator.answer("pods in namespace shop keep restarting")
    assert server.model_requests == []
    assert result.diagnosis is None and "k8s_agent" in result.text
