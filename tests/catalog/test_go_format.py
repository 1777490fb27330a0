"""aiHelpDesk (Go) `failures.yaml` files load: their action types we cannot run become
UnsupportedAction (warnings in `validate`, not errors), durations like `60s` parse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog, load_catalog_report
from faulttest.catalog.models import ConfigAction, Node, SqlAction, UnsupportedAction
from tests.catalog.conftest import CliResult

WriteCatalog = Callable[[str, str], Path]

# Written in the style of aiHelpDesk's Go catalog (top-level version + failures,
# docker_exec/docker/kustomize actions, external_* blocks, Go durations).
GO_CATALOG = """
version: "1"

failures:
  # ── Database ────────────────────────────────────────────────────────────
  - id: go-idle-sessions
    name: "Idle sessions pile up"
    category: database
    severity: high
    description: >
      A loader container opens many sessions that sit idle inside open
      transactions.
    inject:
      type: docker_exec
      exec_via: helpdesk-test-pgloader
      script: sql/hold_sessions.sh
      detach: true
    teardown:
      type: docker_exec
      exec_via: helpdesk-test-pgloader
      script: sql/release_sessions.sh
    external_compat: true
    external_inject:
      type: sql
      script_inline: |
        BEGIN;
        SELECT txid_current();
    external_teardown:
      type: sql
      script_inline: "SELECT 1;"
    prompt: >
      The application reports that its pool cannot get connections.
      The connection_string is `{{connection_string}}` — use it verbatim for
      all tool calls. Please investigate.
    evaluation:
      expected_tools:
        - get_active_connections
      expected_keywords:
        any_of:
          - "idle in transaction"
          - "open transaction"
      expected_diagnosis:
        category: "idle_in_transaction"
    timeout: 60s

  - id: go-bloat
    name: "Bloated orders table"
    category: database
    severity: medium
    inject:
      type: sql
      script: sql/bloat.sql
    teardown:
      type: sql
      script_inline: "DROP TABLE IF EXISTS go_bloat;"
    prompt: "Queries on {{connection_string}} got slower."
    evaluation:
      expected_tools: [get_table_stats]
      expected_keywords:
        any_of: ["dead tuples", "vacuum"]
      expected_diagnosis:
        category: "table_bloat"
    timeout: 90s

  - id: go-replica-paused
    name: "Replica replay paused"
    category: database
    severity: high
    inject:
      type: sql
      target: replica
      script_inline: "SELECT pg_wal_replay_pause();"
      detach: false
    teardown:
      type: sql
      target: replica
      script_inline: "SELECT pg_wal_replay_resume();"
    prompt: "Reads from the replica of {{connection_string}} are stale."
    evaluation:
      expected_diagnosis:
        category: replication_lag
    timeout: 1m

  - id: go-server-stopped
    name: "Database container stopped"
    category: database
    severity: critical
    inject:
      type: docker
      action: kill
      signal: SIGKILL
      service: postgres
    teardown:
      type: docker
      action: start
      service: postgres
    remediation:
      playbook_id: pbs_db_restart_triage
      verify_sql: "SELECT 1"
      verify_timeout: "120s"
    prompt: "Nobody can connect to {{connection_string}}."
    evaluation:
      expected_tools: [check_connection]
      expected_diagnosis:
        category: "connection_refused"
    timeout: 30s

  - id: go-wrong-password
    name: "Wrong password in the app config"
    category: database
    severity: critical
    inject:
      type: config
      override:
        connection_string: "host=localhost port=15432 dbname=testdb user=postgres password=nope"
    teardown:
      type: config
      restore: true
    prompt: "Logins to {{connection_string}} are rejected."
    evaluation:
      expected_diagnosis:
        category: "authentication_failure"
    timeout: 30s

  # ── Compound ────────────────────────────────────────────────────────────
  - id: go-db-behind-broken-service
    name: "DB timeout + broken service"
    category: compound
    severity: critical
    governance_gap: true
    inject:
      type: kustomize
      overlay: k8s/overlays/no-endpoints
      wait: 30s
    teardown:
      type: kustomize_delete
      overlay: k8s/overlays/no-endpoints
      restore: k8s/base
    prompt: >
      The database is timing out. It runs in namespace helpdesk-test.
      The connection_string is `{{connection_string}}`.
    evaluation:
      expected_tools: [check_connection, get_endpoints]
      expected_keywords:
        any_of: ["endpoints", "selector"]
      expected_diagnosis:
        category: "compound_no_endpoints"
    timeout: 90s
