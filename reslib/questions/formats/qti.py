"""IMS QTI 2.1 and 3.0 content packages to and from `QuestionData`.

`serialize(items, fmt)` writes a zip content package: `imsmanifest.xml` and one assessment item per question
(`items/Q1.xml`, …) in the chosen binding (see `qti_items` for how each type is written). The manifest's resource of
each item carries IEEE LOM metadata (`http://ltsc.ieee.org/xsd/LOM`, the vocabulary every QTI tool reads):

- difficulty: `educational/difficulty` (LOMv1.0): basic → easy, intermediate → medium, advanced → difficult;
  read back: very easy/easy → basic, medium → intermediate, difficult/very difficult → advanced;
- knowledge points: one `general/keyword` per point (read back from LOM, and from IMS MD 1.2 `keyword/langstring`
  that older QTI 2.1 packages use).

`parse(data, fmt)` reads a content package, or a single bare assessment item XML file. The binding is taken from
each item's namespace (a QTI 3.0 item in a file chosen as "QTI 2.1" is still read as 3.0). A QTI 2.1 item is validated
against the official IMS QTI 2.1.2 XSD (vendored under `data/qti21`, compiled offline). The official QTI 3.0 XSD could
not be vendored (`data/qti30/README.md`): a QTI 3.0 item only gets the basic structural checks of `structure_error`
(not a schema validation); once the XSD is put at `SCHEMAS["3.0"]` it is used instead. An item that fails gets
`question.qti_invalid` with the first complaint and is not imported; a valid item of a kind ResLib has no type for
gets `question.kind_unsupported`; the good items are still returned. The manifest is read, not schema-validated.

Hostile packages are refused as a whole: a member path that is absolute or climbs out (`..`, zip slip), more than
`MAX_MEMBERS` members, a member over `MAX_MEMBER_BYTES` or more than `MAX_READ_BYTES` read in all (zip bomb, counted
on the bytes actually inflated, not on what the archive claims), and any XML with a DTD or entity declaration (XXE,
billion laughs) — every XML is read through `safe_xml.parse_xml`.
"""

from __future__ import annotations

import io
import posixpath
import re
import threading
import uuid
import zipfile
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from django.utils.translation import gettext, gettext_lazy as _
from lxml import etree

from ..interchange import QuestionData
from . import FormatError, ParsedItem, check_count, check_size, checked, refused, unsupported_kind
from .qti_items import DIALECTS, QTI30, ROOTS, Dialect, Unsupported, read_item, write_item
from .safe_xml import parse_xml

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_READ_BYTES = 200 * 1024 * 1024
LOM = "http://ltsc.ieee.org/xsd/LOM"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMAS = {"2.1": DATA / "qti21" / "imsqti_v2p1p2.xsd", "3.0": DATA / "qti30" / "imsqti_asiv3p0p1_v1p0.xsd"}
TO_LOM = {"basic": "easy", "intermediate": "medium", "advanced": "difficult"}
FROM_LOM = {"very easy": "basic", "easy": "basic", "medium": "intermediate", "difficult": "advanced",
            "very difficult": "advanced"}

# lxml's XMLSchema keeps the errors of its last validation on the schema object, shared by every thread.
_validation_lock = threading.Lock()


@lru_cache(maxsize=None)
def schema(version: str) -> etree.XMLSchema | None:
    """The official XSD of a QTI version, compiled from the vendored files with network access off; None when the
    XSD is not vendored (QTI 3.0, see `data/qti30/README.md`)."""
    path = SCHEMAS[version]
    if not path.is_file():
        return None
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def schema_error(root, version: str) -> str | None:
    """The first complaint of the version's XSD about an item, None when it validates. Without a vendored XSD
    (QTI 3.0) the item only gets the structural checks of `structure_error`."""
    xsd = schema(version)
    if xsd is None:
        return structure_error(root)
    with _validation_lock:
        if xsd.validate(root):
            return None
        error = xsd.error_log[0]
        return gettext("line %(line)s") % {"line": error.line} + ": " + error.message


# What `structure_error` checks of a QTI 3.0 item. It is NOT the official XSD, only a stand-in for its most basic
# rules while the XSD is not vendored: required attributes, identifier syntax, cardinality / base-type values,
# interactions bound to a declared response, no element with a non-QTI-3 (camelCase) name in the QTI namespace.
_NCNAME = re.compile(r"^[^\W\d][\w.\-]*$")
_REQUIRED = {
    "qti-assessment-item": ("identifier", "title", "time-dependent"),
    "qti-response-declaration": ("identifier", "cardinality"),
    "qti-outcome-declaration": ("identifier", "cardinality"),
    "qti-simple-choice": ("identifier",),
    "qti-simple-associable-choice": ("identifier", "match-max"),
    "qti-text-entry-interaction": ("response-identifier",),
    "qti-extended-text-interaction": ("response-identifier",),
    "qti-choice-interaction": ("response-identifier",),
    "qti-match-interaction": ("response-identifier",),
    "qti-order-interaction": ("response-identifier",),
    "qti-modal-feedback": ("outcome-identifier", "identifier", "show-hide"),
    "qti-map-entry": ("map-key", "mapped-value"),
}
_VALUES = {
    "cardinality": {"single", "multiple", "ordered", "record"},
    "base-type": {"boolean", "directedPair", "duration", "file", "float", "identifier", "integer", "intOrIdentifier",
                  "pair", "point", "string", "uri"},
    "time-dependent": {"true", "false", "1", "0"},
    "adaptive": {"true", "false", "1", "0"},
    "show-hide": {"show", "hide"},
}
_IDENTIFIERS = ("identifier", "response-identifier", "outcome-identifier")


