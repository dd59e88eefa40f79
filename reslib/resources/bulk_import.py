"""Bulk import: an Excel sheet of metadata plus a ZIP of files → draft resources, with a report per row.

Safety of the archive (checked before anything is created, and again while the bytes stream):
* entries are read with ZipFile.open and streamed into storage.store_stream — never extracted to disk by name;
* refused outright: path traversal (``..``, absolute paths, drive letters), symbolic links, encrypted entries,
  more than MAX_ENTRIES entries, a total uncompressed size over the upload limit, and compression bombs (an entry
  inflating more than BOMB_RATIO times its compressed size once it is bigger than BOMB_MIN_BYTES);
* while streaming, the real number of inflated bytes is counted against the same limits, so a lying header does
  not help.
Each row is created in its own transaction: resource, metadata and files together, or nothing at all.
"""

from __future__ import annotations

import decimal
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from reslib.core import xlsx
from reslib.core.errors import DomainError, ValidationFailed
from reslib.orgs.models import Organization

from . import policies, services
from .forms import AUTHORED_TYPE_CHOICES, LANGUAGE_CHOICES, knowledge_point_tree, library_majors, library_organizations
from .models import ResourceVersion, VersionFile
from .services import Author, ResourceMetadata
from .storage import max_upload_bytes, store_stream

V = ResourceVersion

MAX_ENTRIES = 1000
MAX_ROWS = 500
BOMB_RATIO = 100
BOMB_MIN_BYTES = 10 * 1024 * 1024
MAX_SHEET_BYTES = 10 * 1024 * 1024
MAX_SHEET_UNCOMPRESSED = 100 * 1024 * 1024
CHUNK = 1024 * 1024
FIRST_DATA_ROW = 3  # row 1: headers, row 2: field codes (hidden)

LIST_SPLIT = re.compile(r"[;；\n]+")
MULTI_SPLIT = re.compile(r"[,，、;；\n]+")
AUTHOR_RE = re.compile(r"^\s*(?P<name>[^（(]+?)\s*(?:[（(]\s*(?P<inst>[^）)]*?)\s*[）)])?\s*$")


@dataclass(frozen=True)
class Column:
    code: str
    header: object  # lazy translatable text
    required: bool = False
    note: object = ""
    choices: object = None  # TextChoices class or list of (value, label)


COLUMNS = [
    Column("title", _lazy("Title"), True),
    Column("resource_type", _lazy("Resource type"), True, choices=AUTHORED_TYPE_CHOICES),
    Column("major", _lazy("Major"), True, _lazy("Major code, e.g. 510201; the library's core or a served major.")),
    Column("description", _lazy("Description")),
    Column("keywords", _lazy("Keywords"), note=_lazy("Separated by commas.")),
    Column("knowledge_points", _lazy("Knowledge and skill points"),
           note=_lazy("Names from the library's tree, separated by semicolons.")),
    Column("audience", _lazy("Audience"), note=_lazy("Separated by commas."), choices=V.Audience),
    Column("language", _lazy("Language"), choices=LANGUAGE_CHOICES),
    Column("difficulty", _lazy("Difficulty"), choices=V.Difficulty),
    Column("certificate", _lazy("1+X certificate")),
    Column("access", _lazy("Who may access it"), choices=V.Access),
    Column("price_mode", _lazy("Price"), choices=V.PriceMode),
    Column("price", _lazy("Price (yuan)"), note=_lazy("A number, only for paid resources.")),
    Column("external_url", _lazy("External link"), note=_lazy("Only for external-link resources.")),
    Column("copyright_holder_org", _lazy("Copyright holder (institution)"),
           note=_lazy("Institution name or unified social credit code; or fill in the person column.")),
    Column("copyright_holder_person", _lazy("Copyright holder (person)")),
    Column("originality", _lazy("Originality"), True, choices=V.Originality),
    Column("source", _lazy("Source"), note=_lazy("Required when adapted or quoted.")),
    Column("licence", _lazy("Licence"), True, choices=V.Licence),
    Column("licence_text", _lazy("Licence terms"), note=_lazy("Only for the licence “Other”.")),
    Column("contributing_org", _lazy("Contributing institution"), True,
           _lazy("A host or participant of the library: name or unified social credit code.")),
    Column("authors", _lazy("Authors (in credit order)"), True,
           _lazy("Name (institution), separated by semicolons, e.g. 张三（某学院）；李四")),
    Column("main_file", _lazy("Main file"), note=_lazy("Path of the file inside the ZIP archive.")),
    Column("attachments", _lazy("Attachments"), note=_lazy("Paths inside the ZIP, separated by semicolons.")),
]
COLUMN_BY_CODE = {c.code: c for c in COLUMNS}


class ArchiveRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class RowReport:
    row: int
    title: str = ""
    resource_id: int | None = None
    messages: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def ok(self) -> bool:
        return self.resource_id is not None

    def as_json(self) -> dict:
        return {"row": self.row, "title": self.title, "resource_id": self.resource_id, "messages": self.messages}


@dataclass
class ImportResult:
    rows: list[RowReport] = field(default_factory=list)
    error: object = None
    error_field: str = ""

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if not r.ok)

    def as_json(self) -> list[dict]:
        return [r.as_json() for r in self.rows]


# --- choices in any language ------------------------------------------------------------------------------------

def _choice_pairs(choices):
    return choices.choices if hasattr(choices, "choices") else list(choices)


def _choice_lookup(choices) -> dict[str, str]:
    lookup: dict[str, str] = {}
    pairs = _choice_pairs(choices)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for value, label in pairs:
                lookup[str(label).strip().lower()] = value
    for value, _label in pairs:
        lookup[str(value).lower()] = value
    return lookup


def zh_labels(choices) -> list[str]:
    with translation.override("zh-hans"):
        return [str(label) for _v, label in _choice_pairs(choices)]


# --- the template and the report ------------------------------------------------------------------------------

def build_template(library) -> bytes:
    """The import template: Chinese headers (row 1), hidden field codes (row 2), notes, dropdowns, a help sheet."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    with translation.override("zh-hans"):
        wb = Workbook()
        ws = wb.active
        ws.title = _("Resources")
        help_ws = wb.create_sheet(_("Instructions"))
        lists_ws = wb.create_sheet("lists")
        lists_ws.sheet_state = "hidden"
        bold = Font(bold=True)
        required_fill = PatternFill("solid", fgColor="FFF4E0")
        list_col = 0
        for index, column in enumerate(COLUMNS, start=1):
            letter = get_column_letter(index)
            header = str(column.header) + (" *" if column.required else "")
            cell = ws.cell(row=1, column=index, value=header)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if column.required:
                cell.fill = required_fill
            ws.cell(row=2, column=index, value=column.code)
            ws.column_dimensions[letter].width = max(14, min(40, len(header) * 2 + 4))
            note = str(column.note) if column.note else ""
            if column.choices is not None:
                labels = zh_labels(column.choices)
                note = (note + "\n" if note else "") + _("Allowed: %(values)s") % {"values": "、".join(labels)}
                if column.code != "audience":
                    list_col += 1
                    list_letter = get_column_letter(list_col)
                    for i, label in enumerate(labels, start=1):
                        lists_ws.cell(row=i, column=list_col, value=label)
                    validation = DataValidation(type="list", formula1=f"lists!${list_letter}$1:${list_letter}$"
                                                f"{len(labels)}", allow_blank=True, showErrorMessage=True)
                    validation.error = _("Choose a value from the list.")
                    ws.add_data_validation(validation)
                    validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + MAX_ROWS}")
            if note:
                cell.comment = Comment(note, "ResLib", width=300, height=120)
        ws.row_dimensions[2].hidden = True
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"

        help_rows = [
            [_("How to fill in this sheet")],
            [_("One row per resource, from row 3 on. Columns marked * are required. Do not change the first two "
               "rows (row 2 is hidden and holds the field codes).")],
            [_("Put the files into one ZIP archive and name each row's main file and attachments by their path "
               "inside the archive.")],
            [_("Every row becomes a draft resource; nothing is published before review.")],
            [],
            [_("Column"), _("Field code"), _("Required"), _("Notes")],
        ]
        for column in COLUMNS:
            help_rows.append([str(column.header), column.code, _("yes") if column.required else "",
                              str(column.note) if column.note else ""])
        help_rows += [[], [_("Majors of this library")]]
        help_rows += [[m.code, m.name] for m in library_majors(library)]
        help_rows += [[], [_("Institutions of this library")]]
        help_rows += [[o.name, o.credit_code] for o in library_organizations(library)]
        points = knowledge_point_tree(library)
        if points:
            help_rows += [[], [_("Knowledge and skill points")]]
            help_rows += [["　" * depth + p.name, p.get_kind_display()] for p, depth in points]
        for row in help_rows:
            xlsx.append_row(help_ws, row)
        help_ws["A1"].font = Font(bold=True, size=13)
        help_ws.column_dimensions["A"].width = 36
        help_ws.column_dimensions["B"].width = 24
        help_ws.column_dimensions["D"].width = 60
        out = io.BytesIO()
        wb.save(out)
    return out.getvalue()


def build_report(rows: list[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Import report")
    ws.append([_("Row"), _("Title"), _("Result"), _("Link"), _("Reasons")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ok = bool(row.get("resource_id"))
        xlsx.append_row(ws, [row.get("row"), row.get("title", ""), _("Created as draft") if ok else _("Not imported"),
                             row.get("url", ""), "\n".join(row.get("messages") or [])])
    for letter, width in (("A", 8), ("B", 36), ("C", 14), ("D", 44), ("E", 70)):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- archive safety ---------------------------------------------------------------------------------------------

def _decoded_name(info: zipfile.ZipInfo) -> str:
    """Entry names without the UTF-8 flag are cp437 to Python; Chinese Windows writes them in GBK."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


