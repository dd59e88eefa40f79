"""Machine pre-review (机审) of a submitted version, before any person sees it.

run_prereview(version) collects, as JSON-ready hits for the reviewer:
* sensitive words (the operator's list, reslib.review.wordlist) in the metadata and in the text extractable from the
  version's files — PDF (pypdf), Word / PowerPoint / Excel (the XML inside the zip), SRT / WebVTT subtitles and plain
  text; bounded: at most RESLIB_PREREVIEW_MAX_TEXT_BYTES characters of text per version (default 4 MiB), files larger
  than RESLIB_PREREVIEW_MAX_FILE_BYTES (default 200 MiB) are not opened, bytes are streamed from storage;
* duplicates: other resources holding a file with the same sha256, in the same library and platform-wide;
* the negative list (资源负面清单): file hashes, keywords (in metadata and file text), source domains (the external
  link and any address or domain in the source field);
* the machine findings already on version.check_findings (technical specification, virus scan).

Each hit: {"kind": "sensitive_word"|"negative_list"|"duplicate"|"spec"|"virus", "level": "block"|"flag",
"field": "title"|"description"|"keywords"|"authors"|"source"|... or the file name, "match", "context" (±20 characters
around the match), "category"} plus "code" (stable) and, for duplicates, "resource_id". A "block" hit returns the
version to its submitter; "flag" hits are shown to the reviewer.
"""

from __future__ import annotations

import html
import logging
import re
import zipfile
from urllib.parse import urlsplit

from django.conf import settings

from reslib.resources.models import ResourceVersion, VersionFile

from . import wordlist

logger = logging.getLogger(__name__)

BLOCK = wordlist.BLOCK
FLAG = wordlist.FLAG
MAX_HITS_PER_FIELD = 20
MAX_DUPLICATES = 10
TEXT_KINDS = {"text", "subtitle"}
TEXT_SUFFIXES = (".txt", ".srt", ".vtt", ".md", ".csv")
OFFICE_PARTS = {
    # docx: body, headers, footers, notes, comments
    "word/": re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$"),
    # pptx: slides and speaker notes
    "ppt/": re.compile(r"^ppt/(slides/slide\d+|notesSlides/notesSlide\d+)\.xml$"),
    # xlsx: shared strings, inline strings of sheets
    "xl/": re.compile(r"^xl/(sharedStrings|worksheets/sheet\d+)\.xml$"),
}
_BREAK_TAGS = re.compile(r"</(?:w:p|a:p|si|c|w:tr|row)>|<(?:w:br|w:tab|a:br)\b[^>]*/?>")
_TAGS = re.compile(r"<[^>]+>")
_SUBTITLE_NOISE = re.compile(r"^(?:\d+|WEBVTT.*|NOTE\b.*|[\d:.,]+\s*-->\s*[\d:.,]+.*)$")
_DOMAIN = re.compile(r"(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})", re.IGNORECASE)


def max_text_chars() -> int:
    return int(settings.RESLIB_PREREVIEW_MAX_TEXT_BYTES)


def max_file_bytes() -> int:
    return int(settings.RESLIB_PREREVIEW_MAX_FILE_BYTES)


# --- text extraction ----------------------------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > len(data) - 4:  # cut in the middle of a character at the budget's end
            return data[:exc.start].decode("utf-8", "replace")
    return data.decode("gb18030", "replace")


def _xml_text(xml: str) -> str:
    return html.unescape(_TAGS.sub("", _BREAK_TAGS.sub("\n", xml)))


def extract_office(fileobj, budget: int) -> str:
    """Text of a docx / pptx / xlsx package (the XML parts that carry text), at most `budget` characters."""
    out: list[str] = []
    used = 0
    with zipfile.ZipFile(fileobj) as zf:
        names = zf.namelist()
        wanted = [n for n in names if any(n.startswith(p) and rx.match(n) for p, rx in OFFICE_PARTS.items())]
        wanted.sort(key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)])
        for name in wanted:
            if used >= budget:
                break
            info = zf.getinfo(name)
            with zf.open(info) as member:
                # XML is several times the text it carries; read a bounded amount of it.
                raw = member.read(max(budget - used, 0) * 8 + 4096)
            text = _xml_text(raw.decode("utf-8", "replace"))[: budget - used]
            out.append(text)
            used += len(text)
    return "\n".join(out)


def extract_pdf(path, budget: int) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return ""
        except Exception:  # noqa: BLE001 - an unreadable PDF is reported by the spec checks, not here
            return ""
    out: list[str] = []
    used = 0
    for page in reader.pages:
        if used >= budget:
            break
        try:
            text = page.extract_text() or ""
        except Exception:  # noqa: BLE001 - one broken page does not stop the scan
            continue
        text = text[: budget - used]
        out.append(text)
        used += len(text)
    return "\n".join(out)


