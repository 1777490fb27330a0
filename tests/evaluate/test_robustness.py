"""The evaluator cannot be fooled (issue 4 §2), checked on every fault of the built-in catalog.

(a) the fault's own prompt as the answer fails; (b) a shotgun answer naming every category,
keyword and fact fails; (c) a correct answer passes; (d) a right-sounding answer whose
structured category is wrong fails.
"""

from __future__ import annotations

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.evaluate import compat, strict
from tests.evaluate import answers

CATALOG = load_catalog().failures
SCORED = [f for f in CATALOG if f.evaluation.expected_diagnosis is not None]
IDS = [f.id for f in SCORED]


def test_catalog_has_scored_faults() -> None:
    assert SCORED, "the built-in catalog loaded no fault with an expected diagnosis"


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
@pytest.mark.parametrize("structured", [False, True], ids=["text", "structured"])
def test_echo_of_prompt_fails(failure, structured) -> None:
    prompt = answers.rendered_prompt(failure)
    result = answers.echo(failure, structured=structured)
    evaluation = strict.evaluate(failure, result, prompt=prompt)
    assert not evaluation.passed
    assert evaluation.score == 0.0
    assert not evaluation.component("not_echo").passed


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_echo_of_raw_catalog_prompt_fails(failure) -> None:
    result = answers.echo(failure)
    assert not strict.evaluate(failure, result).passed


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
@pytest.mark.parametrize("structured", [False, True], ids=["text", "structured"])
def test_shotgun_fails(failure, structured) -> None:
    result = answers.shotgun(failure, CATALOG, structured=structured)
    evaluation = strict.evaluate(failure, result, prompt=answers.rendered_prompt(failure))
    assert not evaluation.passed
    assert evaluation.score == 0.0
    assert not evaluation.component("not_shotgun").passed


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_shotgun_text_only_gets_no_category(failure) -> None:
    result = answers.shotgun(failure, CATALOG)
    evaluation = strict.evaluate(failure, result, prompt=answers.rendered_prompt(failure))
    assert evaluation.category is None
    assert not evaluation.diagnosis_pass


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_correct_answer_passes(failure) -> None:
    evaluation = strict.evaluate(
        failure, answers.correct(failure), prompt=answers.rendered_prompt(failure)
    )
    assert evaluation.passed, evaluation.failed_reasons()
    assert evaluation.score == 1.0
    assert evaluation.category_source == "structured"


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
@pytest.mark.parametrize("allow_forbidden", [True, False], ids=["forbidden", "sibling"])
def test_right_sounding_answer_with_wrong_category_fails(failure, allow_forbidden) -> None:
    wrong = answers.wrong_category(failure, allow_forbidden=allow_forbidden)
    result = answers.correct(failure, category=wrong)
    evaluation = strict.evaluate(failure, result, prompt=answers.rendered_prompt(failure))
    assert not evaluation.passed
    assert not evaluation.diagnosis_pass
    assert evaluation.category == wrong


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_correct_answer_without_tool_calls_fails(failure) -> None:
    if not failure.evaluation.expected_tools:
        pytest.skip("no expected tools")
    result = answers.correct(failure).model_copy(update={"tool_calls": []})
    evaluation = strict.evaluate(failure, result, prompt=answers.rendered_prompt(failure))
    assert not evaluation.passed
    assert not evaluation.tool_evidence


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_compat_accepts_the_correct_answer(failure) -> None:
    assert compat.evaluate(failure, answers.correct(failure)).passed


def test_compat_is_fooled_by_the_shotgun_where_strict_is_not() -> None:
    fooled = [f.id for f in SCORED if compat.evaluate(f, answers.shotgun(f, CATALOG)).passed]
    assert fooled, "the shotgun should fool the Go scoring on at least one fault"
    assert not [f.id for f in SCORED if strict.evaluate(f, answers.shotgun(f, CATALOG)).passed]


@pytest.mark.parametrize("failure", SCORED, ids=IDS)
def test_correct_text_only_answer_with_tool_calls_passes(failure) -> None:
    structured = answers.correct(failure)
    result = structured.model_copy(update={"diagnosis": None})
    evaluation = strict.evaluate(failure, result, prompt=answers.rendered_prompt(failure))
    assert evaluation.category_source == "inferred"
    assert evaluation.passed, evaluation.failed_reasons()