"""


@pytest.fixture
def go_catalog(write_catalog: WriteCatalog) -> Path:
    write_catalog("go/sql/bloat.sql", "CREATE TABLE go_bloat (id int);\n")
    return write_catalog("go/failures.yaml", GO_CATALOG)


def test_go_catalog_loads(go_catalog: Path) -> None:
    catalog = load_catalog([go_catalog], builtin=False)
    assert catalog.ids() == [
        "go-idle-sessions",
        "go-bloat",
        "go-replica-paused",
        "go-server-stopped",
        "go-wrong-password",
        "go-db-behind-broken-service",
    ]
    assert [f.timeout for f in catalog.failures] == [60.0, 90.0, 60.0, 30.0, 30.0, 90.0]
    assert {f.source for f in catalog.failures} == {str(go_catalog)}


def test_go_action_types_become_unsupported_actions(go_catalog: Path) -> None:
    catalog = load_catalog([go_catalog], builtin=False)
    idle = catalog.get("go-idle-sessions")
    assert idle.unsupported_actions == ["docker_exec"]
    inject = idle.inject[0]
    assert isinstance(inject, UnsupportedAction)
    assert inject.model_extra == {
        "exec_via": "helpdesk-test-pgloader",
        "script": "sql/hold_sessions.sh",
        "detach": True,
    }
    assert idle.external_compat is True
    assert idle.external_inject == {
        "type": "sql",
        "script_inline": "BEGIN;\nSELECT txid_current();\n",
    }
    assert catalog.get("go-server-stopped").unsupported_actions == ["docker"]
    compound = catalog.get("go-db-behind-broken-service")
    assert compound.unsupported_actions == ["kustomize", "kustomize_delete"]
    assert compound.governance_gap is True


def test_go_sql_config_and_remediation_fields(go_catalog: Path) -> None:
    catalog = load_catalog([go_catalog], builtin=False)
    bloat = catalog.get("go-bloat").inject[0]
    assert isinstance(bloat, SqlAction)
    assert Path(bloat.script or "") == go_catalog.parent.resolve() / "sql" / "bloat.sql"
    assert Path(bloat.script or "").read_text() == "CREATE TABLE go_bloat (id int);\n"

    paused = catalog.get("go-replica-paused").inject[0]
    assert isinstance(paused, SqlAction) and paused.target is Node.REPLICA

    wrong = catalog.get("go-wrong-password")
    inject, teardown = wrong.inject[0], wrong.teardown[0]
    assert isinstance(inject, ConfigAction) and isinstance(teardown, ConfigAction)
    assert inject.override["connection_string"].endswith("password=nope")
    assert teardown.restore is True

    remediation = catalog.get("go-server-stopped").remediation
    assert remediation is not None
    assert (remediation.playbook_id, remediation.verify_sql, remediation.verify_timeout) == (
        "pbs_db_restart_triage",
        "SELECT 1",
        120.0,
    )


def _action_line(failure_id: str, phase: str) -> int:
    """1-based line of the action mapping under `phase:` of `failure_id` in the file."""
    lines = GO_CATALOG.lstrip("\n").splitlines()
    entry = lines.index(f"  - id: {failure_id}")
    return lines.index(f"    {phase}:", entry) + 2


def test_unsupported_actions_are_warnings(go_catalog: Path) -> None:
    report = load_catalog_report([go_catalog], builtin=False)
    unsupported = [w for w in report.warnings if "is not supported" in w]
    expected = [
        ("go-idle-sessions", "inject", "docker_exec"),
        ("go-idle-sessions", "teardown", "docker_exec"),
        ("go-server-stopped", "inject", "docker"),
        ("go-server-stopped", "teardown", "docker"),
        ("go-db-behind-broken-service", "inject", "kustomize"),
        ("go-db-behind-broken-service", "teardown", "kustomize_delete"),
    ]
    assert unsupported == [
        f"{go_catalog}:{_action_line(fid, phase)}:7: [{fid}] {phase}[0]: action type '{kind}' "
        "is not supported by faulttest; this fault loads but cannot be injected"
        for fid, phase, kind in expected
    ]
    assert _action_line("go-idle-sessions", "inject") == 13  # the helper itself is right


def test_validate_shows_warnings_and_passes(
    cli: Callable[..., CliResult], go_catalog: Path
) -> None:
    result = cli("validate", "--catalog", str(go_catalog))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[-1] == f"ok: 6 failure modes in {go_catalog}"
    assert sum("is not supported" in line for line in lines) == 6
    assert all(line.startswith("warning: ") for line in lines[:-1])


def test_missing_script_files_are_warnings(write_catalog: WriteCatalog) -> None:
    path = write_catalog(
        "lonely.yaml",
        """
        failures:
          - id: lonely
            name: Lonely
            category: database
            severity: low
            prompt: p
            inject: {type: sql, script: sql/not-there.sql}
        """,
    )
    report = load_catalog_report([path], builtin=False)
    missing = path.parent.resolve() / "sql" / "not-there.sql"
    assert report.warnings == [f"{path}:7:13: [lonely] inject[0]: file not found: {missing}"]
