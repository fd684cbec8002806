"""The enrolment QR code, drawn on the server as inline SVG by the qrcode library's SVG path
factory: no request to anywhere, nothing for the browser to run, and no `style` attribute the
pages' CSP would block (the size comes from the stylesheet, the colour from SVG's default)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def qr_svg(text: str, *, label: str) -> SafeString:
    """`text` as an inline `<svg>` QR code with the accessible name `label`. The SVG is built
    by qrcode from `text` alone (a fixed vocabulary of path commands), and `label` is escaped
    by ElementTree, so the markup is safe to insert."""
    ET.register_namespace("", SVG_NAMESPACE)
    code = qrcode.QRCode(border=4, image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().get_image()
    for attribute in ("width", "height"):
        svg.attrib.pop(attribute, None)
    svg.set("class", "qr")
    svg.set("role", "img")
    svg.set("aria-label", label)
    for element in svg.iter():
        element.attrib.pop("style", None)
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # noqa: S308 (built above, escaped)