def normalise_member(name: str) -> str | None:
    """A safe relative path inside the archive, or None when the name is unsafe."""
    if not name or "\x00" in name:
        return None
    path = name.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or path.startswith("//"):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or ":" in p for p in parts):
        return None
    return "/".join(parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return ((info.external_attr >> 16) & 0o170000) == 0o120000


def check_archive(zf: zipfile.ZipFile, *, max_total: int) -> dict[str, zipfile.ZipInfo]:
    """Every entry checked before anything is read; returns safe path → entry. Raises ArchiveRefused."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveRefused(_("The archive has %(count)d entries; at most %(max)d are allowed.")
                             % {"count": len(infos), "max": MAX_ENTRIES})
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = _decoded_name(info)
        safe = normalise_member(name)
        if safe is None:
            raise ArchiveRefused(_("The archive entry “%(name)s” points outside the archive; nothing was imported.")
                                 % {"name": name})
        if _is_symlink(info):
            raise ArchiveRefused(_("The archive entry “%(name)s” is a symbolic link; nothing was imported.")
                                 % {"name": name})
        if info.flag_bits & 0x1:
            raise ArchiveRefused(_("The archive entry “%(name)s” is encrypted; nothing was imported.")
                                 % {"name": name})
        if info.is_dir():
            continue
        if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise ArchiveRefused(_("The archive entry “%(name)s” expands suspiciously (compression bomb); nothing "
                                   "was imported.") % {"name": name})
        total += info.file_size
        if total > max_total:
            raise ArchiveRefused(_("The files in the archive are larger than the site allows in total."))
        if safe in members:
            raise ArchiveRefused(_("The archive contains “%(name)s” twice.") % {"name": name})
        members[safe] = info
    return members


class _Budget:
    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0


def stream_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget):
    """The entry's bytes in chunks, counting what really inflates (a lying header changes nothing)."""
    total = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            budget.used += len(chunk)
            if total > info.file_size:
                raise ArchiveRefused(_("The archive entry “%(name)s” is larger than its header says.")
                                     % {"name": _decoded_name(info)})
            if total > BOMB_MIN_BYTES and total > BOMB_RATIO * max(info.compress_size, 1):
                raise ArchiveRefused(_("The archive entry “%(name)s” expands suspiciously (compression bomb).")
                                     % {"name": _decoded_name(info)})
            if budget.used > budget.limit:
                raise ArchiveRefused(_("The files in the archive are larger than the site allows in total."))
            yield chunk


# --- the sheet --------------------------------------------------------------------------------------------------

def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header_lookup() -> dict[str, str]:
    lookup = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for column in COLUMNS:
                lookup[str(column.header).strip().lower()] = column.code
    for column in COLUMNS:
        lookup[column.code] = column.code
    return lookup


def read_sheet(sheet_file) -> tuple[dict[str, int], list[tuple[int, list]]]:
    """(column code → index, [(excel row number, cells)]). Raises ValidationFailed on a sheet that cannot be used."""
    from openpyxl import load_workbook

    size = getattr(sheet_file, "size", None)
    if size is not None and size > MAX_SHEET_BYTES:
        raise ValidationFailed.single("sheet", "import.sheet_too_large", _lazy("The sheet is too large."))
    try:
        sheet_file.seek(0)
        with zipfile.ZipFile(sheet_file) as zf:  # an .xlsx is a ZIP too: refuse a bomb before openpyxl reads it
            if sum(i.file_size for i in zf.infolist()) > MAX_SHEET_UNCOMPRESSED:
                raise ValidationFailed.single("sheet", "import.sheet_too_large", _lazy("The sheet is too large."))
        sheet_file.seek(0)
        wb = load_workbook(sheet_file, read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception:
        raise ValidationFailed.single("sheet", "import.sheet_unreadable",
                                      _lazy("The sheet cannot be read. Upload an .xlsx file made from the template."))
    try:
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(max_row=MAX_ROWS + FIRST_DATA_ROW + 1, values_only=True))
    finally:
        wb.close()
    if not rows:
        raise ValidationFailed.single("sheet", "import.sheet_empty", _lazy("The sheet is empty."))
    lookup = _header_lookup()
    header_index = None
    mapping: dict[str, int] = {}
    for candidate in range(min(3, len(rows))):
        found = {}
        for i, value in enumerate(rows[candidate]):
            key = _cell_text(value).rstrip("*").strip().lower()
            if key in lookup and lookup[key] not in found:
                found[lookup[key]] = i
        if len(found) > len(mapping):
            header_index, mapping = candidate, found
    missing = [c for c in COLUMNS if c.required and c.code not in mapping]
    if header_index is None or missing:
        raise ValidationFailed.single(
            "sheet", "import.columns_missing",
            _("Required columns are missing: %(columns)s. Start from the template.")
            % {"columns": "、".join(str(c.header) for c in missing or COLUMNS if c.required)})
    # Skip the hidden field-code row when the headers are in row 1.
    data_start = header_index + 1
    if data_start < len(rows) and sum(1 for v in rows[data_start] if _cell_text(v) in COLUMN_BY_CODE) >= 3:
        data_start += 1
    data = []
    for offset, cells in enumerate(rows[data_start:], start=data_start + 1):
        if not any(_cell_text(v) for v in cells):
            continue
        data.append((offset, list(cells)))
    if len(data) > MAX_ROWS:
        raise ValidationFailed.single("sheet", "import.too_many_rows",
                                      _("At most %(max)d rows can be imported at once.") % {"max": MAX_ROWS})
    return mapping, data


class _RowParser:
    def __init__(self, library):
        self.library = library
        majors = list(library_majors(library))
        self.majors = {m.code: m.pk for m in majors}
        self.major_by_name = {m.name: m.pk for m in majors}
        self.orgs = list(Organization.objects.all().only("pk", "name", "credit_code"))
        self.org_by_name = {o.name: o.pk for o in self.orgs}
        self.org_by_code = {o.credit_code.upper(): o.pk for o in self.orgs if o.credit_code}
        self.points: dict[str, list[int]] = {}
        for point, _depth in knowledge_point_tree(library):
            self.points.setdefault(point.name, []).append(point.pk)
        self.choice_maps = {c.code: _choice_lookup(c.choices) for c in COLUMNS if c.choices is not None}

    def parse(self, mapping, cells) -> tuple[ResourceMetadata | None, dict, list[str]]:
        errors: list[str] = []

        def text(code):
            index = mapping.get(code)
            return _cell_text(cells[index]) if index is not None and index < len(cells) else ""

        def bad(code, message):
            errors.append(f"{COLUMN_BY_CODE[code].header}：{message}")

        def choice(code, default=""):
            raw = text(code)
            if not raw:
                return default
            value = self.choice_maps[code].get(raw.lower())
            if value is None:
                bad(code, _("“%(value)s” is not one of the allowed values.") % {"value": raw})
                return default
            return value

        major_id = None
        raw_major = text("major")
        if raw_major:
            code = raw_major[:6]
            major_id = self.majors.get(code) or self.major_by_name.get(raw_major)
            if major_id is None:
                bad("major", _("“%(value)s” is not the library's core major or a served major.")
                    % {"value": raw_major})

        points = []
        for name in filter(None, (n.strip() for n in LIST_SPLIT.split(text("knowledge_points")))):
            ids = self.points.get(name)
            if not ids:
                bad("knowledge_points", _("The library has no point named “%(value)s”.") % {"value": name})
            else:
                points.append(ids[0])

        audience = []
        for raw in filter(None, (a.strip() for a in MULTI_SPLIT.split(text("audience")))):
            value = self.choice_maps["audience"].get(raw.lower())
            if value is None:
                bad("audience", _("“%(value)s” is not one of the allowed values.") % {"value": raw})
            elif value not in audience:
                audience.append(value)

        price = None
        raw_price = text("price")
        if raw_price:
            try:
                price = decimal.Decimal(raw_price.replace("¥", "").replace("元", "").strip())
                if not price.is_finite():
                    raise decimal.InvalidOperation
            except decimal.InvalidOperation:
                bad("price", _("“%(value)s” is not a number.") % {"value": raw_price})
                price = None

        def org(code):
            raw = text(code)
            if not raw:
                return None
            pk = self.org_by_code.get(raw.upper()) or self.org_by_name.get(raw)
            if pk is None:
                bad(code, _("There is no institution “%(value)s” on the platform.") % {"value": raw})
            return pk

        authors = []
        for raw in filter(None, (a.strip() for a in LIST_SPLIT.split(text("authors")))):
            match = AUTHOR_RE.match(raw)
            if match:
                authors.append(Author(name=match.group("name").strip()[:64],
                                      institution=(match.group("inst") or "").strip()[:128]))
            else:
                authors.append(Author(name=raw[:64]))

        files = {
            "main": text("main_file"),
            "attachments": [a.strip() for a in LIST_SPLIT.split(text("attachments")) if a.strip()],
        }
        metadata = ResourceMetadata(
            title=text("title"),
            resource_type=choice("resource_type"),
            major=major_id,
            originality=choice("originality"),
            licence=choice("licence"),
            contributing_org=org("contributing_org"),
            description=text("description"),
            keywords=[k for k in MULTI_SPLIT.split(text("keywords")) if k.strip()],
            knowledge_points=points,
            audience=audience,
            language=choice("language", "zh-hans"),
            difficulty=choice("difficulty"),
            certificate=text("certificate"),
            access=choice("access", V.Access.PUBLIC),
            price_mode=choice("price_mode", V.PriceMode.FREE),
            price=price,
            external_url=text("external_url"),
            copyright_holder_org=org("copyright_holder_org"),
            copyright_holder_person=text("copyright_holder_person"),
            source=text("source"),
            licence_text=text("licence_text"),
            authors=authors,
        )
        return (None if errors else metadata), files, errors


def _service_messages(exc: DomainError) -> list[str]:
    if not isinstance(exc, ValidationFailed):
        return [str(exc.message)]
    result = []
    for field_name, _code, message in exc.errors:
        column = COLUMN_BY_CODE.get(field_name)
        result.append(f"{column.header}：{message}" if column else str(message))
    return result


# --- the import -------------------------------------------------------------------------------------------------

def _open_archive(archive):
    limit = max_upload_bytes()
    if getattr(archive, "size", 0) and archive.size > limit:
        raise ArchiveRefused(_("The archive is larger than the site allows."))
    fileobj = getattr(archive, "file", archive)
    try:
        fileobj.seek(0)
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveRefused(_("The archive is not a valid ZIP file.")) from None
    try:
        members = check_archive(zf, max_total=limit)
    except BaseException:
        zf.close()
        raise
    return zf, members


def run_import(library, *, sheet, archive=None, by) -> ImportResult:
    """Create one draft resource per row. A sheet or archive that cannot be used imports nothing."""
    result = ImportResult()
    if not policies.can_create(by, library):
        result.error, result.error_field = _("Only the library's lead and builders can import resources."), ""
        return result
    try:
        mapping, rows = read_sheet(sheet)
    except ValidationFailed as exc:
        result.error, result.error_field = exc.message, "sheet"
        return result
    zf, members = None, {}
    if archive:
        try:
            zf, members = _open_archive(archive)
        except ArchiveRefused as exc:
            result.error, result.error_field = exc.message, "archive"
            return result
    budget = _Budget(max_upload_bytes())
    parser = _RowParser(library)

    try:
        for number, cells in rows:
            metadata, files, errors = parser.parse(mapping, cells)
            report = RowReport(row=number, title=metadata.title if metadata else _cell_text(
                cells[mapping["title"]] if mapping.get("title") is not None and mapping["title"] < len(cells)
                else ""))
            result.rows.append(report)
            wanted = ([(files["main"], VersionFile.Role.MAIN)] if files["main"] else []) + [
                (a, VersionFile.Role.ATTACHMENT) for a in files["attachments"]]
            entries = []
            for path, role in wanted:
                safe = normalise_member(path)
                info = members.get(safe) if safe else None
                if info is None:
                    header = COLUMN_BY_CODE["main_file" if role == VersionFile.Role.MAIN else "attachments"].header
                    errors.append(f"{header}：" + (_("“%(name)s” is not in the ZIP archive.") % {"name": path}))
                else:
                    entries.append((info, role, safe.rsplit("/", 1)[-1]))
            if errors:
                report.messages = errors
                continue
            try:
                # Files first, outside any transaction (inspection, virus scan, move); then the row's records in one
                # short transaction. Blobs of a row that fails afterwards stay unreferenced (content-addressed).
                stored = [(store_stream(stream_entry(zf, info, budget), original_name=name), role, name)
                          for info, role, name in entries]
                with transaction.atomic():
                    resource = services.create_resource(library, metadata, by=by)
                    for blob, role, name in stored:
                        services.attach_file(resource.latest_version, blob, role=role, original_name=name, by=by)
            except DomainError as exc:
                report.messages = _service_messages(exc)
            except ArchiveRefused as exc:
                report.messages = [str(exc.message)]
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                report.messages = [_("A file of this row could not be read from the archive (%(error)s).")
                                   % {"error": type(exc).__name__}]
            else:
                report.resource_id = resource.pk
    finally:
        if zf is not None:
            zf.close()
    return result
