"""Every gateway endpoint against real experts over A2A, with its error codes."""

from __future__ import annotations

import tarfile

import pytest

from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.gateway import create_app
from helpdesk.orchestrator import build_orchestrator
from tests.gateway.placeholder_agent import PlaceholderAgent
from tests.orchestrator.experts import CONTEXT, NAMESPACE

pytestmark = pytest.mark.lab


def test_health(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["agents_available"] == 3


def test_openapi_document_lists_every_endpoint(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/health",
        "/api/v1/agents",
        "/api/v1/query",
        "/api/v1/db/{tool}",
        "/api/v1/k8s/{tool}",
        "/api/v1/incidents",
    }
    assert set(paths["/api/v1/incidents"]) == {"get", "post"}


def test_agents_lists_available_and_unavailable(experts, dead_url) -> None:
    from fastapi.testclient import TestClient

    orchestrator = build_orchestrator(env={}, urls=[experts.database.url, dead_url])
    with TestClient(create_app(orchestrator)) as client:
        agents = client.get("/api/v1/agents").json()["agents"]
    assert agents[0]["name"] == "postgres_database_agent" and agents[0]["available"]
    assert "check_connection" in agents[0]["skills"]
    assert agents[1]["url"] == dead_url and agents[1]["available"] is False
    assert "connection failed" in agents[1]["error"]


def test_query_without_agent_is_routed_by_the_orchestrator(client, lab) -> None:
    dsn = lab.info.dsn.replace("dbname=testdb", "dbname=nope")
    response = client.post("/api/v1/query", json={"message": f"errors connecting to {dsn}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == "helpdesk_orchestrator"
    assert body["result"]["diagnosis"]["category"] == "database_not_found"
    assert {c["agent"] for c in body["result"]["tool_calls"]} == {"postgres_database_agent"}
    assert lab.info.password not in response.text


def test_query_to_a_named_agent(client) -> None:
    message = f"pods in namespace {NAMESPACE} (context `{CONTEXT}`) keep restarting"
    for name in ("k8s", "k8s_agent"):
        response = client.post("/api/v1/query", json={"agent": name, "message": message})
        assert response.status_code == 200, response.text
        assert response.json()["agent"] == "k8s_agent"
        assert response.json()["result"]["diagnosis"]["category"] == "pod_crash_loop"


def test_query_errors(client, experts, dead_url) -> None:
    unknown = client.post("/api/v1/query", json={"agent": "oracle_agent", "message": "hi"})
    assert unknown.status_code == 404 and "unknown agent 'oracle_agent'" in unknown.json()["error"]
    for bad in ({}, {"message": ""}, {"message": 42}, {"message": "x", "extra": 1}, [1]):
        response = client.post("/api/v1/query", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["error"].startswith("invalid request")
    not_json = client.post(
        "/api/v1/query", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    from fastapi.testclient import TestClient

    orchestrator = build_orchestrator(env={}, urls=[experts.database.url, dead_url])
    with TestClient(create_app(orchestrator)) as partial:
        down = partial.post("/api/v1/query", json={"agent": "k8s", "message": "pods?"})
    assert down.status_code == 503 and "k8s_agent is unavailable" in down.json()["error"]


def test_direct_database_tool(client, lab) -> None:
    response = client.post("/api/v1/db/check_connection", json={"connection_string": lab.info.dsn})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agent"] == "postgres_database_agent" and body["ok"] is True
    assert "testdb" in body["output"]
    assert lab.info.password not in response.text


def test_direct_tool_errors(client, lab) -> None:
    unknown = client.post("/api/v1/db/drop_everything", json={})
    assert unknown.status_code == 404
    assert "unknown tool 'drop_everything'" in unknown.json()["error"]
    missing = client.post("/api/v1/db/check_connection", json={})
    assert missing.status_code == 422 and "connection_string" in missing.json()["error"]
    wrong_type = client.post("/api/v1/db/check_connection", json={"connection_string": 5})
    assert wrong_type.status_code == 422
    not_object = client.post("/api/v1/db/check_connection", json=["x"])
    assert not_object.status_code == 422


def test_direct_k8s_tool(client) -> None:
    response = client.post(
        "/api/v1/k8s/get_pods", json={"namespace": NAMESPACE, "context": CONTEXT}
    )
    assert response.status_code == 200, response.text
    assert response.json()["agent"] == "k8s_agent"
    assert "CrashLoopBackOff" in response.json()["output"]
    assert client.post("/api/v1/k8s/nope", json={}).status_code == 404


def test_incidents_create_and_list(client, experts) -> None:
    created = client.post("/api/v1/incidents", json={"title": "db down", "description": "refused"})
    assert created.status_code == 200, created.text
    bundle = created.json()["data"]["bundle"]
    with tarfile.open(experts.incident_folder / bundle) as archive:
        assert archive.getnames() == ["incident.json"]
    listed = client.get("/api/v1/incidents")
    assert listed.status_code == 200 and bundle in listed.json()["data"]["bundles"]
    bad = client.post("/api/v1/incidents", json={"description": "no title"})
    assert bad.status_code == 422


def test_incidents_without_incident_agent_is_503(experts, dead_url) -> None:
    from fastapi.testclient import TestClient

    orchestrator = build_orchestrator(env={}, urls=[experts.database.url, dead_url])
    with TestClient(create_app(orchestrator)) as client:
        for response in (
            client.get("/api/v1/incidents"),
            client.post("/api/v1/incidents", json={}),
        ):
            assert response.status_code == 503
            assert "incident_agent is unavailable" in response.json()["error"]
    placeholder = PlaceholderAgent("incident_agent", "incident bundles")
    with serve_in_thread(placeholder) as served:
        orchestrator = build_orchestrator(env={}, urls=[served.url])
        with TestClient(create_app(orchestrator)) as client:
            response = client.get("/api/v1/incidents")
    assert response.status_code == 503
    assert "cannot list incidents in this build" in response.json()["error"]


def test_auth(secured, tmp_path, monkeypatch) -> None:
    from helpdesk.gateway import GatewayConfigError, load_api_key
    from tests.gateway.conftest import API_KEY

    assert secured.get("/health").status_code == 200  # health and the document stay open
    assert secured.get("/openapi.json").status_code == 200
    none = secured.get("/api/v1/agents")
    assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
    wrong = secured.get("/api/v1/agents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and API_KEY not in wrong.text
    basic = secured.get("/api/v1/agents", headers={"Authorization": f"Basic {API_KEY}"})
    assert basic.status_code == 401
    good = secured.get("/api/v1/agents", headers={"Authorization": f"Bearer {API_KEY}"})
    assert good.status_code == 200
    unauth_post = secured.post("/api/v1/query", json={"message": "x"})
    assert unauth_post.status_code == 401

    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    monkeypatch.setenv("HELPDESK_GATEWAY_API_KEY", "from-env")
    assert load_api_key(key_file) == "from-file"
    assert load_api_key() == "from-env"
    assert load_api_key(env={}) is None
    key_file.write_text("\n")
    with pytest.raises(GatewayConfigError, match="empty"):
        load_api_key(key_file)
    with pytest.raises(GatewayConfigError, match="cannot read"):
        load_api_key(tmp_path / "missing")
