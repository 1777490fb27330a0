"""Real answers of the built-in database diagnostician (captured on the lab, one per fault).

They must not trip the anti-gaming gates (echo, shotgun, forbidden) and must earn the
category, keyword and citation components; the text alone must yield the right category.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faulttest.catalog.loader import load_catalog
from faulttest.evaluate import strict, text
from helpdesk.result import AgentResult

ANSWERS = json.loads((Path(__file__).parent / "data" / "builtin_answers.json").read_text())
CATALOG = load_catalog()
CASES = [
    (fid, AgentResult.model_validate(raw)) for fid, raw in ANSWERS.items() if fid in CATALOG.ids()
]


@pytest.mark.parametrize(("failure_id", "answer"), CASES, ids=[c[0] for c in CASES])
def test_real_answer_is_not_mistaken_for_gaming(failure_id, answer) -> None:
    failure = CATALOG.get(failure_id)
    evaluation = strict.evaluate(failure, answer)
    for name in ("not_echo", "not_shotgun", "forbidden", "category", "keywords", "must_cite"):
        component = evaluation.component(name)
        assert component is not None and component.passed, f"{name}: {component.reason}"


@pytest.mark.parametrize(("failure_id", "answer"), CASES, ids=[c[0] for c in CASES])
def test_text_alone_yields_the_expected_category(failure_id, answer) -> None:
    expected = CATALOG.get(failure_id).evaluation.expected_diagnosis
    assert expected is not None
    assert text.infer_category(answer.text)[0] == expected.category
