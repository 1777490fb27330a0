"""Remediation (`faulttest run --remediate`): ask the agent to fix the fault, verify recovery.

`remediate(...)` is the whole step for one injected fault; `prompt`, `guidance` and
`actions` are its parts. docs/REMEDIATION.md describes the rules.
"""

from faulttest.remediate.flow import AskFix, fold_into, remediate

__all__ = ["AskFix", "fold_into", "remediate"]
