"""Compact text tables for the k8s tools, with a wide last column for messages.

Like the database agent's tables (clipped cells, capped rows), but Kubernetes events and
statuses carry long messages whose tail matters, so named columns may be wider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpdesk.agents.database.tables import CELL_WIDTH, cell, pairs

__all__ = ["WIDE", "cell", "pairs", "render"]

WIDE = 200


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
    lines: list[str] = [title] if title else []
    if not rows:
        lines.append(empty)
        return "\n".join(lines)
    shown = [
        [cell(row.get(c), WIDE if c in wide else CELL_WIDTH) for c in columns] for row in rows[:cap]
    ]
    widths = [max(len(c), *(len(r[i]) for r in shown)) for i, c in enumerate(columns)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in shown
    )
    if len(rows) > cap:
        lines.append(f"... {len(rows) - cap} more row(s) not shown")
    return "\n".join(lines)
