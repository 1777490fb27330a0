"""The `strict` evaluation profile (SPEC §7), the default: an answer that cannot be gamed.

Category from the structured diagnosis (or judge, or rule, for text-only agents), whole-word
keywords that the prompt did not already give away, tool evidence from successful recorded
tool calls only, cited facts, forbidden categories and claims, and gates against echoing the
prompt or naming every category. `passed` needs every mandatory component.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faulttest.catalog.models import FailureMode
from faulttest.evaluate import text as txt
from faulttest.evaluate.model import CategorySource, Component, Evaluation, JudgeRecord
from helpdesk.result import AgentResult
from helpdesk.taxonomy import NAMES


@dataclass(frozen=True)
class StrictPolicy:
    """The thresholds of the strict profile (the defaults are what `faulttest run` uses)."""

    min_tool_fraction: float = 0.5  # share of expected tools that must have succeeded (≥ 1 tool)
    echo_threshold: float = 0.5  # share of 3-word sequences copied from the prompt
    shotgun_named: int = 6  # distinct taxonomy categories named in the text
    shotgun_indicated: int = 10  # distinct categories whose indicator phrases occur
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "category": 0.35,
            "keywords": 0.15,
            "tool_evidence": 0.2,
            "must_cite": 0.2,
            "judge": 0.1,
        }
    )


DEFAULT_POLICY = StrictPolicy()
GATES = frozenset({"forbidden", "not_echo", "not_shotgun"})  # any failure zeroes the score


@dataclass(frozen=True)
class _Answer:
    """The parts of an agent result the components look at."""

    text: str  # the prose: text + structured summary (what echo and shotgun checks read)
    corpus: str  # everything the answer states: prose + evidence + recommended actions
    structured: bool
    primary: str | None
    contributing: tuple[str, ...]

    @classmethod
    def of(cls, result: AgentResult) -> _Answer:
        diagnosis = result.diagnosis
        if diagnosis is None:
            return cls(result.text, result.text, False, None, ())
        prose = "\n".join(p for p in (result.text, diagnosis.summary) if p)
        corpus = "\n".join([prose, *diagnosis.evidence, *diagnosis.recommended_actions])
        return cls(prose, corpus, True, diagnosis.category, tuple(diagnosis.contributing))


def _not_applicable(name: str, reason: str) -> Component:
    return Component(name=name, passed=True, score=1.0, applicable=False, reason=reason)


def _credited_category(
    answer: _Answer, judge: JudgeRecord | None
) -> tuple[str | None, CategorySource, str]:
    if answer.structured:
        return answer.primary, "structured", "structured diagnosis"
    if judge is not None:
        return judge.category, "judge", f"the judge read the text as {judge.category!r}"
    name, why = txt.infer_category(answer.text)
    return name, ("inferred" if name else "none"), why


def category_component(
    failure: FailureMode, category: str | None, source: str, answer: _Answer
) -> Component:
    expected = failure.evaluation.expected_diagnosis
    if expected is None:
        return _not_applicable("category", "the catalog entry expects no category")
    if category == expected.category:
        return Component(
            name="category",
            passed=True,
            score=1.0,
            reason=f"primary category {category!r} matches ({source})",
        )
    if expected.category in answer.contributing:
        why = f"{expected.category!r} is only contributing; the primary is {category!r}"
    elif category is None:
        why = f"expected {expected.category!r}; {source}"
    else:
        why = f"expected {expected.category!r}, got {category!r} ({source})"
    return Component(name="category", passed=False, score=0.0, reason=why)


def keywords_component(failure: FailureMode, answer: _Answer, prompt: str) -> Component:
    wanted = failure.evaluation.expected_keywords
    if not wanted.any_of and not wanted.all_of:
        return _not_applicable("keywords", "the catalog entry expects no keywords")
    given_away = set(txt.found(prompt, [*wanted.any_of, *wanted.all_of]))
    any_of = [k for k in wanted.any_of if k not in given_away]
    all_of = [k for k in wanted.all_of if k not in given_away]
    if not any_of and not all_of:
        return _not_applicable("keywords", "every expected keyword already occurs in the prompt")
    parts, reasons = [], []
    if any_of:
        hits = txt.found(answer.corpus, any_of)
        parts.append(1.0 if hits else 0.0)
        reasons.append(f"found {hits[0]!r}" if hits else f"none of {any_of} found")
    if all_of:
        missing = [k for k in all_of if not txt.contains(answer.corpus, k)]
        parts.append((len(all_of) - len(missing)) / len(all_of))
        reasons.append(f"missing {missing}" if missing else f"all of {all_of} found")
    if given_away:
        reasons.append(f"{sorted(given_away)} earn nothing (in the prompt)")
    score = sum(parts) / len(parts)
    return Component(name="keywords", passed=score == 1.0, score=score, reason="; ".join(reasons))


def tool_evidence_component(
    failure: FailureMode, result: AgentResult, policy: StrictPolicy
) -> Component:
    expected = failure.evaluation.expected_tools
    if not expected:
        return _not_applicable("tool_evidence", "the catalog entry expects no tools")
    succeeded = {call.tool for call in result.tool_calls if call.ok}
    failed = sorted({call.tool for call in result.tool_calls if not call.ok} - succeeded)
    called = [tool for tool in expected if tool in succeeded]
    fraction = len(called) / len(expected)
    passed = bool(called) and fraction >= policy.min_tool_fraction
    if not result.tool_calls:
        reason = "no tool calls recorded (words in the answer are not evidence)"
    else:
        reason = f"{len(called)}/{len(expected)} expected tools succeeded: {called or 'none'}"
        if failed:
            reason += f"; failed calls do not count: {failed}"
    return Component(name="tool_evidence", passed=passed, score=fraction, reason=reason)


def must_cite_component(failure: FailureMode, answer: _Answer) -> Component:
    facts = failure.evaluation.must_cite
    if not facts:
        return _not_applicable("must_cite", "the catalog entry names no facts to cite")
    missing = [fact for fact in facts if not txt.contains(answer.corpus, fact)]
    score = (len(facts) - len(missing)) / len(facts)
    reason = f"not cited: {missing}" if missing else f"cites {facts}"
    return Component(name="must_cite", passed=not missing, score=score, reason=reason)


def forbidden_component(failure: FailureMode, answer: _Answer, category: str | None) -> Component:
    forbidden = failure.evaluation.forbidden
    if not forbidden:
        return _not_applicable("forbidden", "the catalog entry forbids nothing")
    diagnosed = {category, *answer.contributing} - {None}
    hits = [f"category {f!r}" for f in forbidden if f in NAMES and f in diagnosed]
    hits += [f"claim {f!r}" for f in forbidden if f not in NAMES and txt.contains(answer.corpus, f)]
    reason = f"states forbidden {', '.join(hits)}" if hits else "no forbidden category or claim"
    return Component(name="forbidden", passed=not hits, score=0.0 if hits else 1.0, reason=reason)


def echo_component(answer: _Answer, prompt: str, policy: StrictPolicy) -> Component:
    if not answer.text.strip() and not answer.structured:
        return Component(name="not_echo", passed=False, score=0.0, reason="the answer is empty")
    ratio = txt.echo_ratio(answer.text, prompt)
    passed = ratio < policy.echo_threshold
    reason = f"{ratio:.0%} of the answer's word sequences are copied from the prompt"
    return Component(name="not_echo", passed=passed, score=1.0 - ratio, reason=reason)


def shotgun_component(answer: _Answer, policy: StrictPolicy) -> Component:
    # "healthy" is everyday English ("the replica is healthy"), so it never counts here
    named = (txt.named_categories(answer.text) | set(answer.contributing)) - {"healthy"}
    indicated = set(txt.indicated_categories(answer.text))
    problems = []
    if len(named) >= policy.shotgun_named:
        problems.append(f"names {len(named)} categories")
    if len(indicated) >= policy.shotgun_indicated:
        problems.append(f"points at {len(indicated)} categories")
    reason = (
        "shotgun answer: " + ", ".join(problems)
        if problems
        else f"focused ({len(named)} categories named, {len(indicated)} indicated)"
    )
    return Component(
        name="not_shotgun", passed=not problems, score=0.0 if problems else 1.0, reason=reason
    )


def judge_component(judge: JudgeRecord) -> Component:
    verdict = "passes" if judge.passed else "fails"
    return Component(
        name="judge",
        passed=judge.passed,
        score=judge.score,
        reason=f"judge {judge.model} {verdict} it at {judge.score:.2f}: {judge.reasoning}",
    )


def _weighted(components: list[Component], policy: StrictPolicy) -> list[Component]:
    return [
        c.model_copy(update={"weight": policy.weights.get(c.name, 0.0) if c.applicable else 0.0})
        for c in components
    ]


def _score(components: list[Component]) -> float:
    gates_hold = all(c.passed for c in components if c.name in GATES)
    total = sum(c.weight for c in components)
    if not gates_hold:
        return 0.0
    if total == 0.0:
        return 1.0
    return round(sum(c.weight * c.score for c in components) / total, 4)


def evaluate(
    failure: FailureMode,
    result: AgentResult,
    *,
    prompt: str | None = None,
    judge: JudgeRecord | None = None,
    policy: StrictPolicy = DEFAULT_POLICY,
) -> Evaluation:
    """Score `result` for `failure`; `prompt` is what the agent was sent (else the catalog's)."""
    sent = prompt if prompt is not None else failure.prompt
    answer = _Answer.of(result)
    category, source, source_reason = _credited_category(answer, judge)
    components = [
        category_component(failure, category, source_reason, answer),
        keywords_component(failure, answer, sent),
        tool_evidence_component(failure, result, policy),
        must_cite_component(failure, answer),
        forbidden_component(failure, answer, category),
        echo_component(answer, sent, policy),
        shotgun_component(answer, policy),
    ]
    if judge is not None:
        components.append(judge_component(judge))
    components = _weighted(components, policy)
    return Evaluation(
        profile="strict",
        failure_id=failure.id,
        passed=all(c.passed for c in components if c.mandatory),
        score=_score(components),
        category=category,
        category_source=source,
        components=components,
        judge=judge,
    )
