"""Compound faults: the agent's connection string goes through the broken Kubernetes Service.

The port-forward is a real detached proxy process; the fake cluster's Endpoints can route
the helpdesk-db Service to the real lab PostgreSQL, so a test can show a database
connection failing because of the Service, and working again once the Service is fixed.
"""

from __future__ import annotations

import os

import psycopg
import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.catalog.models import FailureMode
from faulttest.inject import Injector, Journal, kube_forward
from faulttest.lab import Lab
from helpdesk import dsn as dsnlib
from tests.inject_k8s.conftest import NS, FakeCluster
from tests.inject_k8s.test_faults import applied, assert_base_ready, deleted

CLOSED = "server closed the connection unexpectedly"


def fault(failure_id: str) -> FailureMode:
    return load_catalog([]).get(failure_id).model_copy(update={"timeout": 20})


def connect_error(dsn: str) -> str:
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return str(exc)
    return ""


def test_db_no_endpoints_breaks_the_forwarded_connection_and_teardown_restores(
    cluster: FakeCluster,
) -> None:
    failure = fault("compound-db-no-endpoints")
    journal = Journal(cluster.home)
    injector = Injector(cluster.target(), journal)

    injection = injector.inject(failure)

    service = applied(cluster)[("Service", "helpdesk-db")]
    assert service["spec"]["selector"] == {"app": "helpdesk-db-primary"}
    params = dsnlib.parse(injection.agent_dsn)
    assert params["host"] == "127.0.0.1" and params["dbname"] == "helpdesk"
    assert f"`{injection.agent_dsn}`" in injection.prompt
    assert CLOSED in connect_error(injection.agent_dsn)
    assert "Endpoints helpdesk-db: 0 ready" in injection.observed
    [entry] = journal.entries()
    assert entry.kube and [p.port for p in entry.kube.proxies] == [int(params["port"])]
    pid = entry.kube.proxies[0].pid
    assert kube_forward.find(failure.id) == [pid]

    mark = len(cluster.api.requests)
    result = injector.teardown(failure)

    assert result.clean, result.leftovers
    assert applied(cluster, mark)[("Service", "helpdesk-db")]["spec"]["selector"] == {
        "app": "helpdesk-db"
    }
    assert kube_forward.find(failure.id) == [] and not os.path.exists(f"/proc/{pid}/cmdline")
    assert_base_ready(cluster)
    assert journal.entries() == []


def test_db_pod_crash_restores_the_statefulset_and_replaces_the_stuck_pod(
    cluster: FakeCluster,
) -> None:
    failure = fault("compound-db-pod-crash")
    injector = Injector(cluster.target(), Journal(cluster.home))

    injection = injector.inject(failure)

    sts = applied(cluster)[("StatefulSet", "helpdesk-db")]
    args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["postgres", "-c", "shared_buffers=lots"]
    assert "waiting_reason CrashLoopBackOff" in injection.observed
    assert CLOSED in connect_error(injection.agent_dsn)

    mark = len(cluster.api.requests)
    result = injector.teardown(failure)

    assert result.clean, result.leftovers
    restored = applied(cluster, mark)[("StatefulSet", "helpdesk-db")]
    assert "args" not in restored["spec"]["template"]["spec"]["containers"][0]
    assert ("Pod", "helpdesk-db-0") in deleted(cluster, mark)  # the crashing pod is replaced
    assert_base_ready(cluster)


@pytest.mark.parametrize("via", ["api", "direct"])
def test_the_forward_reaches_the_database_once_the_service_is_fixed(
    cluster: FakeCluster, lab: Lab, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DB symptom is the Service's doing: fix the selector and the same forward works,
    through the API server's pod port-forward (the default) or straight to the pod IP."""
    monkeypatch.setenv("FAULTTEST_KUBE_FORWARD", via)
    lab_port = int(lab.info.port)
    cluster.controller.routes["helpdesk-db"] = ("127.0.0.1", lab_port)
    failure = fault("compound-db-no-endpoints")
    injector = Injector(cluster.target(), Journal(cluster.home))
    injection = injector.inject(failure)
    port = dsnlib.parse(injection.agent_dsn)["port"]
    through_forward = dsnlib.replace(lab.info.dsn, host="127.0.0.1", port=port)
    assert CLOSED in connect_error(through_forward)
    assert cluster.forwards == []  # no ready endpoint: no tunnel was even opened

    fixed = dict(cluster.api.get("Service", "helpdesk-db", NS) or {})
    fixed["spec"] = {**fixed["spec"], "selector": {"app": "helpdesk-db"}}
    cluster.api.add(fixed)
    cluster.controller.sync_endpoints(cluster.api, NS)

    with psycopg.connect(through_forward, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    expected = [("helpdesk-db-0", lab_port)] if via == "api" else []
    assert cluster.forwards == expected
    assert injector.teardown(failure).clean


@pytest.fixture(autouse=True)
def _no_forward_left_behind() -> object:
    yield
    for failure_id in ("compound-db-no-endpoints", "compound-db-pod-crash"):
        for pid in kube_forward.find(failure_id):
            kube_forward.stop(pid, failure_id)
