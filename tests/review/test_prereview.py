"""Machine pre-review: sensitive words in metadata and file text (each format), duplicates, negative list, the
machine findings, bounds, and the matcher cache following list changes."""

import io
import zipfile

import pytest

from reslib.resources import services
from reslib.resources.models import ResourceVersion
from reslib.review import moderation, prereview
from reslib.review.moderation_models import NegativeListEntry

from .. import factories
from ..resources import media
from .moderation_support import (  # noqa: F401  (fixtures)
    attach,
    building,
    file_resource,
    isolated_storage,
    make_pdf,
    member_builder,
    other_library,
    pdf_with_text,
    reviewer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_storage")]


@pytest.fixture
def words(operator):
    moderation.add_word(by=operator, word="赌博", category="illegal", level="block")
    moderation.add_word(by=operator, word="代开发票", category="advertising", level="flag")
    moderation.add_word(by=operator, word="casino", category="illegal", level="flag")


def hits_of(version, kind=None):
    hits = prereview.run_prereview(version)
    return [h for h in hits if kind is None or h["kind"] == kind]


def test_metadata_hits_carry_field_level_match_and_context(building, lead, words):
    resource = factories.resource(
        building, lead, title="反赌 博宣传微课", description="本资源提醒学生：不要相信代开发票的广告，远离网络赌博。",
        keywords=["安全", "CASINO"], source="")
    hits = hits_of(resource.latest_version, "sensitive_word")
    by_field = {(h["field"], h["word"]): h for h in hits}
    title = by_field[("title", "赌博")]
    assert title["level"] == "block" and title["match"] == "赌 博" and title["context"] == "反赌 博宣传微课"
    assert title["category"] == "illegal" and prereview.category_label(title) == "违法活动"
    description = by_field[("description", "代开发票")]
    assert description["level"] == "flag" and "不要相信代开发票的广告" in description["context"]
    assert by_field[("description", "赌博")]["level"] == "block"
    assert by_field[("keywords", "casino")]["match"] == "CASINO"
    assert prereview.has_blocking(hits)
    # blocking hits come first
    all_hits = prereview.run_prereview(resource.latest_version)
    assert all_hits[0]["level"] == "block"


def test_authors_and_source_are_scanned(building, lead, words):
    from reslib.resources.services import Author

    resource = factories.resource(building, lead, originality="quoted", source="转载自某赌博网站",
                                  authors=[Author(name="代开发票小王", institution="某公司")])
    fields = {h["field"] for h in hits_of(resource.latest_version, "sensitive_word")}
    assert {"source", "authors"} <= fields


def test_a_questions_choices_answers_and_analysis_are_scanned(building, lead, words):
    """Matches are shown to every learner, reference answers and analyses after a paper: all of it is reviewed."""
    from reslib.questions.models import QuestionType

    from ..questions.factories import published_question

    matching = published_question(building, lead, QuestionType.MATCHING, options=["甲", "乙"],
                                  answer=["代开发票", "正规发票"], analysis="不要参与赌博。")
    blanks = published_question(building, lead, QuestionType.FILL_BLANK, stem="填写：___", answer=[["casino", "赌场"]])
    by_field = {(h["field"], h["word"]) for h in hits_of(matching.version, "sensitive_word")}
    assert {("question_answer", "代开发票"), ("question_analysis", "赌博")} <= by_field
    assert ("question_answer", "casino") in {(h["field"], h["word"]) for h in hits_of(blanks.version, "sensitive_word")}


def test_clean_version_has_no_word_hits(building, lead, words):
    resource = factories.resource(building, lead)
    assert hits_of(resource.latest_version, "sensitive_word") == []


@pytest.mark.parametrize("kind", ["pdf", "docx", "pptx", "xlsx", "srt", "vtt", "txt"])
def test_text_is_extracted_from_each_format(building, lead, words, tmp_path, kind):
    if kind == "pdf":
        content, name = pdf_with_text("Welcome to the casino tonight"), "handout.pdf"
    elif kind == "docx":
        content, name = media.docx(tmp_path, text="课堂讨论：如何识别网络赌博陷阱").read_bytes(), "plan.docx"
    elif kind == "pptx":
        path = media.pptx(tmp_path)
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("ppt/slides/slide3.xml", '<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>远离赌</a:t></a:r>'
                                                 '<a:r><a:t>博</a:t></a:r></a:p></p:sld>')
        content, name = path.read_bytes(), "slides.pptx"
    elif kind == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.append(["案例", "某网站提供代开发票服务"])
        out = io.BytesIO()
        wb.save(out)
        content, name = out.getvalue(), "cases.xlsx"
    elif kind == "srt":
        content = "1\n00:00:00,000 --> 00:00:02,000\n今天讲网络赌博的危害\n".encode()
        name = "lesson.srt"
    elif kind == "vtt":
        content, name = "WEBVTT\n\n00:00.000 --> 00:01.000\n不要代开发票\n".encode(), "lesson.vtt"
    else:
        content, name = "第一章\n赌博的法律后果\n".encode("gb18030"), "notes.txt"
    resource = file_resource(building, lead, title="安全教育讲义", resource_type="text")
    attach(resource, lead, content, name)
    hits = [h for h in hits_of(resource.latest_version, "sensitive_word") if h["field"] == name]
    assert hits, f"no hit in {name}"
    assert all(h["context"] for h in hits)


def test_files_without_text_and_too_large_files_are_skipped(building, lead, words, settings, tmp_path):
    resource = file_resource(building, lead, title="安全教育讲义")
    attach(resource, lead, media.png_bytes(), "photo.png")
    attach(resource, lead, "网络赌博".encode(), "big.txt")
    settings.RESLIB_PREREVIEW_MAX_FILE_BYTES = 4
    assert hits_of(resource.latest_version, "sensitive_word") == []


def test_text_budget_bounds_the_scan(building, lead, words, settings):
    resource = file_resource(building, lead, title="安全教育讲义")
    attach(resource, lead, ("正常内容" * 500 + "赌博").encode(), "long.txt")
    settings.RESLIB_PREREVIEW_MAX_TEXT_BYTES = 1000
    assert hits_of(resource.latest_version, "sensitive_word") == []
    settings.RESLIB_PREREVIEW_MAX_TEXT_BYTES = 10_000
    assert [h["word"] for h in hits_of(resource.latest_version, "sensitive_word")] == ["赌博"]


def test_duplicates_within_the_library_and_platform_wide(building, lead, other_library, outsider):
    content = make_pdf("共享讲义")
    first = file_resource(building, lead, content=content, title="第一份讲义")
    same_library = file_resource(building, lead, content=content, title="第二份讲义")
    elsewhere = file_resource(other_library, outsider, content=content, title="外校讲义")
    hits = hits_of(first.latest_version, "duplicate")
    assert {(h["code"], h["resource_id"]) for h in hits} == {
        ("duplicate.library", same_library.pk), ("duplicate.platform", elsewhere.pk)}
    assert all(h["level"] == "flag" and h["field"] == "讲义.pdf" for h in hits)
    assert {h["match"] for h in hits} == {"第二份讲义", "外校讲义"}
    # A new version of the same resource keeps its file: that is not a duplicate.
    unique = file_resource(building, lead, content=make_pdf("独有"), title="独有讲义")
    assert hits_of(unique.latest_version, "duplicate") == []


def test_negative_list_file_hash_keyword_and_domains(building, lead, operator):
    content = make_pdf("负面清单文件")
    resource = file_resource(building, lead, content=content, title="某品牌推广课", originality="quoted",
                             source="转载自 https://www.bad-example.com/post/1")
    sha = resource.latest_version.files.get().blob.sha256
    moderation.add_negative_entry(by=operator, kind="file_hash", value=sha.upper(), note="盗版教材")
    moderation.add_negative_entry(by=operator, kind="keyword", value="某品牌", note="广告")
    moderation.add_negative_entry(by=operator, kind="source_domain", value="bad-example.com")
    hits = hits_of(resource.latest_version, "negative_list")
    codes = {h["code"]: h for h in hits}
    assert set(codes) == {"negative_list.file_hash", "negative_list.keyword", "negative_list.source_domain"}
    assert all(h["level"] == "block" for h in hits)
    assert codes["negative_list.file_hash"]["match"] == sha and codes["negative_list.file_hash"]["context"] == "盗版教材"
    assert codes["negative_list.keyword"]["field"] == "title"
    assert codes["negative_list.source_domain"]["match"] == "www.bad-example.com"

    link = factories.resource(building, lead, title="外部链接", resource_type="external_link",
                              external_url="https://sub.bad-example.com/x")
    assert [h["field"] for h in hits_of(link.latest_version, "negative_list")] == ["external_url"]
    fine = factories.resource(building, lead, title="外部链接", resource_type="external_link",
                              external_url="https://notbad-example.com/x")
    assert hits_of(fine.latest_version, "negative_list") == []


def test_negative_list_validation_and_refusal(operator, lead):
    from reslib.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        moderation.add_negative_entry(by=operator, kind="file_hash", value="abc")
    assert exc.value.errors[0][0] == "value"
    with pytest.raises(ValidationFailed):
        moderation.add_negative_entry(by=operator, kind="source_domain", value="not a domain")
    with pytest.raises(PermissionDenied):
        moderation.add_negative_entry(by=lead, kind="keyword", value="某品牌")
    assert NegativeListEntry.objects.count() == 0


def test_machine_findings_are_included(building, lead):
    resource = factories.resource(building, lead, resource_type="text")
    ResourceVersion.objects.filter(pk=resource.latest_version_id).update(check_findings=[
        {"level": "error", "code": "file.infected", "file": "a.pdf", "params": {"signature": "EICAR"}},
        {"level": "warning", "code": "video.bitrate_low", "file": "b.mp4", "params": {}},
    ])
    hits = {h["code"]: h for h in prereview.run_prereview(resource.latest_version)}
    assert hits["file.infected"]["kind"] == "virus" and hits["file.infected"]["level"] == "block"
    assert hits["video.bitrate_low"]["kind"] == "spec" and hits["video.bitrate_low"]["level"] == "flag"


def test_matcher_is_rebuilt_when_the_list_changes(building, lead, operator, django_assert_max_num_queries):
    resource = factories.resource(building, lead, title="新型诈骗手法解析")
    assert hits_of(resource.latest_version, "sensitive_word") == []
    word = moderation.add_word(by=operator, word="诈骗", category="illegal", level="flag")
    assert [h["word"] for h in hits_of(resource.latest_version, "sensitive_word")] == ["诈骗"]
    matcher = moderation.current_matcher()
    with django_assert_max_num_queries(1):  # cached: only the version counter is read
        assert moderation.current_matcher() is matcher
    moderation.set_word_active(word.pk, False, by=operator)
    assert hits_of(resource.latest_version, "sensitive_word") == []


def test_submitting_then_scanning_a_real_version(building, lead, reviewer, words):
    """The pre-review runs on a version in review exactly as on a draft."""
    resource = file_resource(building, lead, title="网络安全")
    attach(resource, lead, "不要赌博".encode(), "notes.txt")
    version = services.submit_version(resource.latest_version, by=lead, commitment_accepted=True)
    assert [h["field"] for h in hits_of(version, "sensitive_word")] == ["notes.txt"]