def structure_error(root) -> str | None:
    """The first breach of the basic QTI 3.0 rules listed above, None when there is none."""
    namespace = QTI30.namespace
    declared = {e.get("identifier") for e in root if _local(e) == "qti-response-declaration"}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.namespace != namespace:
            continue
        name, where = qname.localname, gettext("line %(line)s") % {"line": element.sourceline} + ": "
        if name != name.lower():
            return where + gettext("%(element)s is not a QTI 3.0 element") % {"element": name}
        for attribute in _REQUIRED.get(name, ()):
            if element.get(attribute) is None:
                return where + gettext("%(element)s lacks the required attribute %(attribute)s") % {
                    "element": name, "attribute": attribute}
        for attribute, allowed in _VALUES.items():
            value = element.get(attribute)
            if value is not None and value not in allowed:
                return where + gettext("attribute %(attribute)s of %(element)s has the invalid value %(value)s") % {
                    "attribute": attribute, "element": name, "value": value}
        for attribute in _IDENTIFIERS:
            value = element.get(attribute)
            if value is not None and element is not root and not _NCNAME.match(value):
                return where + gettext("attribute %(attribute)s of %(element)s is not a valid identifier: "
                                       "%(value)s") % {"attribute": attribute, "element": name, "value": value}
        if name.endswith("-interaction") and element.get("response-identifier") not in declared:
            return where + gettext("%(element)s refers to the undeclared response %(value)s") % {
                "element": name, "value": element.get("response-identifier")}
    return None


# ---------------------------------------------------------------------------------------------------------- writing

def _lom(resource, cp: str, item: QuestionData) -> None:
    if not item.knowledge_points and not item.difficulty:
        return
    lom = etree.SubElement(etree.SubElement(resource, f"{{{cp}}}metadata"), f"{{{LOM}}}lom", nsmap={None: LOM})
    if item.knowledge_points:
        general = etree.SubElement(lom, f"{{{LOM}}}general")
        for point in item.knowledge_points:
            keyword = etree.SubElement(etree.SubElement(general, f"{{{LOM}}}keyword"), f"{{{LOM}}}string",
                                       language="zh-CN")
            keyword.text = point
    if item.difficulty:
        difficulty = etree.SubElement(etree.SubElement(lom, f"{{{LOM}}}educational"), f"{{{LOM}}}difficulty")
        etree.SubElement(difficulty, f"{{{LOM}}}source").text = "LOMv1.0"
        etree.SubElement(difficulty, f"{{{LOM}}}value").text = TO_LOM[item.difficulty]


