"""Built-in routing: words, DSNs and infrastructure aliases decide which experts to ask."""

from __future__ import annotations

import pytest

from helpdesk.infra import InfraConfig
from helpdesk.orchestrator import rule_route

INFRA = InfraConfig.from_dict(
    {
        "db_servers": {
            "orders-db": {"connection_string": "host=orders dbname=o user=u"},
            "ledger-db": {
                "connection_string": "host=ledger dbname=l user=u",
                "k8s_cluster": "prod",
                "k8s_namespace": "ledger",
            },
        },
        "k8s_clusters": {"prod": {"context": "prod-eu"}},
    }
)


@pytest.mark.parametrize(
    ("message", "roles"),
    [
        ("users get 'too many clients' on host=db1 dbname=app user=app", ("database",)),
        ("queries on postgresql://app@db1/app are slow", ("database",)),
        ("table orders is bloated, vacuum never finishes", ("database",)),
        ("why are the pods in namespace shop restarting?", ("k8s",)),
        ("kubectl get deployments shows 0/1 ready", ("k8s",)),
        ("the web service has no endpoints", ("k8s",)),
        (
            "connections to the faulttest-web service time out; pods in namespace x look up",
            ("k8s",),
        ),
        (
            "our PostgreSQL at host=db runs in Kubernetes namespace data and is unreachable",
            ("database", "k8s"),
        ),
        ("please create an incident bundle for yesterday's outage", ("incident",)),
        ("show me the incident records", ("incident",)),
    ],
)
def test_rule_route(message: str, roles: tuple[str, ...]) -> None:
    assert rule_route(message).roles == roles


def test_aliases_route_by_what_they_are() -> None:
    assert rule_route("check orders-db please", INFRA).roles == ("database",)
    assert rule_route("check ledger-db please", INFRA).roles == ("database", "k8s")
    assert rule_route("is anything wrong in prod?", INFRA).roles == ("k8s",)
    assert rule_route("is anything wrong in prod?").roles == ("database",)  # no config: default
