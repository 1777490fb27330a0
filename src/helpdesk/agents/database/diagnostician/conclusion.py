"""From findings to one conclusion: the primary category, the contributing ones, confidence.

Ranking is severity plus a boost when the person's symptoms point at the category;
then causality: a finding that explains the top one (bloat behind disk growth, a
missing index behind cache misses) takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from helpdesk.agents.database.diagnostician.findings import CAUSE_MIN, REPORT_MIN, Finding

MAX_CONTRIBUTING = 3
UNRELATED_MIN = 55  # an unrelated finding must be at least this severe to be listed as contributing


@dataclass
class Conclusion:
    primary: Finding | None
    contributing: list[Finding] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def category(self) -> str:
        return self.primary.category if self.primary else "healthy"


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per category: the most severe, with the others' evidence appended."""
    best: dict[str, Finding] = {}
    for f in sorted(findings, key=lambda f: -f.severity):
        kept = best.get(f.category)
        if kept is None:
            best[f.category] = f
        else:
            kept.evidence += [e for e in f.evidence if e not in kept.evidence]
            kept.actions += [a for a in f.actions if a not in kept.actions]
            kept.related = tuple(dict.fromkeys((*kept.related, *f.related)))
    return list(best.values())


def conclude(findings: list[Finding], hints: set[str]) -> Conclusion:
    ranked = sorted(
        (f for f in merge(findings) if f.severity >= REPORT_MIN), key=lambda f: -f.score(hints)
    )
    if not ranked:
        return Conclusion(primary=None, confidence=0.85)
    top = ranked[0]
    cause = next(
        (f for f in ranked[1:] if top.category in f.explains and f.severity >= CAUSE_MIN), None
    )
    if cause is not None and not top.definitive:
        top = cause
    others = [f for f in ranked if f is not top and f.category not in top.explains]
    linked = [f for f in others if f.category in top.related]
    rest = [f for f in others if f not in linked and f.severity >= UNRELATED_MIN]
    contributing = (linked + rest)[:MAX_CONTRIBUTING]
    runner_up = max((f.score(hints) for f in others), default=0)
    margin = top.score(hints) - runner_up
    confidence = min(0.95, 0.45 + top.severity / 200 + max(margin, 0) / 200)
    return Conclusion(primary=top, contributing=contributing, confidence=round(confidence, 2))