def extract_plain(fileobj, budget: int, *, subtitle: bool) -> str:
    data = fileobj.read(budget * 4 + 4)  # at most 4 bytes per character
    text = decode_text(data)[:budget]
    if subtitle:
        text = "\n".join(line for line in text.splitlines() if not _SUBTITLE_NOISE.match(line.strip()))
    return text


def _file_format(version_file: VersionFile) -> str | None:
    blob = version_file.blob
    name = version_file.original_name.lower()
    mime = (blob.mime_type or "").lower()
    if blob.kind == "pdf" or mime == "application/pdf":
        return "pdf"
    if blob.kind == "office" and ("openxmlformats" in mime or name.endswith((".docx", ".pptx", ".xlsx"))):
        return "office"
    if blob.kind == "subtitle" or name.endswith((".srt", ".vtt")):
        return "subtitle"
    if blob.kind == "text" or (blob.kind in ("", "other") and name.endswith(TEXT_SUFFIXES)):
        return "text"
    return None


def extract_file_text(version_file: VersionFile, budget: int) -> str:
    """The text of one file, at most `budget` characters; '' for formats without text or files too large."""
    from reslib.resources import storage

    fmt = _file_format(version_file)
    blob = version_file.blob
    if fmt is None or budget <= 0 or blob.size > max_file_bytes():
        return ""
    try:
        if fmt in ("text", "subtitle"):
            with storage.open_blob(blob) as fh:
                return extract_plain(fh, budget, subtitle=fmt == "subtitle")
        with storage.local_copy(blob) as path:
            if fmt == "pdf":
                return extract_pdf(path, budget)
            with open(path, "rb") as fh:
                if not zipfile.is_zipfile(fh):
                    return ""
                fh.seek(0)
                return extract_office(fh, budget)
    except Exception:  # noqa: BLE001 - a file we cannot read yields no text; the spec checks report broken files
        logger.warning("pre-review: could not extract text from %s", version_file.original_name, exc_info=True)
        return ""


# --- the scan -----------------------------------------------------------------------------------------------------

def metadata_fields(version: ResourceVersion) -> list[tuple[str, str]]:
    authors = "；".join(
        f"{a.name} {a.institution}".strip() for a in version.authors.all()
    )
    fields = [
        ("title", version.title),
        ("description", version.description),
        ("keywords", "；".join(version.keywords or [])),
        ("authors", authors),
        ("source", version.source),
        ("copyright_holder_person", version.copyright_holder_person),
        ("licence_text", version.licence_text),
        ("changelog", version.changelog),
        ("external_url", version.external_url),
    ]
    question = getattr(version, "question", None)  # a question of the bank: its body beside the metadata
    if question is not None:
        fields += [("question_options", "；".join(question.options or [])),
                   ("question_answer", "；".join(_texts(question.answer))),
                   ("question_analysis", question.analysis)]
    return [(name, value) for name, value in fields if value]


