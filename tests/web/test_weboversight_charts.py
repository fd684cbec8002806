"""The charts' SVG: what a strict Content Security Policy would block is never left in it, and
anything this module cannot make safe is refused rather than served."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from web.charts import ChartError, Series, bar_chart, svg_without_styles

SVG_NS = "http://www.w3.org/2000/svg"


def test_styles_become_attributes_and_the_stylesheet_and_metadata_go():
    raw = (
        f'<svg xmlns="{SVG_NS}"><metadata>made 2026-11-30</metadata>'
        "<defs><style>*{stroke-linejoin: round}</style></defs>"
        '<path d="M 0.123456 1.987654 L 2 3" style="fill: #fff; stroke-width: 0.8"/>'
        "<text style=\"font-size: 10px; font-family: 'DejaVu Sans'\">Travel</text></svg>"
    ).encode()

    svg = svg_without_styles(raw, title="By category, in EUR").decode()

    root = ET.fromstring(svg)  # noqa: S314 - our own output
    path = root.find(f"{{{SVG_NS}}}path")
    assert "style" not in svg
    assert "metadata" not in svg
    assert (path.get("fill"), path.get("stroke-width")) == ("#fff", "0.8")
    assert path.get("d") == "M 0.12 1.98 L 2 3"
    assert root.find(f"{{{SVG_NS}}}title").text == "By category, in EUR"
    assert root.get("font-family").endswith("sans-serif")


@pytest.mark.parametrize(
    "element",
    [
        '<path style="filter: url(#glow)"/>',
        '<path style="background-image: url(https://example.org/x.png)"/>',
        "<script>alert(1)</script>",
    ],
)
def test_what_cannot_be_made_safe_is_refused(element):
    raw = f'<svg xmlns="{SVG_NS}">{element}</svg>'.encode()

    with pytest.raises(ChartError):
        svg_without_styles(raw, title="t")


def test_a_chart_names_nothing_but_svg_and_keeps_its_text_as_text():
    svg = bar_chart(
        title="By source, in EUR",
        categories=["A very long source name that goes on and on", "Grant"],
        series=[Series("Received", [Decimal("10000.00"), Decimal("5")])],
        unit="EUR",
    ).decode()

    assert "style" not in svg.lower()
    assert ">A very long source name tha…</text>" in svg  # shortened, still text
    assert "on and on" not in svg
    assert ">Grant</text>" in svg


def test_svg_stays_the_default_namespace_whatever_prefix_another_module_registered(monkeypatch):
    import xml.etree.ElementTree as tree

    monkeypatch.setitem(tree._namespace_map, SVG_NS, "svg")

    svg = bar_chart(
        title="t", categories=["Food"], series=[Series("Paid", [Decimal(1)])], unit="EUR"
    )

    assert svg.decode().splitlines()[1].startswith("<svg ")
    assert b"<svg:" not in svg
    assert ET.fromstring(svg).tag == f"{{{SVG_NS}}}svg"  # noqa: S314 - our own output
