"""The incident agent served over A2A: it writes the bundle a message asks for and says where.

Also `POST /tool/create_incident_bundle`, `list_incidents`, and the message parsing.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from faulttest.lab import PASSWORD
from helpdesk.a2a.client import ask_sync, fetch_card_sync
from helpdesk.a2a.runtime import serve_in_thread
from helpdesk.agents.incident.agent import IncidentAgent
from helpdesk.agents.incident.registry import IncidentTools
from helpdesk.agents.incident.request import parse_incident_request
from tests.agents.incident.conftest import CONTEXT, manifest_of, unpack


def test_agent_over_a2a_writes_the_bundle_and_says_where(lab, cluster, incidents: Path) -> None:
    agent = IncidentAgent(
        settings=IncidentTools(directory=incidents, kube_tools=cluster.registry),
        known_contexts=lambda: [CONTEXT],
    )
    message = (
        f"Checkout is failing. Please collect an incident bundle for the database "
        f"`{lab.info.dsn}` and the pods in namespace shop on context `{CONTEXT}`."
    )
    with serve_in_thread(agent) as served:
        card = fetch_card_sync(served.url)
        result = ask_sync(served.url, message, timeout=120)

    assert card.name == "incident_agent"
    assert {s.id for s in card.skills} == {"create_incident_bundle", "list_incidents"}
    assert result.diagnosis is None
    assert "no diagnosis" in result.text
    [bundle] = list(incidents.glob("incident-*.tar.gz"))
    assert str(bundle) in result.text
    for folder in ("database/", "kubernetes/", "os/", "storage/"):
        assert f"`{folder}`" in result.text
    [call] = result.tool_calls
    assert call.tool == "create_incident_bundle" and call.ok
    assert call.args["namespace"] == "shop" and call.args["kube_context"] == CONTEXT
    assert "password=****" in call.args["connection_string"]
    assert PASSWORD not in json.dumps(result.model_dump(mode="json"))

    manifest = manifest_of(unpack(bundle))
    assert manifest["layers"] == ["database", "kubernetes", "os", "storage"]
    assert manifest["description"].startswith("Checkout is failing.")


def test_agent_lists_bundles(incidents: Path) -> None:
    agent = IncidentAgent(settings=IncidentTools(directory=incidents))
    created = agent.answer("collect an incident bundle of this host please")
    assert created.tool_calls[0].tool == "create_incident_bundle"

    listed = agent.answer("Which incident bundles do we have?")

    assert [c.tool for c in listed.tool_calls] == ["list_incidents"]
    [bundle] = list(incidents.glob("incident-*.tar.gz"))
    assert str(bundle) in listed.text and listed.diagnosis is None


def test_tool_routes(incidents: Path, callback) -> None:
    agent = IncidentAgent(settings=IncidentTools(directory=incidents))
    with serve_in_thread(agent) as served:
        created = httpx.post(
            f"{served.url}/tool/create_incident_bundle",
            json={"description": "from the REST route", "callback_url": callback.url},
            timeout=60,
        )
        listed = httpx.post(f"{served.url}/tool/list_incidents", json={}, timeout=30)
        bad = httpx.post(f"{served.url}/tool/create_incident_bundle", json={"dsn": "x"}, timeout=30)
        schemas = httpx.get(f"{served.url}/schemas", timeout=30).json()

    assert created.status_code == 200, created.text
    body = created.json()
    assert body["ok"] is True and Path(body["data"]["path"]).is_file()
    assert body["data"]["callback"]["ok"] is True
    assert callback.received[0]["id"] == body["data"]["id"]
    assert listed.json()["data"][0]["id"] == body["data"]["id"]
    assert listed.json()["data"][0]["description"] == "from the REST route"
    assert bad.status_code == 422 and "unknown argument" in bad.json()["error"]
    create_schema = next(t for t in schemas["tools"] if t["name"] == "create_incident_bundle")
    assert set(create_schema["parameters"]["properties"]) == {
        "connection_string",
        "kube_context",
        "namespace",
        "description",
        "callback_url",
    }


def test_unwritable_directory_is_a_tool_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the incident dir should be")
    agent = IncidentAgent(settings=IncidentTools(directory=blocker / "incidents"))

    result = agent.answer("collect an incident bundle")

    assert result.tool_calls[0].ok is False
    assert result.text.startswith("I could not write the incident bundle")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "create an incident bundle for host=db1 port=5432 dbname=shop user=app "
            "password=Pw-123456, namespace payments, --context prod-east, "
            "callback https://hooks.example.com/incident?x=1",
            {
                "connection_string": "host=db1 port=5432 dbname=shop user=app password=Pw-123456",
                "kube_context": "prod-east",
                "namespace": "payments",
                "callback_url": "https://hooks.example.com/incident?x=1",
                "wants_list": False,
            },
        ),
        (
            "record an incident for postgresql://app:pw@db2:5433/orders and post the result "
            "to http://127.0.0.1:9000/cb",
            {
                "connection_string": "postgresql://app:pw@db2:5433/orders",
                "kube_context": None,
                "namespace": None,
                "callback_url": "http://127.0.0.1:9000/cb",
                "wants_list": False,
            },
        ),
        (
            "list the recent incident bundles",
            {"connection_string": None, "callback_url": None, "wants_list": True},
        ),
    ],
)
def test_request_parsing(message: str, expected: dict) -> None:
    request = parse_incident_request(message)
    for key, value in expected.items():
        assert getattr(request, key) == value, key


def test_orchestrator_delegates_bundle_requests(incidents: Path) -> None:
    from helpdesk.orchestrator.agent import build_orchestrator

    agent = IncidentAgent(settings=IncidentTools(directory=incidents))
    with serve_in_thread(agent) as served:
        orchestrator = build_orchestrator(env={}, urls=[served.url], timeout=60)
        result = orchestrator.answer("Please collect an incident bundle for the outage at 10:02.")

    [bundle] = list(incidents.glob("incident-*.tar.gz"))
    assert str(bundle) in result.text
    assert any(c.tool == "create_incident_bundle" for c in result.tool_calls)
