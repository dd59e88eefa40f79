"""QR codes for resource pages: scan with a phone to open the resource (segno, pure Python, no network).

qr_svg(url) returns an inline SVG that scales with CSS (viewBox, no fixed size). Use it in a template with
`{{ qr|safe }}` — it is built from segno's output only, and the URL is never echoed into the markup.
"""

import io

import segno
from django.utils.translation import gettext as _

QUIET_ZONE = 4  # modules of white border the QR specification requires around the symbol


def qr_matrix(url: str):
    """The QR symbol for url (error correction M, boosted when it fits): rows of 0/1 modules, no border."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, title: str | None = None) -> str:
    """An SVG QR code for `url`, scalable (viewBox in modules, quiet zone included), black on white."""
    symbol = qr_matrix(url)
    buffer = io.BytesIO()
    symbol.save(
        buffer,
        kind="svg",
        scale=1,
        border=QUIET_ZONE,
        xmldecl=False,
        svgns=True,
        omitsize=True,  # viewBox only: the page decides the size
        dark="#000",
        light="#fff",
        title=title if title is not None else _("Scan to open this resource"),
        svgclass="qr-code",
        lineclass=None,
        nl=False,
    )
    return buffer.getvalue().decode("utf-8")
