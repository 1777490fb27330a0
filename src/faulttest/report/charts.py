"""Static SVG charts for the HTML report, drawn with pygal.

Why pygal: it is pure Python with no compiled dependencies (about 1 MB installed, against
~170 MB for matplotlib with numpy), writes SVG natively, and draws confidence-interval bars
itself, which the stability chart needs; it is maintained (3.x releases through 2026). Its
interactive JavaScript is left out: charts are embedded as plain, static SVG (no scripts, no
external references), so the report works offline and from a CI artifact store.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pygal
from pygal.style import Style

from helpdesk.dsn import mask

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#2f7d32", "#c62828", "#1565c0"),
    font_family="sans-serif",
    title_font_size=14,
    label_font_size=11,
    major_label_font_size=11,
)


def _static_svg(chart: pygal.graph.graph.Graph) -> str:
    """The chart as inline SVG without pygal's scripts and comments."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child, ET.Element) and isinstance(child.tag, str) else ""
            if not tag or tag.endswith("script"):
                parent.remove(child)
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ET.tostring(tree, encoding="unicode")


def _bar(title: str, labels: Sequence[str], height: int) -> pygal.Bar:
    chart = pygal.Bar(
        js=[],
        style=_STYLE,
        width=720,
        height=height,
        range=(0, 100),
        show_legend=False,
        x_label_rotation=20 if len(labels) > 4 else 0,
        value_formatter=lambda v: f"{v:.0f}%",
        print_values=True,
        explicit_size=True,
    )
    chart.title = mask(title)
    chart.x_labels = [mask(label) for label in labels]
    chart.y_title = "pass rate (%)"
    return chart


def pass_rate_chart(rates: dict[str, float]) -> str:
    """Bars of pass rate (0..1) per category."""
    chart = _bar("Pass rate per category", list(rates), 300)
    chart.add("pass rate", [round(rate * 100, 1) for rate in rates.values()])
    return _static_svg(chart)


def stability_chart(rows: Sequence[tuple[str, float, float, float]]) -> str:
    """Bars of pass rate per fault with their 95% Wilson interval: (id, rate, low, high)."""
    chart = _bar("Pass rate over repeats (95% Wilson interval)", [r[0] for r in rows], 340)
    chart.add(
        "pass rate",
        [
            {"value": round(rate * 100, 1), "ci": {"low": low * 100, "high": high * 100}}
            for _, rate, low, high in rows
        ],
    )
    return _static_svg(chart)
