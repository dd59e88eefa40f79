"""What a file really is: type from its bytes (never its name), technical facts, and whether it is allowed.

`inspect_file(path, original_name)` reads the file's first bytes and its structure (ZIP directory, OLE2 directory,
EBML header, ftyp box ...) to decide a MIME type and a kind, then probes it: audio and video through PyAV
(container, codecs, duration, resolution, frame rate, bitrates), images through Pillow (dimensions, colour depth,
with a decompression-bomb guard), PDFs through pypdf (pages, encryption), office files by their package structure.
A file that cannot be parsed gets ``probe = {"error": "..."}``; inspection never raises for bad input.

`allowed_findings(...)` compares what the file is with the resource type's allowlist and with its name: executables
and scripts are refused, more firmly when they pretend to be documents.

Findings are plain JSON (they are stored on the version): ``{"level", "code", "params", "file", "message"}`` where
``message`` is the English text for API clients and logs; pages show ``finding_message(finding)``, which renders the
code and params in the reader's language.
"""

from __future__ import annotations

import codecs
import logging
import re
import struct
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path, PurePosixPath

from django.utils import translation
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
TEXT_SNIFF_BYTES = 256 * 1024
MAX_ZIP_ENTRIES = 100_000


class Kind:
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    PDF = "pdf"
    OFFICE = "office"
    TEXT = "text"
    SUBTITLE = "subtitle"
    ARCHIVE = "archive"
    EXECUTABLE = "executable"
    OTHER = "other"


KIND_LABELS = {
    Kind.VIDEO: _("video"),
    Kind.AUDIO: _("audio"),
    Kind.IMAGE: _("image"),
    Kind.PDF: _("PDF document"),
    Kind.OFFICE: _("office document"),
    Kind.TEXT: _("text"),
    Kind.SUBTITLE: _("subtitles"),
    Kind.ARCHIVE: _("archive"),
    Kind.EXECUTABLE: _("program or script"),
    Kind.OTHER: _("unknown type"),
}

ROLE_LABELS = {"main": _("main file"), "attachment": _("attachment")}

OOXML_MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OLE_MIME = {"doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint"}
ODF_MIME = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
OFFICE_FORMAT_BY_MIME = {mime: fmt for table in (OOXML_MIME, OLE_MIME, ODF_MIME) for fmt, mime in table.items()}
OFFICE_FORMAT_BY_MIME["application/rtf"] = "rtf"
PRESENTATION_FORMATS = {"pptx", "ppt", "odp"}

# Short container names by MIME type (what the specification profile talks about).
CONTAINER_BY_MIME = {
    "video/mp4": "mp4", "audio/mp4": "m4a", "video/quicktime": "mov", "video/3gpp": "3gp",
    "video/webm": "webm", "audio/webm": "webm", "video/x-matroska": "mkv", "audio/x-matroska": "mka",
    "video/x-msvideo": "avi", "video/x-flv": "flv", "video/mp2t": "mpegts", "video/mpeg": "mpeg",
    "video/x-ms-asf": "asf", "audio/x-ms-wma": "asf", "video/ogg": "ogg", "audio/ogg": "ogg",
    "audio/mpeg": "mp3", "audio/wav": "wav", "audio/flac": "flac", "audio/aac": "aac",
}

# Decoder names as FFmpeg reports them → the codec's common name.
CODEC_ALIASES = {
    "mp3float": "mp3", "mp3": "mp3", "aac_fixed": "aac", "aac": "aac", "libopus": "opus", "opus": "opus",
    "libvorbis": "vorbis", "vorbis": "vorbis", "libdav1d": "av1", "libaom-av1": "av1", "av1": "av1",
    "libvpx": "vp8", "vp8": "vp8", "libvpx-vp9": "vp9", "vp9": "vp9", "h264": "h264", "libopenh264": "h264",
    "hevc": "hevc", "mpeg4": "mpeg4", "mpeg2video": "mpeg2video", "mpeg1video": "mpeg1video", "flac": "flac",
}

EXECUTABLE_EXTENSIONS = {
    "exe", "dll", "com", "scr", "msi", "msp", "bat", "cmd", "ps1", "psm1", "psd1", "vbs", "vbe", "js", "jse",
    "wsf", "wsh", "hta", "sh", "bash", "zsh", "csh", "ksh", "py", "pyw", "pl", "rb", "php", "jar", "apk", "app",
    "lnk", "pif", "cpl", "reg", "msc", "gadget", "run", "deb", "rpm", "dmg", "pkg", "elf", "so", "dylib", "wasm",
    "appimage", "command", "desktop", "scpt", "inf", "ocx", "sys", "drv",
}

