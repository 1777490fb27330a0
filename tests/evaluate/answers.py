"""Answers built to probe the evaluator: echoes, shotguns, correct and wrong-category answers.

They are built from a catalog entry alone, so every fault of any catalog can be probed.
"""

from __future__ import annotations

from faulttest.catalog.models import FailureMode
from helpdesk.result import AgentResult, Diagnosis, ToolCall
from helpdesk.taxonomy import CATEGORIES, NAMES

_DSN = "host=127.0.0.1 port={} dbname=testdb user=postgres password=testpass"
SAMPLE_VALUES = {
    "connection_string": _DSN.format(55432),
    "replica_connection_string": _DSN.format(55433),
    "kube_context": "kind-faulttest",
}


def expected_category(failure: FailureMode) -> str:
    assert failure.evaluation.expected_diagnosis is not None, failure.id
    return failure.evaluation.expected_diagnosis.category


def rendered_prompt(failure: FailureMode) -> str:
    return failure.render_prompt(SAMPLE_VALUES)


def successful_calls(failure: FailureMode) -> list[ToolCall]:
    return [
        ToolCall(agent="test", tool=tool, args={"connection_string": "host=x password=****"})
        for tool in failure.evaluation.expected_tools
    ]


def echo(failure: FailureMode, *, structured: bool = False) -> AgentResult:
    """The prompt sent back; with `structured`, also the right category and tool calls."""
    prompt = rendered_prompt(failure)
    if not structured:
        return AgentResult.text_only(prompt)
    return AgentResult(
        text=prompt,
        diagnosis=Diagnosis(category=expected_category(failure)),
        tool_calls=successful_calls(failure),
    )


def shotgun_text(catalog: list[FailureMode]) -> str:
    names = [c.name for c in CATEGORIES]
    spaced = [n.replace("_", " ") for n in names]
    keywords = [
        k
        for f in catalog
        for k in (*f.evaluation.expected_keywords.any_of, *f.evaluation.expected_keywords.all_of)
    ]
    facts = [fact for f in catalog for fact in f.evaluation.must_cite]
    return (
        "The problem could be any of: "
        + ", ".join(names + spaced)
        + ". Signs to look for: "
        + ", ".join(keywords)
        + ". Objects involved may include "
        + ", ".join(facts)
        + "."
    )


def shotgun(
    failure: FailureMode, catalog: list[FailureMode], *, structured: bool = False
) -> AgentResult:
    """Every category, keyword and fact; with `structured`, the right primary and tool calls."""
    text = shotgun_text(catalog)
    if not structured:
        return AgentResult.text_only(text)
    primary = expected_category(failure)
    return AgentResult(
        text=text,
        diagnosis=Diagnosis(
            category=primary,
            contributing=sorted(NAMES - {primary}),
            evidence=list(failure.evaluation.must_cite),
        ),
        tool_calls=successful_calls(failure),
    )


def eligible_keyword(failure: FailureMode) -> str:
    """A keyword the prompt does not give away (empty when there is none)."""
    from faulttest.evaluate.text import contains

    prompt = rendered_prompt(failure)
    wanted = failure.evaluation.expected_keywords
    free = [k for k in wanted.any_of if not contains(prompt, k)]
    return free[0] if free else ""


def correct(failure: FailureMode, *, category: str | None = None) -> AgentResult:
    """What a good agent answers: the root cause, the cited facts, keywords, tool calls."""
    primary = category or expected_category(failure)
    wanted = failure.evaluation.expected_keywords
    facts = failure.evaluation.must_cite
    text = "\n".join(
        [
            f"Root cause: {expected_category(failure)}.",
            failure.evaluation.narrative,
            f"Observed: {', '.join(facts)}; indicators: {eligible_keyword(failure)}"
            + (f", {', '.join(wanted.all_of)}" if wanted.all_of else "")
            + ".",
        ]
    )
    return AgentResult(
        text=text,
        diagnosis=Diagnosis(
            category=primary,
            summary=failure.evaluation.narrative.split(".")[0],
            evidence=[f"{fact} seen in tool output" for fact in facts],
        ),
        tool_calls=successful_calls(failure),
    )


def wrong_category(failure: FailureMode, *, allow_forbidden: bool = True) -> str:
    """A plausible wrong category: a forbidden one (if allowed and any), else a sibling."""
    expected = expected_category(failure)
    forbidden = [f for f in failure.evaluation.forbidden if f in NAMES and f != expected]
    if forbidden and allow_forbidden:
        return forbidden[0]
    domain = next(c.domain for c in CATEGORIES if c.name == expected)
    siblings = [c.name for c in CATEGORIES if c.domain == domain and c.name != expected]
    return next(name for name in siblings if name not in forbidden)
