"""submit_diagnosis: its schema, validation messages written for the model, the rendered answer."""

from __future__ import annotations

import pytest

from helpdesk.llm.submission import (
    SubmissionError,
    parse_submission,
    render_answer,
    submit_tool_spec,
)
from helpdesk.taxonomy import CATEGORIES

GOOD = {
    "category": "lock_blocking",
    "contributing": ["idle_in_transaction"],
    "summary": "pid 4242 holds a lock on accounts.",
    "confidence": 0.85,
    "evidence": ["pid 4242 holds RowExclusiveLock on accounts for 312 s"],
    "recommended_actions": ["SELECT pg_terminate_backend(4242)"],
}


def test_schema_lists_every_category_in_taxonomy_order():
    spec = submit_tool_spec()
    assert spec.parameters["properties"]["category"]["enum"] == [c.name for c in CATEGORIES]
    assert set(spec.parameters["required"]) >= {"category", "summary", "evidence"}


def test_valid_submission_becomes_a_diagnosis():
    diagnosis = parse_submission(GOOD)
    assert diagnosis.category == "lock_blocking" and diagnosis.contributing == [
        "idle_in_transaction"
    ]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"category": "disk_full"}, "not one of the allowed categories"),
        ({"contributing": ["gremlins"]}, "gremlins"),
        ({"confidence": 1.5}, "confidence"),
        ({"evidence": []}, "at least one fact"),
        ({"summary": " "}, "summary"),
    ],
)
def test_invalid_submissions_say_what_to_fix(change, fragment):
    with pytest.raises(SubmissionError, match=fragment):
        parse_submission({**GOOD, **change})


def test_categories_can_be_restricted_per_agent():
    with pytest.raises(SubmissionError):
        parse_submission(GOOD, categories=["pod_crash_loop", "healthy"])


def test_rendered_answer_carries_prose_evidence_and_actions():
    text = render_answer("Found a blocker.", parse_submission(GOOD))
    assert text.startswith("Found a blocker.")
    for fragment in (
        "`lock_blocking`",
        "idle_in_transaction",
        "pid 4242 holds RowExclusiveLock",
        "pg_terminate_backend(4242)",
    ):
        assert fragment in text
