"""Bar charts drawn on the server, as SVG a strict Content Security Policy lets through.

Matplotlib (Agg's SVG backend, no pyplot, no global state touched per request) draws them;
`svg_without_styles` then rewrites its output so that nothing in it needs a style: the
`<style>` element and every `style="..."` attribute (both blocked by `style-src 'self'` when
the image is opened on its own) become SVG presentation attributes, which no policy governs.
Text stays text (`svg.fonttype: none`) in the system's sans-serif: no font is embedded, and
none is ever fetched. The metadata block (RDF, a creation date) is dropped, and the image
gets a `<title>`, so it is named when opened by itself.

Figures arrive as Decimal and are drawn as floats: a bar's length is not money, and every
amount the page shows comes from the table beside the chart, never from the drawing.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
# The CSS properties matplotlib writes, all of which SVG also takes as attributes.
PRESENTATION = frozenset(
    {
        "clip-path",
        "fill",
        "fill-opacity",
        "font-size",
        "font-style",
        "font-weight",
        "opacity",
        "stroke",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-opacity",
        "stroke-width",
        "text-anchor",
    }
)
# One colour per series, told apart without colour too (the hatching), dark enough on white.
COLOURS = ("#0b4f8a", "#c05a00", "#2e7d32", "#6a1b9a")
HATCHES = ("", "//", "\\\\", "--")
_SETTINGS_LOCK = threading.Lock()
_COORDINATE = re.compile(r"(\d\.\d{2})\d+")
MAX_LABEL = 28  # characters of a bar's label; the table beside the chart has the whole text


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal]


class ChartError(ValueError):
    """matplotlib wrote something this module does not know how to make CSP-safe."""


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str,
    horizontal: bool = True,
) -> bytes:
    """A grouped bar chart as SVG bytes (UTF-8): one group of bars per category, one bar per
    series, amounts in `unit` (a currency code) on the value axis. Raises ChartError if the
    output cannot be made free of styles."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    labels = [_shorten(text) for text in categories]
    rows = max(1, len(labels))
    height = 1.2 + 0.32 * rows * max(1, len(series)) if horizontal else 3.6
    figure = Figure(figsize=(7.5, min(height, 14)), dpi=72)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    positions = list(range(len(labels)))
    for index, one in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width
        places = [position + offset for position in positions]
        values = [float(value) for value in one.values]
        draw = axes.barh if horizontal else axes.bar
        draw(
            places,
            values,
            width,
            label=one.label,
            color=COLOURS[index % len(COLOURS)],
            hatch=HATCHES[index % len(HATCHES)],
            edgecolor="#ffffff",
            linewidth=0.5,
        )
    amounts = FuncFormatter(lambda value, _position: f"{value:,.0f}".replace(",", " "))
    if horizontal:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        axes.xaxis.set_major_formatter(amounts)
        axes.set_xlabel(unit)
        axes.grid(axis="x", color="#d0d0d0", linewidth=0.6)
    else:
        axes.set_xticks(positions, labels, rotation=45 if len(labels) > 6 else 0, ha="right")
        axes.yaxis.set_major_formatter(amounts)
        axes.set_ylabel(unit)
        axes.grid(axis="y", color="#d0d0d0", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="best", frameon=False, fontsize=9)
    figure.tight_layout()
    out = io.BytesIO()
    with _svg_settings():
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return svg_without_styles(out.getvalue(), title=title)


def _shorten(text: str) -> str:
    """A label as typed, cut to MAX_LABEL characters; `$` escaped so matplotlib draws it as
    text, never as a formula (mathtext), whatever a source's name holds."""
    text = text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"
    return text.replace("$", r"\$")


@contextmanager
def _svg_settings() -> Iterator[None]:
    """Text as text, and ids that are the same for the same drawing. matplotlib reads these at
    save time from its global settings: they are set around the save only, under a lock, so
    concurrent requests in threads never see each other's."""
    import matplotlib

    with _SETTINGS_LOCK:
        saved = {key: matplotlib.rcParams[key] for key in ("svg.fonttype", "svg.hashsalt")}
        matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "safe-passage"})
        try:
            yield
        finally:
            matplotlib.rcParams.update(saved)


def svg_without_styles(svg: bytes, *, title: str) -> bytes:
    """The SVG with no `<style>`, no `style` attribute, no metadata and no DOCTYPE, its styles
    moved into presentation attributes, and `title` as its `<title>`. Raises ChartError for a
    style property with no attribute of the same name, or any `<script>`."""
    root = ET.fromstring(svg)  # noqa: S314 - our own drawing, not input
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}style", f"{{{SVG}}}metadata"):
                parent.remove(child)
    for defs in root.findall(f"{{{SVG}}}defs"):
        if len(defs) == 0:
            root.remove(defs)
    for element in root.iter():
        element.text = element.text.strip() or None if element.text else None
        element.tail = None  # indentation only: matplotlib writes text inside <text> alone
        for name in ("d", "x", "y", "transform", "points"):
            if name in element.attrib:  # a hundredth of a point is finer than any screen
                element.set(name, _COORDINATE.sub(r"\1", " ".join(element.get(name).split())))
        if element.tag == f"{{{SVG}}}script":
            raise ChartError("a chart never holds a script")
        declarations = element.attrib.pop("style", "")
        for declaration in filter(None, (part.strip() for part in declarations.split(";"))):
            name, _colon, value = (piece.strip() for piece in declaration.partition(":"))
            if name == "font-family":
                continue  # one family for the whole image, set on the root below
            if name not in PRESENTATION:
                raise ChartError(f"no SVG attribute for the style property {name!r}")
            element.set(name, value)
    # What matplotlib's stylesheet said for every element, now inherited from the root.
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    root.set("font-family", FONT_FAMILY)
    root.set("role", "img")
    heading = ET.Element(f"{{{SVG}}}title")
    heading.text = title
    root.insert(0, heading)
    return ET.tostring(_unprefixed(root), encoding="utf-8", xml_declaration=True)


def _unprefixed(root: ET.Element) -> ET.Element:
    """The tree with SVG as the default namespace and `xlink:` as its prefix, written out by
    hand: ElementTree's prefixes come from a registry global to the process, which other code
    (the QR codes' library) changes, and `<svg:svg>` is not what every reader expects."""
    for element in root.iter():
        element.tag = element.tag.removeprefix(f"{{{SVG}}}")
        for name in [key for key in element.attrib if key.startswith(f"{{{XLINK}}}")]:
            element.set(f"xlink:{name.removeprefix(f'{{{XLINK}}}')}", element.attrib.pop(name))
    root.set("xmlns", SVG)
    root.set("xmlns:xlink", XLINK)
    return root
