"""Compact text tables for tool output: aligned columns, clipped cells, capped rows.

Tool answers go to people and to LLM contexts, so they must stay small whatever the
server returns; the full rows travel separately as structured data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

DEFAULT_ROW_CAP = 25
CELL_WIDTH = 60
WIDE_CELL_WIDTH = 200  # for columns whose tail matters (messages, selectors)


def cell(value: Any, width: int = CELL_WIDTH) -> str:
    """One value as short, single-line text."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float | Decimal):
        text = f"{float(value):.4g}" if abs(float(value)) < 1e6 else f"{float(value):.0f}"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, timedelta):
        text = f"{value.total_seconds():.1f}s"
    elif isinstance(value, list | tuple):
        text = ",".join(cell(v, width) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    cap: int = DEFAULT_ROW_CAP,
    title: str | None = None,
    empty: str = "(no rows)",
    wide: Collection[str] = (),
) -> str:
    """Render rows as an aligned text table with at most `cap` rows; cells are clipped to
    CELL_WIDTH characters, those of the `wide` columns to WIDE_CELL_WIDTH."""
    lines: list[str] = [title] if title else []
    if not rows:
        lines.append(empty)
        return "\n".join(lines)
    cols = list(columns) if columns else list(rows[0].keys())
    widths_by_column = {c: WIDE_CELL_WIDTH if c in wide else CELL_WIDTH for c in cols}
    shown = [[cell(row.get(c), widths_by_column[c]) for c in cols] for row in rows[:cap]]
    widths = [max(len(c), *(len(r[i]) for r in shown)) for i, c in enumerate(cols)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in shown
    )
    if len(rows) > cap:
        lines.append(f"... {len(rows) - cap} more row(s) not shown")
    return "\n".join(lines)


def pairs(values: Mapping[str, Any], title: str | None = None) -> str:
    """Render a mapping as `key: value` lines."""
    lines = [title] if title else []
    width = max((len(k) for k in values), default=0)
    lines.extend(f"{k.ljust(width)}  {cell(v, 100)}" for k, v in values.items())
    return "\n".join(lines)


def size(num_bytes: int | float | None) -> str:
    """Bytes as a human size (kB, MB, GB) for summaries."""
    if num_bytes is None:
        return "?"
    value = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
