"""Choosing one diagnosis from findings: ranking, symptom boost, causality, contributing."""

from __future__ import annotations

from helpdesk.agents.database.diagnostician.conclusion import conclude
from helpdesk.agents.database.diagnostician.findings import Finding


def f(category: str, severity: int, **kw) -> Finding:
    return Finding(category, severity, f"{category} summary", [f"{category} evidence"], **kw)


def test_nothing_reportable_is_healthy():
    result = conclude([f("long_running_query", 30)], set())
    assert result.category == "healthy" and result.contributing == []


def test_highest_severity_wins_and_hints_re_rank():
    findings = [f("cache_performance", 70), f("missing_index", 60)]
    assert conclude(findings, set()).category == "cache_performance"
    assert conclude(findings, {"missing_index"}).category == "missing_index"


def test_a_cause_replaces_what_it_explains():
    disk = f("disk_pressure", 60)
    bloat = f("table_bloat", 55, explains=("disk_pressure",))
    result = conclude([disk, bloat], {"disk_pressure"})
    assert result.category == "table_bloat"
    assert "disk_pressure" not in [c.category for c in result.contributing]


def test_a_definitive_finding_is_not_displaced():
    full = f("disk_pressure", 93, definitive=True)
    bloat = f("table_bloat", 90, explains=("disk_pressure",))
    assert conclude([full, bloat], set()).category == "disk_pressure"


def test_related_first_then_only_strong_unrelated_contributing():
    primary = f("deadlock", 92, related=("lock_blocking",))
    result = conclude(
        [primary, f("lock_blocking", 45), f("long_running_query", 50), f("table_bloat", 70)], set()
    )
    assert [c.category for c in result.contributing] == ["lock_blocking", "table_bloat"]


def test_same_category_findings_are_merged():
    result = conclude([f("read_only", 88), f("read_only", 85)], set())
    assert result.primary.evidence == ["read_only evidence"]
    assert 0.45 < result.confidence <= 0.95
