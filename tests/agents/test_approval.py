"""The approval policy on its own: tags, grants, HELPDESK_APPROVE, approver callbacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpdesk.agents import approval

DSN = "host=db.test port=5432 dbname=app user=app password=secret"
OTHER = "host=db.prod port=5432 dbname=app user=app password=secret"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = {
        "db_servers": {"test-db": {"connection_string": "host=db.test port=5432 dbname=app",
                                   "tags": ["test"]},
                       "prod-db": {"connection_string": "host=db.prod port=5432 dbname=app",
                                   "tags": ["prod"]}},
        "k8s_clusters": {"lab": {"context": "kind-lab", "tags": ["chaos"]}},
    }  # fmt: skip
    (tmp_path / "infra.json").write_text(json.dumps(config))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(tmp_path / "infra.json"))
    monkeypatch.delenv(approval.ENV_VAR, raising=False)
    approval.set_approver(None)


def decide(dsn: str = OTHER) -> approval.Decision:
    return approval.decide_db(dsn, "agent", "run_vacuum", "VACUUM t")


def test_tagged_targets_are_allowed_others_refused_by_default() -> None:
    assert decide(DSN).allowed and decide(DSN).basis == "tag:test (test-db)"
    refused = decide(OTHER)
    assert not refused.allowed and "not registered as a test/chaos system" in refused.reason
    assert "secret" not in refused.reason
    assert approval.decide_k8s("kind-lab", "k8s_agent", "scale_workload", "x").allowed
    assert not approval.decide_k8s("prod", "k8s_agent", "scale_workload", "x").allowed


def test_env_modes_and_endpoint_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(approval.ENV_VAR, "none")
    assert not decide(DSN).allowed  # none: not even tagged targets
    monkeypatch.setenv(approval.ENV_VAR, "all")
    assert decide(OTHER).basis == "approve=all"
    monkeypatch.setenv(approval.ENV_VAR, "db.prod:5432")
    assert decide(OTHER).basis == "grant"
    monkeypatch.setenv(approval.ENV_VAR, "db.prod:5432/other")
    assert not decide(OTHER).allowed  # another database of that server


def test_grants_end_with_their_block() -> None:
    with approval.grant(OTHER):
        assert decide(OTHER).allowed
    assert not decide(OTHER).allowed


def test_console_approver_asks_a_person() -> None:
    shown: list[str] = []
    approval.set_approver(approval.console_approver(read=lambda _: "y", write=shown.append))
    assert decide(OTHER).basis == "approver"
    assert any("run_vacuum" in line for line in shown) and "secret" not in " ".join(shown)
    approval.set_approver(approval.console_approver(read=lambda _: "", write=shown.append))
    assert not decide(OTHER).allowed
    approval.set_approver(None)
