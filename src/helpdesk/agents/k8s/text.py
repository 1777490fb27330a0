"""Compact text tables for the k8s tools, with a wide last column for messages.

The database agent's tables (clipped cells, capped rows), with Kubernetes defaults:
events and statuses carry long messages whose tail matters, so `message` stays wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpdesk.agents.database import tables
from helpdesk.agents.database.tables import cell, pairs

__all__ = ["cell", "pairs", "render"]


def render(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    cap: int = 25,
    title: str | None = None,
    empty: str = "(none)",
    wide: Sequence[str] = ("message",),
) -> str:
    """Rows as an aligned table of at most `cap` rows; `wide` columns keep up to 200 chars."""
    return tables.render(rows, columns, cap=cap, title=title, empty=empty, wide=wide)
