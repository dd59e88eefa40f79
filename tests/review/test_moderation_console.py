"""The emergency action (preview == executed, one batch audit entry + one per resource, refusals), the operator's
console pages (moderated resources, word list with import, negative list) and refusals of non-operators."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reslib.accounts import services as account_services
from reslib.core.errors import Conflict, PermissionDenied
from reslib.core.models import AuditEntry
from reslib.resources.models import Resource
from reslib.review import moderation
from reslib.review.moderation_models import EmergencyAction, NegativeListEntry, SensitiveWord

from .moderation_support import (  # noqa: F401  (fixtures)
    building,
    client_for,
    file_resource,
    isolated_storage,
    make_pdf,
    member_builder,
    other_library,
    publish,
    reviewer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_storage")]


@pytest.fixture
def corpus(building, lead, reviewer, member_builder, other_library, outsider):
    """Published resources: 3 mention 刷单 (one with an evasion), 2 share a file, 1 by the builder."""
    shared = make_pdf("共享文件")
    made = {
        "a": publish(file_resource(building, lead, title="警惕刷单诈骗"), lead, reviewer),
        "b": publish(file_resource(building, lead, title="防骗课堂", description="网络刷 单的常见套路"), lead,
                     reviewer),
        "c": publish(file_resource(building, lead, title="案例", keywords=["刷单"]), lead, reviewer),
        "d": publish(file_resource(building, lead, title="讲义一", content=shared), lead, reviewer),
        "e": file_resource(other_library, outsider, title="外校讲义", content=shared),
        "f": publish(file_resource(building, member_builder, title="建设者的资源"), member_builder, reviewer),
        "clean": publish(file_resource(building, lead, title="正常资源"), lead, reviewer),
    }
    return made


def test_emergency_keyword_preview_equals_execution_with_audit(corpus, operator):
    preview = moderation.emergency_preview(by=operator, kind="keyword", value="刷单")
    assert preview.count == 3
    assert {r.pk for r in preview.sample} == {corpus["a"].pk, corpus["b"].pk, corpus["c"].pk}
    before = AuditEntry.objects.count()
    batch = moderation.emergency_block(by=operator, kind="keyword", value="刷单", reason_category="illegal",
                                       reason="专项整治", expected_count=preview.count)
    assert batch.count == preview.count == 3
    assert set(Resource.objects.filter(moderation_state="blocked").values_list("pk", flat=True)) == {
        corpus["a"].pk, corpus["b"].pk, corpus["c"].pk}
    entries = AuditEntry.objects.order_by("id")[before:]
    actions = sorted(e.action for e in entries)
    assert actions == ["moderation.block"] * 3 + ["moderation.emergency_block"]
    batch_entry = AuditEntry.objects.get(action="moderation.emergency_block")
    assert batch_entry.after["count"] == 3 and batch_entry.after["kind"] == "keyword"
    assert batch_entry.after["value"] == "刷单" and batch_entry.reason == "专项整治"
    assert all(e.after["emergency_action"] == batch.pk for e in AuditEntry.objects.filter(action="moderation.block"))
    # Already blocked resources are not matched again.
    assert moderation.emergency_preview(by=operator, kind="keyword", value="刷单").count == 0


def test_emergency_by_file_hash_and_uploader(corpus, operator, member_builder):
    sha = corpus["d"].published_version.files.get().blob.sha256
    preview = moderation.emergency_preview(by=operator, kind="file_hash", value=sha.upper())
    assert preview.count == 2  # platform-wide, drafts included
    batch = moderation.emergency_block(by=operator, kind="file_hash", value=sha, reason_category="infringement",
                                       reason="盗版", expected_count=2)
    assert batch.count == 2
    assert set(Resource.objects.filter(moderation_state="blocked").values_list("pk", flat=True)) == {
        corpus["d"].pk, corpus["e"].pk}
    preview = moderation.emergency_preview(by=operator, kind="uploader", value="BUILDER")
    assert [r.pk for r in preview.sample] == [corpus["f"].pk]


def test_emergency_block_queries_grow_little_per_resource(corpus, operator):
    """Titles, lead lists and locks are read once per batch, not once per blocked resource."""
    def block(uploader):
        with CaptureQueriesContext(connection) as queries:
            batch = moderation.emergency_block(by=operator, kind="uploader", value=uploader,
                                               reason_category="illegal", reason="专项整治")
        return batch.count, len(queries)

    one, few = block("builder")
    five, many = block("lead")
    assert (one, five) == (1, 5)
    # Per resource: its update, its audit entry and its lead's notification (savepoint, insert, release).
    assert (many - few) / (five - one) <= 5


def test_emergency_refuses_a_changed_match_set_and_non_operators(corpus, operator, lead):
    with pytest.raises(Conflict):
        moderation.emergency_block(by=operator, kind="keyword", value="刷单", reason_category="illegal",
                                   reason="专项整治", expected_count=2)
    assert not Resource.objects.filter(moderation_state="blocked").exists()
    assert not EmergencyAction.objects.exists()
    for user in (lead,):
        with pytest.raises(PermissionDenied):
            moderation.emergency_preview(by=user, kind="keyword", value="刷单")
        with pytest.raises(PermissionDenied):
            moderation.emergency_block(by=user, kind="keyword", value="刷单", reason_category="illegal",
                                       reason="x")


def test_emergency_api(corpus, operator, lead):
    _t, op = account_services.create_api_token(operator, name="op")
    _t, other = account_services.create_api_token(lead, name="lead")
    client = client_for(None)

    def post(url, data, token):
        return client.post(url, json.dumps(data), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")

    assert post("/api/v1/moderation/emergency/preview", {"kind": "keyword", "value": "刷单"}, other).status_code == 403
    preview = post("/api/v1/moderation/emergency/preview", {"kind": "keyword", "value": "刷单"}, op).json()
    assert preview["count"] == 3 and len(preview["sample"]) == 3
    body = {"kind": "keyword", "value": "刷单", "reason_category": "illegal", "reason": "专项整治",
            "expected_count": preview["count"]}
    assert post("/api/v1/moderation/emergency", body, other).status_code == 403
    done = post("/api/v1/moderation/emergency", body, op)
    assert done.status_code == 201 and done.json()["count"] == 3


def test_emergency_page_preview_then_confirm(corpus, operator):
    client = client_for(operator)
    url = reverse("moderation:emergency")
    preview = client.get(url, {"kind": "keyword", "value": "刷单"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "3 个资源将被阻断" in html and "警惕刷单诈骗" in html
    missing = client.post(url, {"kind": "keyword", "value": "刷单", "expected_count": 3, "reason_category": "",
                                "reason": ""})
    assert missing.status_code == 400 and "请选择原因类别" in missing.content.decode()
    done = client.post(url, {"kind": "keyword", "value": "刷单", "expected_count": 3,
                             "reason_category": "illegal", "reason": "专项整治"})
    assert done.status_code == 302
    assert Resource.objects.filter(moderation_state="blocked").count() == 3


# --- console pages ------------------------------------------------------------------------------------------------

PAGES = ["moderation:console", "moderation:emergency", "moderation:words", "moderation:negative_list"]


@pytest.mark.parametrize("name", PAGES)
def test_console_pages_refuse_non_operators(name, lead, outsider, operator, province_admin):
    url = reverse(name)
    assert client_for(None).get(url).status_code == 302  # to the login page
    for user in (lead, outsider, province_admin):
        assert client_for(user).get(url).status_code == 403
    assert client_for(operator).get(url).status_code == 200


def test_post_actions_refuse_non_operators(corpus, lead, outsider):
    word = SensitiveWord.objects.create(word="刷单", normalised="刷单", level="flag")
    for user in (lead, outsider):
        client = client_for(user)
        assert client.post(reverse("moderation:words"), {"word": "新词", "category": "other",
                                                         "level": "flag"}).status_code == 403
        assert client.post(reverse("moderation:word_toggle", args=[word.pk]), {"active": "0"}).status_code == 403
        assert client.post(reverse("moderation:resource", args=[corpus["a"].pk]),
                           {"action": "block", "reason_category": "illegal", "reason": "x"}).status_code == 403
        assert client.post(reverse("moderation:emergency"), {"kind": "keyword", "value": "刷单", "expected_count": 3,
                                                             "reason_category": "illegal",
                                                             "reason": "x"}).status_code == 403
    assert SensitiveWord.objects.count() == 1 and SensitiveWord.objects.get().active
    assert not Resource.objects.filter(moderation_state="blocked").exists()


def test_resource_action_page_blocks_and_lists_the_trail(corpus, operator):
    client = client_for(operator)
    url = reverse("moderation:resource", args=[corpus["a"].pk])
    missing = client.post(url, {"action": "block", "reason_category": "", "reason": ""})
    assert missing.status_code == 400 and "请填写理由" in missing.content.decode()
    assert client.post(url, {"action": "block", "reason_category": "vulgar", "reason": "低俗内容"}).status_code == 302
    console = client.get(reverse("moderation:console"), {"state": "blocked"})
    html = console.content.decode()
    assert "警惕刷单诈骗" in html and "低俗不良" in html and "moderation.block" in html


def test_console_queries_do_not_grow_with_rows(corpus, operator):
    client = client_for(operator)
    for key in ("a", "b"):
        moderation.moderate(corpus[key], "restrict", by=operator, reason_category="other", reason="检查")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("moderation:console"))
    for key in ("c", "d", "f", "clean"):
        moderation.moderate(corpus[key], "block", by=operator, reason_category="other", reason="检查")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("moderation:console"))
    assert len(many) == len(few)


def test_word_list_add_import_deactivate(operator):
    client = client_for(operator)
    url = reverse("moderation:words")
    assert client.post(url, {"form": "add", "word": "刷单", "category": "illegal", "level": "block"}).status_code == 302
    duplicate = client.post(url, {"form": "add", "word": "刷 单", "category": "illegal", "level": "block"})
    assert duplicate.status_code == 400 and "该词已在词库中" in duplicate.content.decode()
    upload = SimpleUploadedFile("words.csv", "# 词库\n刷单,广告,flag\n代开发票,广告\n博彩,违法,block\n坏词,未知类别\n"
                                .encode("utf-8"))
    response = client.post(url, {"form": "import", "file": upload, "category": "other", "level": "flag"})
    assert response.status_code == 200  # stays on the page to show the line with an error
    assert "未知类别" in response.content.decode()
    words = {w.word: (w.category, w.level) for w in SensitiveWord.objects.all()}
    assert words == {"刷单": ("advertising", "flag"), "代开发票": ("advertising", "flag"),
                     "博彩": ("illegal", "block")}
    import_entry = AuditEntry.objects.get(action="moderation.word_import")
    assert import_entry.after == {"added": 2, "updated": 1, "unchanged": 0, "errors": 1}
    word = SensitiveWord.objects.get(word="博彩")
    client.post(reverse("moderation:word_toggle", args=[word.pk]), {"active": "0"})
    word.refresh_from_db()
    assert not word.active
    listed = '<span class="mod-context">博彩</span>'
    assert listed not in client.get(url).content.decode()
    assert listed in client.get(url, {"active": "inactive"}).content.decode()


def test_negative_list_page(operator):
    client = client_for(operator)
    url = reverse("moderation:negative_list")
    bad = client.post(url, {"kind": "file_hash", "value": "xyz"})
    assert bad.status_code == 400 and "SHA-256" in bad.content.decode()
    assert client.post(url, {"kind": "source_domain", "value": "https://Bad.Example.com/a",
                             "note": "盗版站"}).status_code == 302
    entry = NegativeListEntry.objects.get()
    assert entry.value == "bad.example.com"
    client.post(reverse("moderation:negative_toggle", args=[entry.pk]), {"active": "0"})
    entry.refresh_from_db()
    assert not entry.active


def test_withdrawal_page_for_the_library(corpus, lead, reviewer, outsider):
    url = reverse("moderation:withdrawal", args=[corpus["a"].pk])
    assert client_for(reviewer).get(url).status_code == 403
    assert client_for(outsider).post(url, {"reason": "x"}).status_code == 403
    client = client_for(lead)
    empty = client.post(url, {"reason": ""})
    assert empty.status_code == 400 and "请填写理由" in empty.content.decode()
    assert client.post(url, {"reason": "内容过时"}).status_code == 302
    corpus["a"].refresh_from_db()
    assert corpus["a"].withdrawn_at is not None
    assert client.post(url, {"reason": ""}).status_code == 302  # reinstating needs no reason
    corpus["a"].refresh_from_db()
    assert corpus["a"].withdrawn_at is None
