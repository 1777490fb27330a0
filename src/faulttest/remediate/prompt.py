"""The remediation request: the original report, the agent's diagnosis, what it may do.

It names the authorisation explicitly (a test target, the tools the catalog allows)
and asks for the fix, its verification, or plainly what a person must do instead.
"""

from __future__ import annotations

from faulttest.catalog.models import FailureMode
from helpdesk.result import AgentResult


def remediation_prompt(
    failure: FailureMode, symptom_prompt: str, answer: AgentResult | None
) -> str:
    """The message sent to the agent after its diagnosis."""
    remediation = failure.remediation
    allowed = remediation.allowed_tools if remediation else []
    found = ""
    if answer is not None and answer.diagnosis is not None:
        found = f"\n\nYour diagnosis was: {answer.diagnosis.category}: {answer.diagnosis.summary}"
    may = (
        f"You are authorised to change this test system with these tools: {', '.join(allowed)}."
        if allowed
        else "You are authorised to change this test system with your mutation tools."
    )
    return (
        f"{symptom_prompt.strip()}{found}\n\n"
        "Now fix it. This is a disposable test system set up for this exercise. "
        f"{may} Inspect before you change anything, change only what causes the problem, "
        "and check the effect. If none of your tools can fix it, say plainly what a person "
        "must do."
    )
