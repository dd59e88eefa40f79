"""Bulk import: template, good and bad rows, whole-row rollback, unsafe archives, malformed sheets, the page."""

import decimal
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from reslib.libraries.models import Library
from reslib.resources import bulk_import, services
from reslib.resources.models import Blob, Resource, ResourceVersion, VersionFile

from .. import factories
from .test_views import make_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


def sheet_from_template(library, rows: list[dict]) -> SimpleUploadedFile:
    wb = load_workbook(io.BytesIO(bulk_import.build_template(library)))
    ws = wb.worksheets[0]
    codes = [c.value for c in ws[2]]
    for r, row in enumerate(rows, start=bulk_import.FIRST_DATA_ROW):
        for code, value in row.items():
            ws.cell(row=r, column=codes.index(code) + 1, value=value)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("资源.xlsx", out.getvalue())


def make_zip(entries: dict, *, compression=zipfile.ZIP_DEFLATED) -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in entries.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"x")
            else:
                zf.writestr(name, data)
    return SimpleUploadedFile("files.zip", out.getvalue())


def row(library, **overrides):
    lead_host = library.hosts.order_by("position").first().organization
    data = {
        "title": "数控车床对刀讲义", "resource_type": "文本", "major": library.core_major.code,
        "originality": "原创", "licence": "CC BY 4.0", "contributing_org": lead_host.name,
        "copyright_holder_org": lead_host.credit_code, "authors": "王建国（江苏信息职业技术学院）；李明",
        "keywords": "数控，对刀", "audience": "在校学生", "main_file": "docs/讲义.pdf",
    }
    data.update(overrides)
    return data


def run(library, user, rows, files=None):
    archive = make_zip(files) if files is not None else None
    return bulk_import.run_import(library, sheet=sheet_from_template(library, rows), archive=archive, by=user)


def test_template_has_chinese_headers_codes_and_dropdowns(building):
    wb = load_workbook(io.BytesIO(bulk_import.build_template(building)))
    ws = wb.worksheets[0]
    assert ws["A1"].value == "标题 *" and ws["A2"].value == "title"
    assert ws.row_dimensions[2].hidden
    assert ws.data_validations.dataValidation  # dropdowns for type, licence, originality…
    assert "lists" in wb.sheetnames and "填写说明" in wb.sheetnames
    lists = wb["lists"]
    assert "视频" in [c.value for c in lists["A"]]


def test_good_and_bad_rows_each_on_their_own(building, lead, second_college):
    point = services.add_knowledge_point(building, by=lead, name="对刀操作")
    pdf = make_pdf("讲义")
    result = run(building, lead, [
        row(building, knowledge_points="对刀操作", attachments="docs/字幕.srt"),
        row(building, title="外部课程", resource_type="外部链接", external_url="https://www.icve.com.cn/x",
            main_file=""),
        row(building, title="专业不对", major="460103"),
        row(building, title="缺文件", main_file="docs/不存在.pdf"),
        row(building, title="价格不是数字", price_mode="付费", price="很贵"),
        row(building, title="服务层拒绝", originality="改编", source=""),
        # Created, then the file attach fails (external links take no files): the whole row is rolled back.
        row(building, title="回滚的链接", resource_type="外部链接", external_url="https://example.org/"),
    ], {"docs/讲义.pdf": pdf, "docs/字幕.srt": "1\n00:00:01,000 --> 00:00:02,000\n你好\n".encode()})
    assert result.error is None
    by_title = {r.title: r for r in result.rows}
    assert by_title["数控车床对刀讲义"].ok and by_title["外部课程"].ok
    assert [r.row for r in result.rows] == [3, 4, 5, 6, 7, 8, 9]
    assert "核心专业或服务专业" in by_title["专业不对"].messages[0]
    assert "不存在.pdf" in by_title["缺文件"].messages[0]
    assert "不是数字" in by_title["价格不是数字"].messages[0]
    assert any("来源" in m for m in by_title["服务层拒绝"].messages)
    assert not by_title["回滚的链接"].ok and by_title["回滚的链接"].messages
    assert result.created == 2 and result.failed == 5
    assert Resource.objects.count() == 2
    assert not ResourceVersion.objects.filter(title="回滚的链接").exists()
    good = Resource.objects.get(pk=by_title["数控车床对刀讲义"].resource_id).latest_version
    assert good.state == ResourceVersion.State.DRAFT
    assert [a.name for a in good.authors.order_by("position")] == ["王建国", "李明"]
    assert good.authors.order_by("position").first().institution == "江苏信息职业技术学院"
    assert list(good.knowledge_points.all()) == [point]
    assert {(f.role, f.original_name) for f in good.files.all()} == {("main", "讲义.pdf"), ("attachment", "字幕.srt")}
    assert good.files.get(role="main").blob.sha256


@pytest.mark.parametrize("name", ["../evil.pdf", "/etc/passwd", "C:/Windows/evil.pdf", "docs/../../evil.pdf",
                                  "..\\evil.pdf"])