def _manifest(items: list[QuestionData], dialect: Dialect) -> bytes:
    cp = dialect.cp_namespace
    manifest = etree.Element(f"{{{cp}}}manifest", nsmap={None: cp}, identifier=f"MANIFEST-{uuid.uuid4().hex}")
    metadata = etree.SubElement(manifest, f"{{{cp}}}metadata")
    etree.SubElement(metadata, f"{{{cp}}}schema").text = ("QTIv2.1 Package" if dialect.version == "2.1"
                                                          else "QTI Package")
    etree.SubElement(metadata, f"{{{cp}}}schemaversion").text = "1.0.0" if dialect.version == "2.1" else "3.0.0"
    etree.SubElement(manifest, f"{{{cp}}}organizations")
    resources = etree.SubElement(manifest, f"{{{cp}}}resources")
    for number, item in enumerate(items, 1):
        href = f"items/Q{number}.xml"
        resource = etree.SubElement(resources, f"{{{cp}}}resource", identifier=f"RES-Q{number}",
                                    type=dialect.item_type, href=href)
        _lom(resource, cp, item)
        etree.SubElement(resource, f"{{{cp}}}file", href=href)
    return etree.tostring(manifest, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def serialize(items: list[QuestionData], fmt: str) -> bytes:
    dialect = DIALECTS[fmt]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", _manifest(items, dialect))
        for number, item in enumerate(items, 1):
            archive.writestr(f"items/Q{number}.xml", write_item(item, f"Q{number}", dialect))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------- reading

def _unsafe(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\x00" in name or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in name.replace("\\", "/").split("/")


class _Package:
    """The members of a zip package, read lazily with every byte inflated counted against the limits."""

    def __init__(self, data: bytes):
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
            raise FormatError("question.zip_invalid", _("The file is not a readable zip package.")) from None
        if len(infos) > MAX_MEMBERS:
            raise FormatError("question.zip_too_large",
                              _("The package holds more than %(max)d files.") % {"max": MAX_MEMBERS})
        if any(_unsafe(info.filename) for info in infos):
            raise FormatError("question.zip_unsafe",
                              _("The package holds a file whose path leaves the package; it is refused for safety."))
        self.names = {info.filename: info for info in infos if not info.is_dir()}
        self.read_bytes = 0

    def read(self, name: str) -> bytes:
        try:
            with self.archive.open(self.names[name]) as member:
                content = member.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError):
            raise FormatError("question.zip_invalid", _("The file is not a readable zip package.")) from None
        self.read_bytes += len(content)
        if len(content) > MAX_MEMBER_BYTES or self.read_bytes > MAX_READ_BYTES:
            raise FormatError("question.zip_too_large",
                              _("The package unpacks to more data than allowed; it is refused for safety."))
        return content


def _location(number: int, name: str) -> str:
    return gettext("Question %(number)d (%(file)s)") % {"number": number, "file": name}


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _metadata(resource) -> tuple[list[str], str]:
    """(knowledge points, difficulty) from a manifest resource's LOM (or IMS MD 1.2) metadata."""
    points, difficulty = [], ""
    for element in resource.iter():
        name = _local(element)
        if name == "keyword":
            texts = [" ".join(e.itertext()).strip() for e in element if _local(e) in ("string", "langstring")]
            points += [t for t in texts or [" ".join(element.itertext()).strip()] if t]
        elif name == "difficulty":
            values = [e for e in element if _local(e) == "value"]
            if values:
                difficulty = FROM_LOM.get(" ".join("".join(values[0].itertext()).split()).casefold(), "")
    return list(dict.fromkeys(points)), difficulty


def _resources(package: _Package) -> tuple[list[tuple[str, object]], bool]:
    """The items of the package as (member name, manifest resource), in the manifest's order, and whether a manifest
    listed them. Without a manifest every XML file is a candidate (files that are not items are skipped)."""
    manifests = sorted((n for n in package.names if posixpath.basename(n) == "imsmanifest.xml"),
                       key=lambda n: n.count("/"))
    if not manifests:
        return [(name, None) for name in sorted(package.names) if name.lower().endswith(".xml")], False
    base = posixpath.dirname(manifests[0])
    found = []
    for resource in parse_xml(package.read(manifests[0])).iter():
        if _local(resource) != "resource" or "imsqti_item" not in (resource.get("type") or ""):
            continue
        href = unquote((resource.get("href") or "").split("#")[0].split("?")[0])
        if not href:
            files = [f.get("href") for f in resource if _local(f) == "file" and f.get("href")]
            href = unquote(files[0]) if files else ""
        found.append((posixpath.normpath(posixpath.join(base, href)) if href else "", resource))
    return found, True


def _item(location: str, content: bytes, resource, listed: bool) -> ParsedItem | None:
    """The parsed item of one XML file. An unlisted file (package without manifest) that is not a QTI item is no
    item at all: None."""
    try:
        root = parse_xml(content)
    except FormatError as error:
        if error.code == "question.xml_forbidden":
            raise
        return refused(location, "file", "question.qti_invalid", error.message) if listed else None
    dialect = ROOTS.get(root.tag)
    if dialect is None:
        return refused(location, "file", "question.qti_invalid",
                       _("The file is not an IMS QTI 2.1 or 3.0 assessment item.")) if listed else None
    error = schema_error(root, dialect.version)
    if error:
        return refused(location, "file", "question.qti_invalid",
                       _("The item does not follow the IMS QTI %(version)s schema: %(error)s")
                       % {"version": dialect.version, "error": error})
    try:
        data = read_item(root, dialect)
    except Unsupported as kind:
        return unsupported_kind(location, str(kind))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        # Only reachable for what the structural check of a QTI 3.0 item lets through that the XSD would not.
        return refused(location, "file", "question.qti_invalid",
                       _("The item does not follow the IMS QTI %(version)s schema: %(error)s")
                       % {"version": dialect.version, "error": gettext("its content cannot be read")})
    if resource is not None:
        data.knowledge_points, data.difficulty = _metadata(resource)
    return checked(location, data)


def parse(data: bytes, fmt: str) -> list[ParsedItem]:
    check_size(data)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return [_item(_location(1, "XML"), data, None, listed=True)]
    package = _Package(data)
    resources, listed = _resources(package)
    items = []
    for name, resource in resources:
        location = _location(len(items) + 1, name or "?")
        if name not in package.names:
            items.append(refused(location, "file", "question.qti_missing_file",
                                 _("The package lists an item file it does not contain.")))
        else:
            item = _item(location, package.read(name), resource, listed)
            if item is not None:
                items.append(item)
        check_count(len(items))
    return items
