"""The compat profile reproduces the Go scoring: 0.5 keyword + 0.3 category words + 0.2 tools."""

from __future__ import annotations

import pytest

from faulttest.evaluate.compat import evaluate
from helpdesk.result import AgentResult
from tests.evaluate.test_strict import FAULT


def text(answer: str):
    return evaluate(FAULT, AgentResult.text_only(answer))


def test_everything_found_scores_one() -> None:
    evaluation = text("Table bloat: n_dead_tup is high, last_autovacuum never ran")
    assert evaluation.score == 1.0
    assert evaluation.passed


def test_keyword_substring_counts_as_go_does() -> None:
    # "vacuum" inside "autovacuum" is a hit for Go's substring search
    assert text("autovacuum").component("keywords").passed


@pytest.mark.parametrize(
    ("answer", "expected_score", "passed"),
    [
        ("disk", 0.5, False),  # keyword only: below 0.6
        ("disk table", 0.65, True),  # keyword + half the category words (0.3 × 0.5)
        ("table bloat", 0.3, False),  # category words without a keyword hit never pass
        ("nothing relevant", 0.0, False),
        ("disk table bloat get_table_stats", 0.9, True),  # one of two tools: 0.2 × 0.5
    ],
)
def test_go_formula(answer, expected_score, passed) -> None:
    evaluation = text(answer)
    assert evaluation.score == pytest.approx(expected_score)
    assert evaluation.passed is passed


def test_prompt_echo_passes_compat_when_it_holds_a_keyword() -> None:
    # the catalog prompt says "disk": Go credits it, strict does not
    assert text(FAULT.prompt).component("keywords").passed
