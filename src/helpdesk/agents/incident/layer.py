"""What one collector produces: the files of its layer folder, its errors, and facts.

A collector never raises for a collection problem: it records the error and goes on,
so one broken layer (an unreachable database, no cluster) never costs the bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helpdesk.agents.base import ToolOutput


@dataclass
class LayerOutput:
    """The `<name>/` folder of a bundle: texts (`.txt`), JSON documents and what went wrong."""

    name: str
    texts: dict[str, str] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    succeeded: int = 0

    def add(self, item: str, text: str, data: Any = None) -> None:
        """`<item>.txt` with `text`, and `<item>.json` when there is structured data."""
        self._write(item, text, data)
        self.succeeded += 1

    def add_tool_output(self, item: str, output: ToolOutput) -> None:
        """The tool's text and data; a failed tool's error text is kept and recorded."""
        if output.ok:
            self.add(item, output.text, output.data)
        else:
            self._write(item, output.text, output.data)
            self.error(f"{item}: {first_line(output.text)}")

    def _write(self, item: str, text: str, data: Any) -> None:
        self.texts[f"{self.name}/{item}.txt"] = text.rstrip() + "\n"
        if data is not None:
            self.documents[f"{self.name}/{item}.json"] = data

    def error(self, message: str) -> None:
        self.errors.append(message)

    @property
    def collected(self) -> bool:
        """True when at least one item of the layer was collected (not only errors)."""
        return self.succeeded > 0

    @property
    def files(self) -> list[str]:
        return sorted([*self.texts, *self.documents])


def skipped_layer(name: str, reason: str) -> LayerOutput:
    return LayerOutput(name=name, skipped=reason)


def first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no output)"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def human_size(n: float) -> str:
    """Bytes for people: 512 B, 1.5 MiB, 3.2 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
