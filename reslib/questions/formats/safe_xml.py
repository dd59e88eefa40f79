"""Parsing XML from uploads, which are hostile: no DTD, no entities (XXE, billion laughs), no network, bounded size.

defusedxml refuses any DOCTYPE / entity declaration before anything is expanded; only then does lxml (which the
XSD validation needs) parse the same bytes, with entity resolution and network access off as a second wall.
"""

from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.utils.translation import gettext_lazy as _
from lxml import etree

from . import FormatError

MAX_XML_BYTES = 50 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


def parse_xml(data: bytes) -> etree._Element:
    if len(data) > MAX_XML_BYTES:
        raise FormatError("question.file_too_large", _("The file is too large."))
    try:
        defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FormatError("question.xml_forbidden",
                          _("The XML file declares a DTD or entities, which are refused for safety.")) from None
    except Exception:
        raise FormatError("question.xml_invalid", _("The file is not well-formed XML.")) from None
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError:
        raise FormatError("question.xml_invalid", _("The file is not well-formed XML.")) from None