# What content each well-known extension promises. An extension not listed promises nothing.
EXTENSION_MIMES: dict[str, set[str]] = {
    "pdf": {"application/pdf"},
    "doc": {OLE_MIME["doc"]}, "xls": {OLE_MIME["xls"]}, "ppt": {OLE_MIME["ppt"]}, "pps": {OLE_MIME["ppt"]},
    "docx": {OOXML_MIME["docx"]}, "xlsx": {OOXML_MIME["xlsx"]}, "pptx": {OOXML_MIME["pptx"]},
    "ppsx": {OOXML_MIME["pptx"]}, "docm": {OOXML_MIME["docx"]}, "xlsm": {OOXML_MIME["xlsx"]},
    "pptm": {OOXML_MIME["pptx"]},
    "odt": {ODF_MIME["odt"]}, "ods": {ODF_MIME["ods"]}, "odp": {ODF_MIME["odp"]}, "rtf": {"application/rtf"},
    "txt": {"text/plain", "text/csv", "application/json", "text/xml", "application/x-subrip", "text/vtt"},
    "md": {"text/plain"}, "csv": {"text/plain", "text/csv"}, "json": {"application/json", "text/plain"},
    "xml": {"text/xml", "image/svg+xml"},
    "srt": {"application/x-subrip"}, "vtt": {"text/vtt"}, "html": {"text/html"}, "htm": {"text/html"},
    "svg": {"image/svg+xml"}, "png": {"image/png"}, "jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"},
    "gif": {"image/gif"}, "webp": {"image/webp"}, "bmp": {"image/bmp"}, "tif": {"image/tiff"},
    "tiff": {"image/tiff"}, "heic": {"image/heic"}, "avif": {"image/avif"},
    "mp4": {"video/mp4", "audio/mp4", "video/quicktime"}, "m4v": {"video/mp4", "video/quicktime"},
    "mov": {"video/quicktime", "video/mp4"}, "3gp": {"video/3gpp", "video/mp4"},
    "webm": {"video/webm", "audio/webm"}, "mkv": {"video/x-matroska", "video/webm"},
    "mka": {"audio/x-matroska", "audio/webm"}, "avi": {"video/x-msvideo"}, "flv": {"video/x-flv"},
    "wmv": {"video/x-ms-asf"}, "asf": {"video/x-ms-asf", "audio/x-ms-wma"}, "wma": {"audio/x-ms-wma"},
    "ts": {"video/mp2t"}, "mts": {"video/mp2t"}, "m2ts": {"video/mp2t"}, "mpg": {"video/mpeg"},
    "mpeg": {"video/mpeg"}, "ogv": {"video/ogg"},
    "mp3": {"audio/mpeg"}, "wav": {"audio/wav"}, "m4a": {"audio/mp4", "video/mp4"}, "aac": {"audio/aac"},
    "ogg": {"audio/ogg", "video/ogg"}, "oga": {"audio/ogg"}, "opus": {"audio/ogg"}, "flac": {"audio/flac"},
    "zip": {"application/zip"}, "rar": {"application/vnd.rar"}, "7z": {"application/x-7z-compressed"},
    "gz": {"application/gzip"}, "tgz": {"application/gzip"}, "tar": {"application/x-tar"},
}


# ---------------------------------------------------------------------------------------------------------------
# Findings: stored as code + params, rendered in the reader's language.
# ---------------------------------------------------------------------------------------------------------------

FINDING_TEMPLATES: dict[str, object] = {}


def register_messages(templates: dict) -> None:
    """Let another module (spec.py) add its finding codes to the renderer."""
    FINDING_TEMPLATES.update(templates)


register_messages({
    "file.disguised_executable": _(
        "“%(file)s” is a program or script (%(format)s) disguised as a document; it is refused."),
    "file.executable": _("Programs and scripts (%(extension)s) are not accepted; pack teaching software in an "
                         "archive (ZIP) with instructions."),
    "file.extension_mismatch": _(
        "The name of “%(file)s” says .%(extension)s but its content is %(detected)s; rename or convert the file."),
    "file.type_not_allowed": _(
        "A “%(resource_type)s” resource does not accept %(detected)s as its %(role)s; accepted: %(accepted)s."),
    "file.unsafe_svg": _("The SVG image “%(file)s” contains scripts or event handlers; remove them or export a "
                         "PNG instead."),
    "file.office_macros": _("“%(file)s” contains macros; they will not run for learners and may be flagged by "
                            "antivirus software."),
    "file.html5_missing_index": _("The HTML5 package “%(file)s” has no index.html at its top level."),
})


def _render_param(key: str, value):
    from .models import ResourceVersion

    if key in ("detected", "kind") and isinstance(value, str) and value in KIND_LABELS:
        return KIND_LABELS[value]
    if key == "accepted" and isinstance(value, list):
        return "、".join(str(KIND_LABELS.get(v, v)) for v in value) if translation.get_language() == "zh-hans" \
            else ", ".join(str(KIND_LABELS.get(v, v)) for v in value)
    if key == "resource_type":
        try:
            return ResourceVersion.Type(value).label
        except ValueError:
            return value
    if key == "role":
        return ROLE_LABELS.get(value, value)
    return value


def finding_message(finding: dict) -> str:
    """The text of a finding in the active language, from its code and params (falls back to the stored text)."""
    template = FINDING_TEMPLATES.get(finding.get("code", ""))
    if template is None:
        return str(finding.get("message", finding.get("code", "")))
    params = {"file": finding.get("file", "")}
    params.update({k: _render_param(k, v) for k, v in (finding.get("params") or {}).items()})
    try:
        return str(template) % {k: str(v) for k, v in params.items()}
    except (KeyError, ValueError, TypeError):
        logger.warning("finding %s: params %r do not fit its message", finding.get("code"), params)
        return str(finding.get("message") or template)


