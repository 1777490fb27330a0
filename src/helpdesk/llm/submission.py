"""The `submit_diagnosis` tool: how a model ends an investigation with a checkable answer.

Its JSON schema offers the taxonomy's categories; its arguments are validated into a
`Diagnosis` (a readable error goes back to the model otherwise) and rendered as the
human answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from helpdesk.llm.client import ToolSpec
from helpdesk.result import Diagnosis
from helpdesk.taxonomy import CATEGORIES, NAMES

SUBMIT_TOOL = "submit_diagnosis"


class SubmissionError(ValueError):
    """The submitted diagnosis does not validate; the message is written for the model."""


def submit_tool_spec(categories: Iterable[str] | None = None) -> ToolSpec:
    names = list(categories) if categories is not None else [c.name for c in CATEGORIES]
    return ToolSpec(
        name=SUBMIT_TOOL,
        description=(
            "Finish the investigation: report the one primary diagnosis category, the evidence "
            "from tool output that supports it (concrete names and values), and the recommended "
            "actions. Call this exactly once, after investigating with the other tools."
        ),
        parameters={
            "type": "object",
            "properties": {
                "category": {
                    "type": "string",
                    "enum": names,
                    "description": "The primary root-cause category.",
                },
                "contributing": {
                    "type": "array",
                    "items": {"type": "string", "enum": names},
                    "description": "Other categories that contribute (may be empty).",
                },
                "summary": {
                    "type": "string",
                    "description": "Two or three sentences: what is wrong and why.",
                },
                "confidence": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "How sure you are, from 0 to 1.",
                },
                "evidence": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Facts observed in tool output, with concrete values.",
                },
                "recommended_actions": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "What the person should do next, most important first.",
                },
            },
            "required": ["category", "summary", "confidence", "evidence", "recommended_actions"],
        },
    )


def parse_submission(
    args: dict[str, Any] | None, categories: Iterable[str] | None = None
) -> Diagnosis:
    """Validate submit_diagnosis arguments; raise SubmissionError saying what to fix."""
    allowed = set(categories) if categories is not None else set(NAMES)
    if not isinstance(args, dict):
        raise SubmissionError("the arguments must be a JSON object")
    category = args.get("category")
    if category not in allowed:
        raise SubmissionError(
            f"category {category!r} is not one of the allowed categories: "
            f"{', '.join(sorted(allowed))}"
        )
    unknown = [c for c in args.get("contributing") or [] if c not in allowed]
    if unknown:
        raise SubmissionError(
            f"contributing categories not in the taxonomy: {', '.join(map(str, unknown))}"
        )
    try:
        diagnosis = Diagnosis.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SubmissionError(problems) from None
    if not diagnosis.summary.strip():
        raise SubmissionError("summary must not be empty")
    if not [e for e in diagnosis.evidence if e.strip()]:
        raise SubmissionError("evidence must list at least one fact observed in tool output")
    return diagnosis


def render_answer(prose: str, diagnosis: Diagnosis) -> str:
    """The human answer: the model's prose (if any) followed by the structured diagnosis."""
    lines = [prose.strip(), ""] if prose.strip() else []
    lines.append(f"**Diagnosis:** `{diagnosis.category}` (confidence {diagnosis.confidence:.2f})")
    if diagnosis.contributing:
        lines.append(f"**Contributing:** {', '.join(diagnosis.contributing)}")
    lines += ["", diagnosis.summary.strip()]
    if diagnosis.evidence:
        lines += ["", "**Evidence**", *[f"- {e}" for e in diagnosis.evidence]]
    if diagnosis.recommended_actions:
        lines += ["", "**Recommended actions**", *[f"- {a}" for a in diagnosis.recommended_actions]]
    return "\n".join(lines)
