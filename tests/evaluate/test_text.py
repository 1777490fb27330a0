"""Text matching helpers: whole-word phrases, echo ratio, category mentions and inference."""

from __future__ import annotations

import pytest

from faulttest.evaluate import text


@pytest.mark.parametrize(
    ("haystack", "phrase", "expected"),
    [
        ("VACUUM the table", "vacuum", True),
        ("autovacuum is off", "vacuum", False),
        ("faulttest_bloat has dead tuples", "bloat", False),
        ("table faulttest_bloat", "faulttest_bloat", True),
        ("public.faulttest_bloat.", "faulttest_bloat", True),
        ("90000 dead\n  tuples", "dead tuples", True),
        ("deadtuples", "dead tuples", False),
        ("plan: cost=12.5", "cost=", True),
        ("", "x", False),
        ("anything", "   ", False),
    ],
)
def test_contains_is_whole_word_and_case_insensitive(haystack, phrase, expected) -> None:
    assert text.contains(haystack, phrase) is expected


def test_found_keeps_order() -> None:
    assert text.found("lock wait and deadlock", ["deadlock", "x", "lock"]) == ["deadlock", "lock"]


def test_echo_ratio() -> None:
    prompt = "Users report that the application cannot connect to the orders database at all."
    assert text.echo_ratio(prompt, prompt) == 1.0
    assert text.echo_ratio("The table faulttest_bloat holds 90000 dead tuples.", prompt) == 0.0
    padded = "Summary: " + prompt + " Check it."
    assert text.echo_ratio(padded, prompt) > 0.6
    assert text.echo_ratio("", prompt) == 0.0


def test_named_categories_in_every_written_form() -> None:
    named = text.named_categories("table_bloat, lock blocking and read-only; healthy")
    assert named == {"table_bloat", "lock_blocking", "read_only", "healthy"}


def test_infer_category_from_label() -> None:
    name, why = text.infer_category("Root cause: `table_bloat` on faulttest_bloat")
    assert name == "table_bloat"
    assert "labelled" in why


def test_infer_category_from_diagnosis_category_label() -> None:
    assert text.infer_category("Diagnosis category: deadlock")[0] == "deadlock"


def test_infer_category_from_indicators() -> None:
    name, _ = text.infer_category(
        "The pod is in CrashLoopBackOff; back-off restarting failed container"
    )
    assert name == "pod_crash_loop"


def test_infer_category_refuses_many_categories() -> None:
    answer = (
        "Could be connection_exhaustion, deadlock, table_bloat, replication_lag or disk pressure."
    )
    name, why = text.infer_category(answer)
    assert name is None
    assert "5 categories" in why


def test_infer_category_refuses_a_tie() -> None:
    name, why = text.infer_category("Either a deadlock or replication lag.")
    assert name is None
    assert "tie" in why


def test_infer_category_nothing() -> None:
    assert text.infer_category("All good, I think.")[0] is None


def test_infer_category_label_with_article() -> None:
    assert (
        text.infer_category("The root cause is a deadlock between two sessions.")[0] == "deadlock"
    )


def test_negated_mentions_do_not_count() -> None:
    answer = "The root cause is not a deadlock. Sessions are blocked by pid 12 (lock wait)."
    assert text.infer_category(answer)[0] == "lock_blocking"
    assert text.affirmed("we ruled out replication lag", "replication lag") is False
    assert text.affirmed("replication lag is 5 GB; not a deadlock", "replication lag") is True
    assert text.infer_category("It is not table bloat.")[0] is None
