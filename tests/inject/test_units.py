"""Fast tests without PostgreSQL: SQL splitting, session tags, journal, safety guard, targets."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest

from faulttest.errors import SafetyRefusal
from faulttest.inject.journal import HolderRecord, Journal, JournalEntry
from faulttest.inject.sql import split_statements
from faulttest.inject.tags import app_name, app_prefix
from faulttest.safety import check_target
from faulttest.targets import DsnTarget, target_from_reference
from helpdesk.infra import InfraConfig

# ── SQL scripts ──────────────────────────────────────────────────────────────


def test_split_respects_quotes_dollar_quotes_and_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (v text);  /* block; comment */
    INSERT INTO t VALUES ('a;b'), ('it''s; fine');
    DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$;
    SELECT "odd;name" FROM t
    """
    assert split_statements(script) == [
        "-- a comment; with a semicolon\n    CREATE TABLE t (v text)",
        "/* block; comment */\n    INSERT INTO t VALUES ('a;b'), ('it''s; fine')",
        "DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$",
        'SELECT "odd;name" FROM t',
    ]


def test_split_drops_empty_and_comment_only_statements() -> None:
    assert split_statements(";;\n-- only a comment\n;SELECT 1;") == ["SELECT 1"]


# ── session tags ─────────────────────────────────────────────────────────────


def test_session_tags_and_their_like_pattern() -> None:
    tag = app_name("db-lock-contention", "transfer-ab", 1)
    assert re.fullmatch(r"faulttest:[0-9a-f]{8}:transfer-ab:1", tag)
    assert "lock" not in tag  # the tag must not give the fault away to the agent
    assert app_name("db-lock-contention", "transfer-ab", 1) == tag  # stable across processes
    assert app_name("db-max-connections", "transfer-ab", 1) != tag
    assert len(app_name("x" * 80, "n" * 80, 1)) == 63
    # the prefix is hex only, so no id can inject LIKE wildcards (teardown touches only its own)
    assert re.fullmatch(r"faulttest:[0-9a-f]{8}:%", app_prefix("my_fault%"))
    assert tag.startswith(app_prefix("db-lock-contention")[:-1])


# ── journal ──────────────────────────────────────────────────────────────────


def _entry(failure_id: str, key: str = "127.0.0.1:5432/db") -> JournalEntry:
    return JournalEntry(failure_id=failure_id, target_key=key, target={"kind": "dsn"})


def test_journal_save_find_replace_remove(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.entries() == []
    entry = _entry("a")
    journal.save(entry)
    journal.save(_entry("a", key="other:1/x"))
    entry.holders.append(HolderRecord(pid=123, node="primary"))
    journal.save(entry)  # replaces, does not duplicate
    assert len(journal.entries()) == 2
    assert journal.find("a", "127.0.0.1:5432/db").holders[0].pid == 123  # type: ignore[union-attr]
    journal.remove(entry)
    assert [e.target_key for e in journal.entries()] == ["other:1/x"]
    assert not list(tmp_path.glob(".journal-*"))  # no temp files left behind


def _save_many(home: str, prefix: str) -> None:
    journal = Journal(Path(home))
    for index in range(25):
        journal.save(_entry(f"{prefix}-{index}"))


def test_journal_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    workers = [
        multiprocessing.Process(target=_save_many, args=(str(tmp_path), name)) for name in "abc"
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(Journal(tmp_path).entries()) == 75
    json.loads((tmp_path / "journal.json").read_text())  # always a complete document


# ── safety guard ─────────────────────────────────────────────────────────────

STAGING = "host=db.staging port=5432 dbname=app user=ops password=s3cret"


def _infra(tags: list[str]) -> InfraConfig:
    server = {"connection_string": "host=db.staging port=5432 dbname=app user=ops", "tags": tags}
    return InfraConfig.from_dict({"db_servers": {"staging": server}})


def test_unregistered_targets_are_refused_without_showing_the_password() -> None:
    with pytest.raises(SafetyRefusal) as refused:
        check_target(DsnTarget(STAGING), None)
    assert refused.value.exit_code == 3
    assert "s3cret" not in str(refused.value)
    with pytest.raises(SafetyRefusal, match="without a test or chaos tag"):
        check_target(DsnTarget(STAGING), _infra(["production"]))
    with pytest.raises(SafetyRefusal, match="not registered"):
        check_target(DsnTarget(STAGING.replace("dbname=app", "dbname=billing")), _infra(["test"]))


def test_test_and_chaos_tags_are_accepted_and_the_replica_is_checked_too() -> None:
    check_target(DsnTarget(STAGING), _infra(["test"]))
    check_target(DsnTarget(STAGING), _infra(["chaos", "eu"]))
    with pytest.raises(SafetyRefusal, match="port=5433"):
        check_target(DsnTarget(STAGING, STAGING.replace("5432", "5433")), _infra(["test"]))


def test_the_override_flag_lets_it_through() -> None:
    check_target(DsnTarget(STAGING), None, override=True)


# ── targets from the journal ─────────────────────────────────────────────────


def test_a_journaled_dsn_target_gets_its_password_back_from_matching_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = DsnTarget(STAGING)
    reference = target.reference()
    assert "s3cret" not in json.dumps(reference)
    monkeypatch.delenv("FAULTTEST_CONN", raising=False)
    unrelated = "host=elsewhere port=5432 dbname=app password=nope"
    rebuilt = target_from_reference(reference, conn=unrelated)
    assert rebuilt is not None and "password" not in rebuilt.dsn  # falls back to ~/.pgpass
    monkeypatch.setenv("FAULTTEST_CONN", STAGING)
    rebuilt = target_from_reference(reference)
    assert rebuilt is not None and rebuilt.dsn == STAGING