def make_finding(level: str, code: str, file: str = "", **params) -> dict:
    finding = {"level": level, "code": code, "file": file, "params": params}
    with translation.override("en"):
        finding["message"] = finding_message(finding)
    return finding


# ---------------------------------------------------------------------------------------------------------------
# Type detection
# ---------------------------------------------------------------------------------------------------------------

def extension_of(name: str) -> str:
    suffix = PurePosixPath((name or "").replace("\\", "/")).suffix
    return suffix[1:].lower() if suffix else ""


def _result(mime: str, kind: str, **probe) -> dict:
    return {"mime_type": mime, "kind": kind, "probe": probe}


def _detect_ftyp(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp" or not 12 <= struct.unpack(">I", head[:4])[0] <= 4096:
        return None
    brand = head[8:12].decode("latin-1")
    box_size = struct.unpack(">I", head[:4])[0]
    compatible = [head[i:i + 4].decode("latin-1") for i in range(16, min(box_size, len(head), 256), 4)]
    brands = {brand, *compatible}
    if brand in ("M4A ", "M4B ", "M4P ", "F4A "):
        return "audio/mp4"
    if brand.startswith("qt"):
        return "video/quicktime"
    if brand in ("heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1") and not brands & {"isom", "mp41"}:
        return "image/heic"
    if brand in ("avif", "avis"):
        return "image/avif"
    if brand.startswith("3g"):
        return "video/3gpp"
    if brand in ("crx ", "cr3 "):
        return None
    return "video/mp4"


def _ebml_doctype(head: bytes) -> str | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    idx = head.find(b"\x42\x82", 4, 64)  # DocType element
    if idx < 0:
        return "matroska"
    size_byte = head[idx + 2]
    length = size_byte & 0x7F if size_byte & 0x80 else None
    if length is None:
        return "matroska"
    return head[idx + 3:idx + 3 + length].decode("ascii", "replace")


_MP3_BITRATE_OK = set(range(1, 15))


def _is_mpeg_audio_frame(b: bytes) -> str | None:
    """MPEG audio frame header (MP3) or ADTS (AAC) at the start of b."""
    if len(b) < 4 or b[0] != 0xFF or b[1] & 0xE0 != 0xE0:
        return None
    version = (b[1] >> 3) & 3
    layer = (b[1] >> 1) & 3
    if layer == 0:
        return "audio/aac" if b[1] & 0xF6 == 0xF0 and ((b[2] >> 2) & 0xF) < 13 else None
    if version == 1 or (b[2] >> 4) not in _MP3_BITRATE_OK or (b[2] >> 2) & 3 == 3:
        return None
    return "audio/mpeg"


def _ole_streams(path: Path, size: int) -> tuple[set[str], bytes]:
    """Names of the streams in an OLE2 compound file and the root entry's CLSID (small, bounded reader)."""
    with open(path, "rb") as fh:
        header = fh.read(512)
        sector_shift = struct.unpack("<H", header[30:32])[0]
        if sector_shift not in (9, 12):
            raise ValueError("bad OLE2 sector size")
        sector_size = 1 << sector_shift
        first_dir = struct.unpack("<I", header[48:52])[0]
        difat = list(struct.unpack("<109I", header[76:76 + 109 * 4]))
        fat_sectors = [s for s in difat if s < 0xFFFFFFFA][:64]  # 64 FAT sectors cover ≥ 32 MiB of directory chain

        def read_sector(n: int) -> bytes:
            fh.seek((n + 1) * sector_size)
            return fh.read(sector_size)

        fat: list[int] = []
        for s in fat_sectors:
            data = read_sector(s)
            fat.extend(struct.unpack(f"<{len(data) // 4}I", data[: len(data) // 4 * 4]))
        names: set[str] = set()
        clsid = b""
        sector, seen = first_dir, 0
        while sector < 0xFFFFFFFA and seen < 256:
            data = read_sector(sector)
            for off in range(0, len(data) - 127, 128):
                entry = data[off:off + 128]
                name_len = struct.unpack("<H", entry[64:66])[0]
                if 2 <= name_len <= 64:
                    name = entry[:name_len - 2].decode("utf-16-le", "replace")
                    names.add(name)
                    if entry[66] == 5:  # root storage
                        clsid = entry[80:96]
            seen += 1
            sector = fat[sector] if sector < len(fat) else 0xFFFFFFFE
    return names, clsid


MSI_CLSIDS = {bytes.fromhex("8410 0c00 0000 0000 c000 0000 0000 0046".replace(" ", "")),
              bytes.fromhex("8610 0c00 0000 0000 c000 0000 0000 0046".replace(" ", ""))}


def _inspect_ole(path: Path, size: int) -> dict:
    try:
        names, clsid = _ole_streams(path, size)
    except (ValueError, struct.error, OSError) as exc:
        return _result("application/x-ole-storage", Kind.OTHER, error=f"unreadable OLE2 file: {exc}")
    macros = any(n in ("Macros", "_VBA_PROJECT_CUR", "VBA") for n in names)
    if "WordDocument" in names:
        fmt = "doc"
    elif "Workbook" in names or "Book" in names:
        fmt = "xls"
    elif "PowerPoint Document" in names:
        fmt = "ppt"
    elif clsid in MSI_CLSIDS:
        return _result("application/x-msi", Kind.EXECUTABLE, format="msi")
    else:
        return _result("application/x-ole-storage", Kind.OTHER, format="ole2")
    return _result(OLE_MIME[fmt], Kind.OFFICE, format=fmt, macros=macros)


def _inspect_zip(path: Path) -> dict:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return _result("application/zip", Kind.ARCHIVE, format="zip", entries=len(infos),
                               error="too many entries")
            names = [i.filename for i in infos]
            name_set = set(names)
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            encrypted = any(i.flag_bits & 0x1 for i in infos)
            if "[Content_Types].xml" in name_set:
                for fmt, prefix in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/")):
                    if any(n.startswith(prefix) for n in names):
                        probe = {"format": fmt, "macros": any(n.endswith("vbaProject.bin") for n in names)}
                        if fmt == "pptx":
                            probe["slides"] = sum(1 for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n))
                        if fmt == "xlsx":
                            probe["sheets"] = sum(1 for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
                        return _result(OOXML_MIME[fmt], Kind.OFFICE, **probe)
            if "mimetype" in name_set:
                declared = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
                for fmt, mime in ODF_MIME.items():
                    if declared == mime:
                        return _result(mime, Kind.OFFICE, format=fmt, macros=any(n.startswith("Basic/")
                                                                                  for n in names))
            if "AndroidManifest.xml" in name_set and any(n.endswith(".dex") for n in names):
                return _result("application/vnd.android.package-archive", Kind.EXECUTABLE, format="apk")
            if "META-INF/MANIFEST.MF" in name_set and any(n.endswith(".class") for n in names):
                return _result("application/java-archive", Kind.EXECUTABLE, format="jar")
            tops = {n.split("/", 1)[0] for n in names if n}
            index_html = "index.html" in name_set or (
                len(tops) == 1 and f"{next(iter(tops))}/index.html" in name_set)
            executables = [n for n in names if extension_of(n) in EXECUTABLE_EXTENSIONS - {"js"}][:20]
            return _result("application/zip", Kind.ARCHIVE, format="zip", entries=len(infos),
                           uncompressed_size=total, compressed_size=packed, encrypted=encrypted,
                           has_index_html=index_html, executables=executables)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        return _result("application/zip", Kind.ARCHIVE, format="zip", error=f"unreadable ZIP archive: {exc}")


def _decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode a sniffed head as text (UTF-8/16 with BOM, UTF-8, GB18030); None for binary data."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc, errors="strict" if enc == "utf-8" else "replace"), enc
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        return None
    for enc in ("utf-8", "gb18030"):
        for cut in range(0, 4):  # a multi-byte character may be cut at the end of the sniffed head
            try:
                text = (data[: len(data) - cut] if cut else data).decode(enc)
            except UnicodeDecodeError:
                continue
            controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t\f\x1b")
            if controls > 2:
                return None
            return text, enc
    return None


SRT_RE = re.compile(r"^\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}",
                    re.MULTILINE)
SRT_CUE_RE = re.compile(r"\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
VTT_CUE_RE = re.compile(r"(?:\d{1,2}:)?\d{2}:\d{2}\.\d{3}\s*-->")
SVG_RE = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]", re.S | re.I)
SVG_DANGER_RE = re.compile(r"<script|\son[a-z]+\s*=|javascript:|<foreignObject|<iframe|<embed|<object"
                           r"|xlink:href\s*=\s*[\"'](?!#|data:image/)|\bhref\s*=\s*[\"'](?!#|data:image/)", re.I)
HTML_RE = re.compile(r"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>]"
                     r"|<iframe[\s>])", re.S | re.I)
HTA_RE = re.compile(r"<hta:application", re.I)

_SCRIPT_SIGNS = {
    "application/x-bat": [
        re.compile(r"^\s*@?echo\s+off\b", re.I | re.M), re.compile(r"%~dp0|%comspec%|%systemroot%", re.I),
        re.compile(r"^\s*(?:set\s+/a|set\s+\w+=|goto\s+:?\w+|call\s+:?\w+|start\s+\"|del\s+/[fsq]|reg\s+add|"
                   r"schtasks|bitsadmin|certutil\s+-|powershell(?:\.exe)?\s+-)", re.I | re.M),
    ],
    "text/x-powershell": [
        re.compile(r"\b(?:Invoke-Expression|IEX|Invoke-WebRequest|Start-Process|Set-ExecutionPolicy|New-Object\s+"
                   r"(?:System\.)?Net\.WebClient|DownloadString|DownloadFile|-EncodedCommand|Add-Type)\b", re.I),
        re.compile(r"^\s*(?:param\s*\(|\$\w+\s*=|function\s+\w+-\w+|Write-Host|Get-\w+|\[System\.)", re.I | re.M),
    ],
    "text/vbscript": [
        re.compile(r"\bCreateObject\s*\(|\bWScript\.|\bGetObject\s*\(", re.I),
        re.compile(r"^\s*(?:Dim\s+\w+|Set\s+\w+\s*=|On\s+Error\s+Resume\s+Next|End\s+Sub|Sub\s+\w+)", re.I | re.M),
    ],
    "text/jscript": [
        re.compile(r"\bnew\s+ActiveXObject\s*\(|\bWScript\.(?:Shell|CreateObject|Run|Echo)|\bGetObject\s*\(\s*[\"']"
                   r"winmgmts", re.I),
    ],
}


def _script_kind(text: str) -> str | None:
    """Windows script languages (batch, PowerShell, VBScript, JScript) recognised from their content."""
    sample = text[:16384]
    for mime, patterns in _SCRIPT_SIGNS.items():
        hits = sum(1 for p in patterns if p.search(sample))
        needed = 1 if mime == "text/jscript" else 2
        if mime == "application/x-bat" and patterns[0].search(sample):
            needed = 1
        if hits >= needed:
            return mime
    return None


def _inspect_text(path: Path, head: bytes) -> dict:
    decoded = _decode_text(head)
    if decoded is None:
        return _result("application/octet-stream", Kind.OTHER)
    text, encoding = decoded
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("#!"):
        return _result("text/x-script", Kind.EXECUTABLE, interpreter=stripped.splitlines()[0][2:].strip()[:100],
                       encoding=encoding)
    if stripped.startswith("WEBVTT"):
        return _result("text/vtt", Kind.SUBTITLE, format="vtt", encoding=encoding, cues=len(VTT_CUE_RE.findall(text)))
    if SRT_RE.match(stripped):
        return _result("application/x-subrip", Kind.SUBTITLE, format="srt", encoding=encoding,
                       cues=len(SRT_CUE_RE.findall(text)))
    if SVG_RE.match(stripped):
        probe = {"format": "svg", "encoding": encoding, "scripts": bool(SVG_DANGER_RE.search(text))}
        m = re.search(r"<svg[^>]*>", stripped, re.S | re.I)
        if m:
            for attr in ("width", "height"):
                am = re.search(rf'\s{attr}\s*=\s*["\']\s*([\d.]+)\s*(?:px)?\s*["\']', m.group(0))
                if am:
                    probe[attr] = round(float(am.group(1)))
        return _result("image/svg+xml", Kind.IMAGE, **probe)
    if HTA_RE.search(text[:16384]):
        return _result("application/hta", Kind.EXECUTABLE, format="hta", encoding=encoding)
    if HTML_RE.match(stripped):
        return _result("text/html", Kind.TEXT, format="html", encoding=encoding)
    script = _script_kind(stripped)
    if script:
        return _result(script, Kind.EXECUTABLE, format="script", encoding=encoding)
    if stripped.startswith("{\\rtf"):
        return _result("application/rtf", Kind.OFFICE, format="rtf")
    if stripped.startswith("<?xml") or stripped.startswith("<"):
        return _result("text/xml", Kind.TEXT, format="xml", encoding=encoding)
    if stripped[:1] in ("{", "[") and stripped.rstrip()[-1:] in ("}", "]"):
        return _result("application/json", Kind.TEXT, format="json", encoding=encoding)
    return _result("text/plain", Kind.TEXT, format="text", encoding=encoding)


def _detect(path: Path, head: bytes, size: int) -> dict:
    """Decide MIME type and kind from the content. Probing (PyAV, Pillow, pypdf) happens afterwards."""
    if size == 0:
        return _result("application/x-empty", Kind.OTHER, error="empty file")
    # Executables first: whatever else they pretend to be.
    if head[:2] == b"MZ":
        is_pe = False
        if len(head) >= 64:
            pe_offset = struct.unpack("<I", head[60:64])[0]
            is_pe = head[pe_offset:pe_offset + 4] == b"PE\x00\x00" if pe_offset < len(head) - 4 else True
        return _result("application/vnd.microsoft.portable-executable" if is_pe else "application/x-dosexec",
                       Kind.EXECUTABLE, format="pe" if is_pe else "mz")
    if head.startswith(b"\x7fELF"):
        return _result("application/x-executable", Kind.EXECUTABLE, format="elf")
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return _result("application/x-mach-binary", Kind.EXECUTABLE, format="mach-o")
    if head[:4] == b"\xca\xfe\xba\xbe":
        return _result("application/x-mach-binary", Kind.EXECUTABLE, format="mach-o-universal-or-java-class")
    if head[:4] == b"\x00asm":
        return _result("application/wasm", Kind.EXECUTABLE, format="wasm")
    if head[:8] == b"\x4c\x00\x00\x00\x01\x14\x02\x00":
        return _result("application/x-ms-shortcut", Kind.EXECUTABLE, format="lnk")
    if head[:4] == b"dex\n":
        return _result("application/x-dex", Kind.EXECUTABLE, format="dex")
    # Documents
    pdf_at = head.find(b"%PDF-", 0, 1024)
    if pdf_at >= 0:
        return _result("application/pdf", Kind.PDF)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _inspect_ole(path, size)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _inspect_zip(path)
    # Images
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _result("image/png", Kind.IMAGE)
    if head.startswith(b"\xff\xd8\xff"):
        return _result("image/jpeg", Kind.IMAGE)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _result("image/gif", Kind.IMAGE)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _result("image/webp", Kind.IMAGE)
    if head[:2] == b"BM" and len(head) > 18 and struct.unpack("<I", head[14:18])[0] in (12, 40, 52, 56, 64, 108, 124):
        return _result("image/bmp", Kind.IMAGE)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _result("image/tiff", Kind.IMAGE)
    # Audio and video
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _result("audio/wav", Kind.AUDIO)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return _result("video/x-msvideo", Kind.VIDEO)
    ftyp = _detect_ftyp(head)
    if ftyp:
        kind = Kind.IMAGE if ftyp.startswith("image/") else Kind.AUDIO if ftyp.startswith("audio/") else Kind.VIDEO
        return _result(ftyp, kind)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip") and 8 <= struct.unpack(">I", head[:4])[0] <= size:
        return _result("video/quicktime", Kind.VIDEO)  # old QuickTime files start without an ftyp box
    doctype = _ebml_doctype(head)
    if doctype:
        return _result("video/webm" if doctype == "webm" else "video/x-matroska", Kind.VIDEO)
    if head.startswith(b"OggS"):
        is_video = b"\x80theora" in head[:4096] or b"\x80kate" in head[:4096]
        return _result("video/ogg" if is_video else "audio/ogg", Kind.VIDEO if is_video else Kind.AUDIO)
    if head.startswith(b"fLaC"):
        return _result("audio/flac", Kind.AUDIO)
    if head.startswith(b"ID3"):
        return _result("audio/mpeg", Kind.AUDIO)
    if head.startswith(b"FLV\x01"):
        return _result("video/x-flv", Kind.VIDEO)
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return _result("video/x-ms-asf", Kind.VIDEO)
    if len(head) > 752 and all(head[i] == 0x47 for i in (0, 188, 376, 564, 752)):
        return _result("video/mp2t", Kind.VIDEO)
    if head.startswith(b"\x00\x00\x01\xba") or head.startswith(b"\x00\x00\x01\xb3"):
        return _result("video/mpeg", Kind.VIDEO)
    frame = _is_mpeg_audio_frame(head)
    if frame:
        return _result(frame, Kind.AUDIO)
    # Archives
    if head.startswith(b"Rar!\x1a\x07"):
        return _result("application/vnd.rar", Kind.ARCHIVE, format="rar")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return _result("application/x-7z-compressed", Kind.ARCHIVE, format="7z")
    if head.startswith(b"\x1f\x8b"):
        return _result("application/gzip", Kind.ARCHIVE, format="gzip")
    if len(head) > 262 and head[257:262] == b"ustar":
        return _result("application/x-tar", Kind.ARCHIVE, format="tar")
    # Text of all sorts (subtitles, SVG, HTML, scripts, plain text)
    if len(head) < size and len(head) < TEXT_SNIFF_BYTES:
        with open(path, "rb") as fh:
            head = fh.read(TEXT_SNIFF_BYTES)
    text = _inspect_text(path, head)
    if text["kind"] != Kind.OTHER:
        return text
    # Last resort: puremagic knows many rare formats; trust it only to name them, never to allow them.
    try:
        import puremagic

        guesses = puremagic.magic_file(str(path))
        if guesses:
            best = guesses[0]
            return _result(best.mime_type or "application/octet-stream", Kind.OTHER, format=best.extension.lstrip("."),
                           description=best.name)
    except Exception:  # noqa: BLE001 — puremagic raises assorted errors on odd input
        pass
    return _result("application/octet-stream", Kind.OTHER)


# ---------------------------------------------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------------------------------------------

def _codec_name(stream) -> str:
    name = stream.codec_context.name or ""
    if name.startswith("pcm_"):
        return "pcm"
    return CODEC_ALIASES.get(name, name)


def _num(value, digits=3):
    if value is None:
        return None
    return round(float(value), digits)


def probe_av(path: Path) -> dict:
    """Container, duration, codecs, resolution, frame rate and bitrates of an audio or video file via PyAV."""
    import av

    probe: dict = {}
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            probe["format"] = container.format.name
            duration = container.duration / av.time_base if container.duration else None
            video = next((s for s in container.streams.video
                          if not (s.disposition & av.stream.Disposition.attached_pic)), None)
            audio = container.streams.audio[0] if container.streams.audio else None
            if duration is None:
                for s in (video, audio):
                    if s is not None and s.duration and s.time_base:
                        duration = float(s.duration * s.time_base)
                        break
            probe["duration"] = _num(duration)
            probe["bitrate"] = int(container.bit_rate) if container.bit_rate else None
            probe["has_video"] = video is not None
            probe["has_audio"] = audio is not None
            if video is not None:
                cc = video.codec_context
                rate = video.average_rate or video.guessed_rate
                probe.update({
                    "video_codec": _codec_name(video), "width": cc.width, "height": cc.height,
                    "fps": _num(Fraction(rate), 3) if rate else None, "pix_fmt": cc.pix_fmt,
                    "video_bitrate": int(video.bit_rate) if video.bit_rate else None,
                })
            if audio is not None:
                cc = audio.codec_context
                probe.update({
                    "audio_codec": _codec_name(audio), "sample_rate": cc.sample_rate,
                    "channels": cc.layout.nb_channels if cc.layout else None,
                    "audio_bitrate": int(audio.bit_rate) if audio.bit_rate else None,
                })
            if video is not None and not probe.get("video_bitrate") and probe.get("bitrate"):
                # Matroska and WebM store no per-stream bitrate: estimate it from the total minus the audio.
                estimate = probe["bitrate"] - (probe.get("audio_bitrate") or 0)
                if estimate > 0:
                    probe["video_bitrate"] = estimate
                    probe["video_bitrate_estimated"] = True
            if video is None and audio is None:
                probe["error"] = "no audio or video stream"
    except (av.error.FFmpegError, OSError, ValueError, ZeroDivisionError) as exc:
        return {"error": f"unreadable media file: {exc}"[:300]}
    return probe


IMAGE_BIT_DEPTH = {"1": 1, "L": 8, "P": 8, "RGB": 8, "RGBA": 8, "CMYK": 8, "YCbCr": 8, "LA": 8, "PA": 8,
                   "RGBX": 8, "HSV": 8, "LAB": 8, "I;16": 16, "I;16B": 16, "I;16L": 16, "I": 32, "F": 32}


def probe_image(path: Path) -> dict:
    """Dimensions, mode and bit depth via Pillow; refuses decompression bombs without decoding them."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                limit = Image.MAX_IMAGE_PIXELS
                if limit and width * height > limit:
                    return {"format": (img.format or "").lower(), "width": width, "height": height,
                            "error": f"image too large: {width}×{height} pixels (limit {limit})"}
                probe = {"format": (img.format or "").lower(), "width": width, "height": height, "mode": img.mode,
                         "bit_depth": IMAGE_BIT_DEPTH.get(img.mode), "frames": getattr(img, "n_frames", 1)}
                img.verify()
                return probe
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return {"error": f"image too large: {exc}"[:300]}
    except Exception as exc:  # noqa: BLE001 — Pillow raises many exception types on corrupt data
        return {"error": f"unreadable image: {exc}"[:300]}


def probe_pdf(path: Path) -> dict:
    """Page count and encryption via pypdf."""
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(str(path), strict=False)
            probe = {"encrypted": bool(reader.is_encrypted)}
            if reader.is_encrypted:
                try:
                    if not reader.decrypt(""):
                        probe["pages"] = None
                        return probe
                except Exception:  # noqa: BLE001 — unsupported encryption
                    probe["pages"] = None
                    return probe
            probe["pages"] = len(reader.pages)
            if probe["pages"]:
                box = reader.pages[0].mediabox
                probe["page_width"] = _num(box.width, 1)
                probe["page_height"] = _num(box.height, 1)
            root = reader.trailer["/Root"]
            names = root.get("/Names") if hasattr(root, "get") else None
            probe["javascript"] = bool((names is not None and "/JavaScript" in names) or "/OpenAction" in root
                                       and "/JS" in str(root.get("/OpenAction")))
            return probe
    except Exception as exc:  # noqa: BLE001 — pypdf raises many exception types on corrupt data
        return {"error": f"unreadable PDF: {exc}"[:300]}


def _refine_av(result: dict) -> None:
    """Audio-only MP4/WebM/Matroska/ASF are audio; an 'audio' container with a real video stream is video."""
    probe = result["probe"]
    if probe.get("error"):
        return
    mime = result["mime_type"]
    if result["kind"] == Kind.VIDEO and not probe.get("has_video") and probe.get("has_audio"):
        result["kind"] = Kind.AUDIO
        result["mime_type"] = {"video/mp4": "audio/mp4", "video/webm": "audio/webm", "video/x-matroska":
                               "audio/x-matroska", "video/x-ms-asf": "audio/x-ms-wma", "video/ogg": "audio/ogg",
                               "video/quicktime": "audio/mp4", "video/3gpp": "audio/mp4"}.get(mime, mime)
    elif result["kind"] == Kind.AUDIO and probe.get("has_video") and mime in ("audio/mp4", "audio/ogg"):
        result["kind"] = Kind.VIDEO
        result["mime_type"] = "video/mp4" if mime == "audio/mp4" else "video/ogg"
    probe["container"] = CONTAINER_BY_MIME.get(result["mime_type"], probe.get("format", ""))


def inspect_file(path: Path, original_name: str = "") -> dict:
    """{"mime_type", "kind", "probe"} of the file at `path`, decided by its content. Never raises on bad input."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        return _result("application/octet-stream", Kind.OTHER, error=f"cannot read file: {exc}")
    try:
        result = _detect(path, head, size)
    except Exception as exc:  # noqa: BLE001 — never let a hostile file crash the upload
        logger.exception("type detection failed for %s", original_name)
        return _result("application/octet-stream", Kind.OTHER, error=f"type detection failed: {exc}"[:300])
    kind = result["kind"]
    if kind in (Kind.VIDEO, Kind.AUDIO):
        result["probe"].update(probe_av(path))
        _refine_av(result)
    elif kind == Kind.IMAGE and result["mime_type"] != "image/svg+xml":
        result["probe"].update(probe_image(path))
    elif kind == Kind.PDF:
        result["probe"].update(probe_pdf(path))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Allowlists
# ---------------------------------------------------------------------------------------------------------------

DOCUMENTS = (Kind.PDF, Kind.OFFICE, Kind.TEXT)
MEDIA_ANY = (Kind.VIDEO, Kind.AUDIO, Kind.IMAGE)

# Kinds accepted as the main file of each resource type. A callable refines by MIME type and probe.
MAIN_ALLOWLIST: dict[str, tuple[str, ...]] = {
    "text": DOCUMENTS,
    "slides": (Kind.PDF, Kind.OFFICE),
    "image": (Kind.IMAGE,),
    "audio": (Kind.AUDIO,),
    "video": (Kind.VIDEO,),
    "micro_lesson": (Kind.VIDEO,),
    "animation": (Kind.VIDEO, Kind.IMAGE, Kind.ARCHIVE),
    "simulation": (Kind.ARCHIVE, Kind.VIDEO),
    "case": DOCUMENTS + MEDIA_ANY,
    "questions": DOCUMENTS,
    "course_package": (Kind.ARCHIVE, Kind.PDF, Kind.OFFICE),
    "training_package": (Kind.ARCHIVE, Kind.PDF, Kind.OFFICE),
    "software": (Kind.ARCHIVE,),
    "external_link": (),
}
ATTACHMENT_ALLOWLIST = (Kind.SUBTITLE,) + DOCUMENTS + (Kind.IMAGE,)


def _accepts(kind: str, mime: str, resource_type: str, role: str) -> bool:
    if mime == "text/html":
        return False  # a bare HTML page would run in our origin; HTML5 content comes as a ZIP package
    if role == "attachment":
        return kind in ATTACHMENT_ALLOWLIST
    allowed = MAIN_ALLOWLIST.get(resource_type, ())
    if kind not in allowed:
        return False
    if resource_type == "slides" and kind == Kind.OFFICE:
        return OFFICE_FORMAT_BY_MIME.get(mime) in PRESENTATION_FORMATS
    if resource_type == "animation" and kind == Kind.IMAGE:
        return mime in ("image/gif", "image/webp", "image/png", "image/svg+xml")
    if kind == Kind.ARCHIVE:
        return mime == "application/zip" or resource_type in ("simulation", "software", "course_package",
                                                              "training_package")
    return True


def accepted_kinds(resource_type: str, role: str) -> list[str]:
    return list(ATTACHMENT_ALLOWLIST if role == "attachment" else MAIN_ALLOWLIST.get(resource_type, ()))


def allowed_findings(kind: str, mime_type: str, original_name: str, resource_type: str, role: str, *,
                     probe: dict | None = None) -> list[dict]:
    """Problems with a file's type for this resource type and role: [] when the file is acceptable."""
    name = original_name or ""
    ext = extension_of(name)
    inner_exts = [p.lower() for p in PurePosixPath(name.replace("\\", "/")).suffixes[:-1]]
    inner_exts = [e[1:] for e in inner_exts]
    probe = probe or {}
    # 1. Programs and scripts: never accepted; pretending to be something else is called out.
    if kind == Kind.EXECUTABLE:
        detected_format = probe.get("format") if probe.get("format") not in (None, "script") else mime_type
        detected_format = detected_format.upper() if "/" not in detected_format else detected_format
        if ext not in EXECUTABLE_EXTENSIONS or any(e in EXTENSION_MIMES for e in inner_exts):
            return [make_finding("error", "file.disguised_executable", name, format=detected_format)]
        return [make_finding("error", "file.executable", name, extension=f".{ext}")]
    if ext in EXECUTABLE_EXTENSIONS:
        if any(e in EXTENSION_MIMES for e in inner_exts):
            return [make_finding("error", "file.disguised_executable", name, format=f".{ext}")]
        return [make_finding("error", "file.executable", name, extension=f".{ext}")]
    findings = []
    # 2. The name promises one type, the content is another.
    promised = EXTENSION_MIMES.get(ext)
    if promised is not None and mime_type not in promised:
        findings.append(make_finding("error", "file.extension_mismatch", name, extension=ext, detected=kind))
    # 3. The resource type's allowlist.
    if not _accepts(kind, mime_type, resource_type, role):
        findings.append(make_finding("error", "file.type_not_allowed", name, resource_type=resource_type,
                                     role=role, detected=kind, accepted=accepted_kinds(resource_type, role)))
    # 4. Hostile or risky content inside an otherwise acceptable type.
    if mime_type == "image/svg+xml" and probe.get("scripts"):
        findings.append(make_finding("error", "file.unsafe_svg", name))
    if kind == Kind.OFFICE and probe.get("macros"):
        findings.append(make_finding("warning", "file.office_macros", name))
    if (kind == Kind.ARCHIVE and resource_type == "animation" and role == "main" and probe
            and not probe.get("error") and not probe.get("has_index_html")):
        findings.append(make_finding("error", "file.html5_missing_index", name))
    return findings
