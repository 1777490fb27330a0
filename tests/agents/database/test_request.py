"""Reading the person's message: connection strings in every form, replica labels, symptom hints."""

from __future__ import annotations

import json

from helpdesk.agents.database.diagnostician.request import parse

DSN = "host=10.0.0.5 port=5432 dbname=shop user=app password=s3cret"


def test_dsn_in_backticks():
    request = parse(f"Slow queries. The connection_string is `{DSN}`. Please investigate.")
    assert request.primary == DSN and request.replica is None


def test_plain_dsn_at_sentence_end():
    request = parse(f"Our app cannot connect to {DSN}.")
    assert request.primary == DSN


def test_uri():
    request = parse("Check postgresql://app:pw@db.internal:6432/shop?sslmode=disable, it is slow.")
    assert request.primary == "postgresql://app:pw@db.internal:6432/shop?sslmode=disable"


def test_replica_mentioned_first_is_still_the_replica():
    replica = DSN.replace("10.0.0.5", "10.0.0.6")
    request = parse(
        f"Dashboards that read from the replica at {replica} show stale numbers: data written "
        f"through the primary at {DSN} a few minutes ago is still missing there."
    )
    assert request.primary == DSN and request.replica == replica
    assert "replication_lag" in request.hints


def test_alias_from_infrastructure_config(tmp_path, monkeypatch):
    config = tmp_path / "infra.json"
    config.write_text(json.dumps({"db_servers": {"orders-db": {"connection_string": DSN}}}))
    monkeypatch.setenv("HELPDESK_INFRA_CONFIG", str(config))
    assert parse("orders-db throws too many clients errors").primary == "orders-db"
    assert parse("The connection_string is orders-db. Please look.").primary == "orders-db"


def test_hints_ignore_words_inside_connection_strings():
    request = parse("Please check host=replica-lag.internal dbname=deadlock_db user=x")
    assert "replication_lag" not in request.hints and "deadlock" not in request.hints


def test_symptom_hints():
    assert "deadlock" in parse(f"{DSN}: transfers fail and are rolled back").hints
    assert "statement_timeout" in parse(f"{DSN}: queries get cancelled").hints
    assert "read_only" in parse(f"{DSN}: inserts fail, read-only transaction").hints