def _texts(value) -> list[str]:
    """The words in a question's answer (matches, accepted blanks, a reference answer), not its indices or flags."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for part in value for text in _texts(part)]
    return []


def _word_hits(matcher: wordlist.Matcher, field: str, text: str, *, kind: str) -> list[dict]:
    hits: dict[tuple, dict] = {}
    for match in matcher.find(text):
        key = (match.entry.word, match.entry.level)
        hit = hits.get(key)
        if hit is not None:
            hit["count"] += 1
            continue
        if len(hits) >= MAX_HITS_PER_FIELD:
            continue
        hit = {
            "kind": kind, "code": f"{kind}.{match.entry.level}", "level": match.entry.level, "field": field,
            "match": match.matched, "word": match.entry.word, "context": match.context,
            "category": match.entry.category, "count": 1,
        }
        if kind == "negative_list":  # negative-list keywords carry the operator's note as their category
            hit.update(code="negative_list.keyword", category="keyword", note=match.entry.category)
        hits[key] = hit
    return list(hits.values())


def _domain_of(value: str) -> str:
    host = urlsplit(value if "://" in value else f"http://{value}").hostname or ""
    return host.lower().rstrip(".")


def domain_matches(host: str, domain: str) -> bool:
    host, domain = host.lower().rstrip("."), domain.lower().strip().lstrip("*.").rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def _domains_in(version: ResourceVersion) -> list[tuple[str, str, str]]:
    """(field, host, the text it came from) for the external link and every address or domain in the source."""
    found = []
    if version.external_url:
        host = _domain_of(version.external_url)
        if host:
            found.append(("external_url", host, version.external_url))
    for m in _DOMAIN.finditer(version.source or ""):
        context = version.source[max(0, m.start() - wordlist.CONTEXT_CHARS):m.end() + wordlist.CONTEXT_CHARS]
        found.append(("source", m.group(1).lower(), context))
    return found


def _duplicate_hits(version: ResourceVersion, files: list[VersionFile]) -> list[dict]:
    hits = []
    blob_ids = {f.blob_id: f for f in files}
    if not blob_ids:
        return hits
    others = (
        VersionFile.objects.filter(blob_id__in=blob_ids)
        .exclude(version__resource_id=version.resource_id)
        .select_related("version__resource__library")
        .order_by("version__resource_id", "-version__number")
    )
    seen: set[tuple[int, int]] = set()
    for other in others[: MAX_DUPLICATES * 10]:
        resource = other.version.resource
        key = (other.blob_id, resource.pk)
        if key in seen:
            continue
        seen.add(key)
        same_library = resource.library_id == version.resource.library_id
        mine = blob_ids[other.blob_id]
        hits.append({
            "kind": "duplicate", "code": "duplicate.library" if same_library else "duplicate.platform",
            "level": FLAG, "field": mine.original_name, "match": other.version.title,
            "context": f"{other.original_name} · {resource.library.name}",
            "category": "library" if same_library else "platform", "resource_id": resource.pk,
            "library_id": resource.library_id, "sha256": mine.blob.sha256,
        })
        if len(hits) >= MAX_DUPLICATES:
            break
    return hits


def _finding_hits(version: ResourceVersion) -> list[dict]:
    try:
        from reslib.resources.spec import finding_message
    except ImportError:  # pragma: no cover
        def finding_message(finding):
            return finding.get("message", "")
    hits = []
    for finding in version.check_findings or []:
        code = finding.get("code", "")
        try:
            message = str(finding_message(finding))
        except Exception:  # noqa: BLE001
            message = str(finding.get("message", ""))
        hits.append({
            "kind": "virus" if code.startswith(("file.infected", "file.scan", "file.not_scanned")) else "spec",
            "code": code, "level": BLOCK if finding.get("level") == "error" else FLAG,
            "field": finding.get("file", "") or "", "match": message, "context": "", "category": "",
        })
    return hits


def run_prereview(version: ResourceVersion) -> list[dict]:
    """Every machine hit for `version`, blocking ones first. Reads only; the caller stores the result."""
    from . import moderation

    version = (
        ResourceVersion.objects.select_related("resource__library")
        .prefetch_related("authors")
        .get(pk=version.pk)
    )
    files = list(VersionFile.objects.filter(version=version).select_related("blob").order_by("role", "position"))
    words = moderation.current_matcher()
    negative = moderation.current_negative_list()
    hits: list[dict] = []

    texts: list[tuple[str, str]] = metadata_fields(version)
    budget = max_text_chars()
    for version_file in files:
        if budget <= 0:
            break
        text = extract_file_text(version_file, budget)
        budget -= len(text)
        if text:
            texts.append((version_file.original_name, text))

    for field, text in texts:
        hits.extend(_word_hits(words, field, text, kind="sensitive_word"))
        hits.extend(_word_hits(negative.keywords, field, text, kind="negative_list"))

    for version_file in files:
        entry = negative.file_hashes.get(version_file.blob.sha256)
        if entry is not None:
            hits.append({
                "kind": "negative_list", "code": "negative_list.file_hash", "level": BLOCK,
                "field": version_file.original_name, "match": version_file.blob.sha256, "context": entry["note"],
                "category": "file_hash",
            })
    for field, host, context in _domains_in(version):
        for domain, entry in negative.domains.items():
            if domain_matches(host, domain):
                hits.append({
                    "kind": "negative_list", "code": "negative_list.source_domain", "level": BLOCK, "field": field,
                    "match": host, "context": context[:200], "category": "source_domain", "note": entry["note"],
                })
                break

    hits.extend(_duplicate_hits(version, files))
    hits.extend(_finding_hits(version))
    hits.sort(key=lambda h: 0 if h["level"] == BLOCK else 1)
    return hits


def category_label(hit: dict) -> str:
    """The reader's label of a hit's category (stored as a stable code)."""
    from .moderation_models import NegativeListEntry, SensitiveWord

    code = hit.get("category", "")
    labels = {**dict(SensitiveWord.Category.choices), **dict(NegativeListEntry.Kind.choices)}
    return str(labels.get(code, code))


def has_blocking(hits: list[dict]) -> bool:
    return any(h.get("level") == BLOCK for h in hits)

