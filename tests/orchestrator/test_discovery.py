"""Discovery: cards fetched over real A2A, aiHelpDesk-style logs, unavailable agents listed."""

from __future__ import annotations

import json
import logging
import re

import pytest

from helpdesk.a2a.client import AgentUnreachable
from helpdesk.orchestrator import DEFAULT_AGENT_URLS, agent_urls, build_orchestrator, discover
from tests.orchestrator.conftest import logfmt_lines

TIME = r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_default_urls_are_the_three_local_agents() -> None:
    assert agent_urls({}) == list(DEFAULT_AGENT_URLS)
    assert agent_urls({"HELPDESK_AGENT_URLS": " http://a:1/, http://b:2 ,"}) == [
        "http://a:1",
        "http://b:2",
    ]


def test_discovery_logs_like_aihelpdesk(experts, dead_url, caplog, tmp_infra, monkeypatch) -> None:
    tmp_infra.write_text(
        json.dumps(
            {
                "db_servers": {
                    name: {"connection_string": f"host=db{n} dbname=app user=app", "tags": ["test"]}
                    for n, name in enumerate(["alpha", "beta", "gamma"])
                },
                "k8s_clusters": {"kind": {"context": "kind-shop"}},
                "vms": {"bastion": {"host": "10.0.0.1"}},
            }
        )
    )
    env = {
        "HELPDESK_AGENT_URLS": ",".join([experts.database.url, experts.k8s.url, dead_url]),
        "HELPDESK_INFRA_CONFIG": str(tmp_infra),
    }
    caplog.set_level(logging.INFO, logger="helpdesk.orchestrator")
    orchestrator = build_orchestrator(env=env)
    text = "\n".join(logfmt_lines(caplog))
    for url in (experts.database.url, experts.k8s.url, dead_url):
        assert re.search(rf'^{TIME} level=INFO msg="discovering agent" url={url}$', text, re.M)
    assert re.search(
        rf'^{TIME} level=INFO msg="discovered agent" name=postgres_database_agent '
        rf"url={experts.database.url}$",
        text,
        re.M,
    )
    assert f'msg="discovered agent" name=k8s_agent url={experts.k8s.url}' in text
    assert re.search(rf'level=WARN msg="agent unavailable" url={dead_url} ', text)
    assert 'msg="expected expert agents" agents="postgres_database_agent,k8s_agent,' in text
    assert 'msg="using model" vendor=builtin model=rules' in text
    assert 'msg="infrastructure config loaded" db_servers=3 k8s_clusters=1 vms=1' in text
    assert text.rstrip().endswith('msg="orchestrator initialized" available_agents=2')
    assert [a.name for a in orchestrator.roster.available] == [
        "postgres_database_agent",
        "k8s_agent",
    ]
    assert [u.url for u in orchestrator.roster.unavailable] == [dead_url]


def test_unavailable_agents_name_the_capabilities_lost() -> None:
    def nobody(url: str):
        raise AgentUnreachable(f"no A2A agent at {url}: connection failed")

    roster = discover(list(DEFAULT_AGENT_URLS), fetch=nobody)
    assert roster.available == []
    assert [u.expected_name for u in roster.unavailable] == [
        "postgres_database_agent",
        "k8s_agent",
        "incident_agent",
    ]
    missing = roster.describe_missing()
    assert "PostgreSQL diagnosis" in missing[0]
    assert "Kubernetes diagnosis" in missing[1]
    assert "incident bundles" in missing[2]


def test_bad_model_settings_are_one_clear_error(experts) -> None:
    from helpdesk.llm import LLMConfigError

    with pytest.raises(LLMConfigError, match="HELPDESK_MODEL_NAME"):
        build_orchestrator(
            env={"HELPDESK_MODEL_VENDOR": "anthropic", "HELPDESK_API_KEY": "k"},
            urls=[experts.database.url],
        )


def test_agent_started_later_is_found_on_next_question(tmp_path, lab) -> None:
    from faulttest.lab import free_port
    from helpdesk.a2a.runtime import serve_in_thread
    from helpdesk.agents.database.agent import DatabaseAgent

    port = free_port()
    orchestrator = build_orchestrator(env={}, urls=[f"http://127.0.0.1:{port}"])
    assert orchestrator.roster.available == []
    first = orchestrator.answer(f"is the database at {lab.info.dsn} ok?")
    assert first.diagnosis is None and "unavailable" in first.text
    with serve_in_thread(DatabaseAgent(), port=port):
        second = orchestrator.answer(f"is the database at {lab.info.dsn} ok?")
    assert second.diagnosis is not None
    assert {c.agent for c in second.tool_calls} == {"postgres_database_agent"}
