"""Synthesis: the experts' answers become one answer with one SPEC §6 result.

The primary root cause is chosen by rule (a database symptom with a Kubernetes cause is a
compound category), evidence and actions are merged, every tool call keeps the name of
the agent that made it, and usage is summed.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.orchestrator.discovery import DATABASE, K8S
from helpdesk.result import AgentResult, Diagnosis, ModelInfo, ToolCall, Usage
from helpdesk.taxonomy import Domain, category

# Database symptoms that a broken Kubernetes side explains (the server is not reachable).
_DB_SYMPTOMS_OF_K8S = frozenset({"connection_refused", "server_crash"})
# Kubernetes causes that mean the database's pods keep dying.
_CRASH_CAUSES = frozenset({"pod_crash_loop", "oom_killed", "probe_failure"})


@dataclass
class Delegation:
    """One question to one expert agent and how it went."""

    agent: str
    role: str | None
    url: str | None = None
    result: AgentResult | None = None
    error: str | None = None

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self.result.diagnosis if self.result else None


def _problem(diagnosis: Diagnosis | None) -> bool:
    return diagnosis is not None and diagnosis.category != "healthy"


def _k8s_category(name: str) -> bool:
    return category(name).domain == Domain.KUBERNETES


def compound_category(db: Diagnosis | None, k8s: Diagnosis | None) -> str | None:
    """compound_crash / compound_no_endpoints when a database symptom has a Kubernetes cause."""
    if db is None or k8s is None or db.category not in _DB_SYMPTOMS_OF_K8S:
        return None
    if not (_problem(k8s) and _k8s_category(k8s.category)):
        return None
    return "compound_crash" if k8s.category in _CRASH_CAUSES else "compound_no_endpoints"


def _merge(primary: str, parts: list[Diagnosis], summary: str | None = None) -> Diagnosis:
    """One diagnosis: `primary` first, the others' categories as contributing, all evidence."""
    contributing = [
        name
        for name in dict.fromkeys(
            c for d in parts for c in [d.category, *d.contributing] if c != "healthy"
        )
        if name != primary
    ]
    return Diagnosis(
        category=primary,
        contributing=contributing,
        summary=summary or " ".join(d.summary.strip() for d in parts if d.summary.strip()),
        confidence=min(d.confidence for d in parts),
        evidence=list(dict.fromkeys(e for d in parts for e in d.evidence)),
        recommended_actions=list(dict.fromkeys(a for d in parts for a in d.recommended_actions)),
    )


def merge_diagnoses(delegations: list[Delegation]) -> Diagnosis | None:
    """The primary diagnosis over all agents' diagnoses (None when nobody diagnosed)."""
    found = [d for d in delegations if d.diagnosis is not None]
    if not found:
        return None
    db = next((d.diagnosis for d in found if d.role == DATABASE), None)
    k8s = next((d.diagnosis for d in found if d.role == K8S), None)
    compound = compound_category(db, k8s)
    if compound is not None and db is not None and k8s is not None:
        summary = (
            f"A database symptom ({db.category}) caused by Kubernetes ({k8s.category}). "
            f"{k8s.summary.strip()} {db.summary.strip()}"
        )
        return _merge(compound, [k8s, db], summary.strip())
    diagnoses = [d.diagnosis for d in found if d.diagnosis is not None]
    problems = [d for d in diagnoses if _problem(d)]
    ranked = sorted(problems or diagnoses, key=lambda d: d.confidence, reverse=True)
    primary = ranked[0]
    return _merge(primary.category, [primary, *[d for d in diagnoses if d is not primary]])


def merge_traces(delegations: list[Delegation]) -> list[ToolCall]:
    """All tool calls, in delegation order, each naming the agent that made it."""
    calls: list[ToolCall] = []
    for delegation in delegations:
        for call in delegation.result.tool_calls if delegation.result else []:
            named = call if call.agent else call.model_copy(update={"agent": delegation.agent})
            calls.append(named)
    return calls


def sum_usage(delegations: list[Delegation], own: Usage | None = None) -> Usage:
    total = Usage()
    if own is not None:
        total.add(own)
    for delegation in delegations:
        if delegation.result is not None:
            total.add(delegation.result.usage)
    return total


def render_text(
    delegations: list[Delegation], diagnosis: Diagnosis | None, notes: list[str]
) -> str:
    """The human answer: the verdict first, then each expert's own report."""
    lines = ["## Investigation Summary", ""]
    if diagnosis is not None:
        lines.append(
            f"**Diagnosis:** `{diagnosis.category}` (confidence {diagnosis.confidence:.2f})"
        )
        if diagnosis.contributing:
            lines.append(f"**Contributing:** {', '.join(diagnosis.contributing)}")
        if diagnosis.summary:
            lines += ["", diagnosis.summary]
        if diagnosis.recommended_actions:
            lines += ["", "**Recommended actions**"]
            lines += [f"- {a}" for a in diagnosis.recommended_actions]
    else:
        lines.append("No expert agent reached a diagnosis.")
    lines += [f"\n_{note}_" for note in notes]
    for delegation in delegations:
        lines += ["", f"### {delegation.agent}", ""]
        if delegation.result is not None:
            lines.append(delegation.result.text.strip() or "(no text)")
        else:
            lines.append(f"Could not answer: {delegation.error}")
    return "\n".join(lines).strip()


def synthesize(
    delegations: list[Delegation],
    model: ModelInfo,
    notes: list[str] | None = None,
    own_usage: Usage | None = None,
) -> AgentResult:
    """One AgentResult for the person from the delegations (built-in, rule-based synthesis)."""
    diagnosis = merge_diagnoses(delegations)
    notes = list(notes or [])
    return AgentResult.model_validate(
        {
            "text": render_text(delegations, diagnosis, notes),
            "diagnosis": diagnosis,
            "tool_calls": merge_traces(delegations),
            "model": model,
            "usage": sum_usage(delegations, own_usage),
            "agents": [
                {"agent": d.agent, "url": d.url, "ok": d.result is not None, "error": d.error}
                for d in delegations
            ],
        }
    )