def test_path_traversal_refuses_the_whole_archive(building, lead, name):
    result = run(building, lead, [row(building)], {"docs/讲义.pdf": make_pdf(), name: b"x"})
    assert result.error and "压缩包以外" in str(result.error) and result.error_field == "archive"
    assert not Resource.objects.exists() and not Blob.objects.exists()


def test_symlink_and_encrypted_entries_are_refused(building, lead):
    link = zipfile.ZipInfo("docs/link.pdf")
    link.external_attr = (0o120777 << 16)
    result = run(building, lead, [row(building)], {"docs/讲义.pdf": make_pdf(), "link": link})
    assert result.error and "符号链接" in str(result.error)
    # zipfile cannot write encrypted entries: set the "encrypted" flag in the central directory by hand.
    raw = make_zip({"docs/讲义.pdf": make_pdf(), "docs/locked.pdf": b"secret"}).read()
    header = raw.rindex(b"PK\x01\x02")
    flags = int.from_bytes(raw[header + 8:header + 10], "little") | 0x1
    raw = raw[:header + 8] + flags.to_bytes(2, "little") + raw[header + 10:]
    result = bulk_import.run_import(building, sheet=sheet_from_template(building, [row(building)]),
                                    archive=SimpleUploadedFile("locked.zip", raw), by=lead)
    assert result.error and "加密" in str(result.error)
    assert not Resource.objects.exists()


def test_zip_bomb_is_refused_before_reading(building, lead):
    bomb = b"\0" * (bulk_import.BOMB_MIN_BYTES + 1024 * 1024)
    result = run(building, lead, [row(building, main_file="bomb.pdf")], {"bomb.pdf": bomb})
    assert result.error and "压缩炸弹" in str(result.error)
    assert not Resource.objects.exists() and not Blob.objects.exists()


def test_inflation_is_checked_while_streaming(building, lead, monkeypatch):
    # The header check passes (below the thresholds); then the thresholds shrink, as for a lying header.
    data = b"\0" * (3 * 1024 * 1024)
    archive = make_zip({"big.pdf": data})
    zf = zipfile.ZipFile(archive.file)
    members = bulk_import.check_archive(zf, max_total=10**9)
    monkeypatch.setattr(bulk_import, "BOMB_MIN_BYTES", 1024 * 1024)
    with pytest.raises(bulk_import.ArchiveRefused):
        for _chunk in bulk_import.stream_entry(zf, members["big.pdf"], bulk_import._Budget(10**9)):
            pass
    # In an import whose header check passes (a lying header), the row is refused while streaming and nothing of
    # it is left behind.
    real_check = bulk_import.check_archive

    def lying_header(zf, **kwargs):
        monkeypatch.setattr(bulk_import, "BOMB_MIN_BYTES", 10**12)
        try:
            return real_check(zf, **kwargs)
        finally:
            monkeypatch.setattr(bulk_import, "BOMB_MIN_BYTES", 1024 * 1024)

    monkeypatch.setattr(bulk_import, "check_archive", lying_header)
    result = run(building, lead, [row(building, main_file="big.pdf")], {"big.pdf": data})
    assert not result.error
    assert result.rows[0].resource_id is None and "压缩炸弹" in " ".join(map(str, result.rows[0].messages))
    assert not Resource.objects.exists() and not Blob.objects.exists()


def test_too_many_entries_and_total_size(building, lead, monkeypatch, settings):
    monkeypatch.setattr(bulk_import, "MAX_ENTRIES", 3)
    result = run(building, lead, [row(building)], {f"f{i}.txt": b"x" for i in range(5)})
    assert result.error and "最多允许 3 个" in str(result.error)
    settings.RESLIB_MAX_UPLOAD_BYTES = 1000
    result = run(building, lead, [row(building)], {"docs/讲义.pdf": b"y" * 2000})
    assert result.error and "总大小" in str(result.error)
    assert not Resource.objects.exists()


def test_not_a_zip_and_not_an_xlsx(building, lead):
    result = bulk_import.run_import(building, sheet=sheet_from_template(building, [row(building)]),
                                    archive=SimpleUploadedFile("a.zip", b"not a zip"), by=lead)
    assert result.error and "ZIP" in str(result.error)
    result = bulk_import.run_import(building, sheet=SimpleUploadedFile("a.xlsx", b"garbage"), archive=None, by=lead)
    assert result.error and result.error_field == "sheet"
    assert not Resource.objects.exists()


def test_missing_columns_are_reported(building, lead):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["标题", "资源类型"])
    wb.active.append(["某资源", "视频"])
    out = io.BytesIO()
    wb.save(out)
    result = bulk_import.run_import(building, sheet=SimpleUploadedFile("a.xlsx", out.getvalue()), by=lead)
    assert result.error and "缺少必填列" in str(result.error) and "专业" in str(result.error)


def test_wrong_values_reported_row_by_row(building, lead):
    result = run(building, lead, [
        row(building, resource_type="全息投影", main_file=""),
        row(building, audience="外星人", contributing_org="不存在的学院", main_file=""),
        row(building, main_file=""),
    ], {})
    assert [r.ok for r in result.rows] == [False, False, True]
    assert "全息投影" in result.rows[0].messages[0]
    assert len(result.rows[1].messages) == 2
    assert Resource.objects.count() == 1


