"""Writing the answer: the markdown a person reads and the structured SPEC §6 diagnosis."""

from __future__ import annotations

from helpdesk import dsn as dsnlib
from helpdesk.agents.database.diagnostician.conclusion import Conclusion
from helpdesk.agents.database.diagnostician.investigation import Observations
from helpdesk.result import Diagnosis
from helpdesk.taxonomy import category as taxonomy_category


def _label(name: str) -> str:
    return f"{name} ({taxonomy_category(name).summary})"


def diagnosis(conclusion: Conclusion) -> Diagnosis:
    primary = conclusion.primary
    if primary is None:
        return Diagnosis(
            category="healthy",
            summary="No problem found: connections, locks, tables, replication, "
            "settings and the server log are within normal bounds.",
            confidence=conclusion.confidence,
        )
    evidence = list(primary.evidence)
    actions = list(primary.actions)
    for f in conclusion.contributing:
        evidence += [e for e in f.evidence[:3] if e not in evidence]
        actions += [a for a in f.actions[:1] if a not in actions]
    return Diagnosis(
        category=primary.category,
        contributing=[f.category for f in conclusion.contributing],
        summary=primary.summary,
        confidence=conclusion.confidence,
        evidence=[dsnlib.mask(e) for e in evidence],
        recommended_actions=[dsnlib.mask(a) for a in actions],
    )


def _scope(obs: Observations) -> str:
    parts = []
    for label, node in (("primary", obs.primary), ("replica", obs.replica)):
        if node is None:
            continue
        info = node.data("check_connection")
        where = dsnlib.mask(node.target)
        if info:
            role = "standby" if info["in_recovery"] else "primary"
            parts.append(f"{label} `{where}` (PostgreSQL {info['server_version']}, {role})")
        else:
            parts.append(f"{label} `{where}` (unreachable)")
    ok = sum(1 for call in obs.trace if call.ok)
    return (
        f"Checked {', '.join(parts) or 'nothing'} with {len(obs.trace)} tool calls "
        f"({ok} succeeded)."
    )


def markdown(conclusion: Conclusion, obs: Observations) -> str:
    d = diagnosis(conclusion)
    lines = [f"## Diagnosis: {d.category} (confidence {d.confidence:.2f})", ""]
    if conclusion.primary is None:
        lines += [
            "**Healthy.** " + d.summary,
            "",
            "No session is blocked or stuck, no table needs vacuum beyond its threshold, the "
            "cache hit "
            "ratio, replication, WAL retention, sequences, timeouts and read-only settings look "
            "normal.",
            "",
            _scope(obs),
        ]
        return "\n".join(lines)
    lines += ["### Root cause", d.summary, ""]
    if conclusion.contributing:
        lines += [
            "### Contributing",
            *[f"- {_label(f.category)}: {f.summary}" for f in conclusion.contributing],
            "",
        ]
    lines += ["### Evidence", *[f"- {dsnlib.mask(e)}" for e in d.evidence], ""]
    lines += [
        "### Recommended actions",
        *[f"{i}. {a}" for i, a in enumerate(d.recommended_actions, 1)],
        "",
    ]
    lines += ["### Investigation", _scope(obs)]
    return "\n".join(lines)
