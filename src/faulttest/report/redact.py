"""The report boundary: every string a report writes passes through `helpdesk.dsn.mask`.

Reports carry prompts, answers and tool arguments that may hold connection strings, so
passwords are masked value by value (masking serialized JSON would break its quoting).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from helpdesk.dsn import mask


def masked(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys too) masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def masked_dump(model: BaseModel) -> dict[str, Any]:
    """`model` as JSON-ready data with every password masked."""
    return masked(model.model_dump(mode="json"))