def test_price_out_of_range_is_reported_for_its_row_only(building, lead):
    result = run(building, lead, [
        row(building, title="天价讲义", price_mode="付费", price=123456789, main_file=""),
        row(building, title="三位小数", price_mode="付费", price="19.999", main_file=""),
        row(building, title="负价", price_mode="付费", price=-5, main_file=""),
        row(building, title="无穷", price_mode="付费", price="Infinity", main_file=""),
        row(building, title="正常付费讲义", price_mode="付费", price=19.9, main_file=""),
    ])
    assert result.error is None
    by_title = {r.title: r for r in result.rows}
    for title in ("天价讲义", "三位小数", "负价"):
        assert not by_title[title].ok
        assert by_title[title].messages == ["价格（元）：价格须为 0.01 至 999999.99 元之间的金额，最多两位小数。"]
    assert not by_title["无穷"].ok and "不是数字" in by_title["无穷"].messages[0]
    assert by_title["正常付费讲义"].ok and result.created == 1
    assert list(ResourceVersion.objects.values_list("title", "price")) == [("正常付费讲义", decimal.Decimal("19.90"))]
    listed = Client()
    listed.force_login(lead)
    assert listed.get(reverse("resources:list", args=[building.pk])).status_code == 200


def test_outsider_cannot_import(building, outsider):
    result = run(building, outsider, [row(building, main_file="")], {})
    assert result.error and not Resource.objects.exists()


# --- the page -----------------------------------------------------------------------------------------------------


def test_import_page_report_and_downloads(building, lead, outsider):
    client = Client()
    client.force_login(lead)
    url = reverse("resources:import", args=[building.pk])
    assert client.get(url).status_code == 200
    template = client.get(reverse("resources:import_template", args=[building.pk]))
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.post(url, {
        "sheet": sheet_from_template(building, [row(building), row(building, title="错误行", major="999999")]),
        "archive": make_zip({"docs/讲义.pdf": make_pdf()}),
    })
    assert response.status_code == 200
    body = response.content.decode()
    created = Resource.objects.get()
    assert reverse("resources:detail", args=[created.pk]) in body and "错误行" in body and "未导入" in body
    report = client.get(reverse("resources:import_report", args=[building.pk]))
    ws = load_workbook(io.BytesIO(report.content)).active
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert values[0][2] == "已创建为草稿" and values[1][2] == "未导入" and "999999" in values[1][4]
    bad = client.post(url, {"sheet": sheet_from_template(building, [row(building)]),
                            "archive": make_zip({"../x.pdf": b"x"})})
    assert bad.status_code == 400 and "field-error" in bad.content.decode()
    other = Client()
    other.force_login(outsider)
    assert other.get(url).status_code == 403
    assert other.get(reverse("resources:import_template", args=[building.pk])).status_code == 403
    assert VersionFile.objects.count() == 1


# --- formula injection ----------------------------------------------------------------------------------------------

FORMULA_TITLES = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "＝1+1", "#N/A"]


def as_text_cells(upload: SimpleUploadedFile) -> SimpleUploadedFile:
    """The sheet as a person types it in Excel: every value they typed is text, none a formula."""
    wb = load_workbook(io.BytesIO(upload.read()))
    for cells in wb.worksheets[0].iter_rows(min_row=bulk_import.FIRST_DATA_ROW):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("资源.xlsx", out.getvalue())


def test_exported_sheets_keep_formula_like_text_as_text(building, lead, outsider):
    services.add_knowledge_point(building, by=lead, name=FORMULA_TITLES[0])
    client = Client()
    client.force_login(lead)
    rows = [row(building, title=title, resource_type="外部链接", external_url="https://www.icve.com.cn/x",
                main_file="") for title in FORMULA_TITLES]
    response = client.post(reverse("resources:import", args=[building.pk]),
                           {"sheet": as_text_cells(sheet_from_template(building, rows))})
    assert response.status_code == 200
    assert sorted(Resource.objects.values_list("versions__title", flat=True)) == sorted(FORMULA_TITLES)

    report = load_workbook(io.BytesIO(client.get(reverse("resources:import_report", args=[building.pk])).content))
    titles = [r[1] for r in report.active.iter_rows(min_row=2)]
    assert [c.value for c in titles] == FORMULA_TITLES  # shown unchanged …
    assert {c.data_type for c in titles} == {"s"}  # … as text: no formula, no error value
    assert all(c.quotePrefix for c in titles if c.value != "#N/A")  # and still text when someone edits the cell
    assert not [c for r in report.active.iter_rows() for c in r if c.data_type == "f"]

    template = load_workbook(io.BytesIO(client.get(reverse("resources:import_template", args=[building.pk])).content))
    point = [c for r in template["填写说明"].iter_rows() for c in r if c.value == FORMULA_TITLES[0]]
    assert len(point) == 1 and point[0].data_type == "s" and point[0].quotePrefix
    assert not [c for ws in template.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"]

    other = Client()
    other.force_login(outsider)
    assert other.get(reverse("resources:import_report", args=[building.pk])).status_code == 403
    assert other.get(reverse("resources:import_template", args=[building.pk])).status_code == 403
