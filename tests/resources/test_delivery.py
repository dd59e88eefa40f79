"""File delivery: Range/206/416/If-Range, validators and 304, HEAD, Content-Disposition, active content, X-Accel,
streaming without loading files, subtitles as WebVTT, QR codes."""

import hashlib
import io
import os
import re
import tracemalloc
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import RequestFactory
from django.urls import include, path
from django.utils.http import http_date

from reslib.resources import delivery
from reslib.resources.models import Blob
from reslib.resources.qr import qr_matrix, qr_svg

# --- a tiny URLconf: the caller view checks permission, then hands the blob to serve_blob ---------------------


def _download_view(request, pk):
    if not request.user.is_authenticated:  # the test's permission rule: signed-in users only
        raise PermissionDenied
    try:
        blob = Blob.objects.get(pk=pk)
    except Blob.DoesNotExist:
        raise Http404 from None
    return delivery.serve_blob(request, blob, filename=request.GET.get("name", "file.bin"),
                               as_attachment=request.GET.get("download") == "1",
                               content_type=request.GET.get("type") or None)


def _subtitle_view(request, pk):
    if not request.user.is_authenticated:
        raise PermissionDenied
    return delivery.serve_subtitle_vtt(request, Blob.objects.get(pk=pk))


urlpatterns = [
    path("blob/<int:pk>/", _download_view, name="blob"),
    path("vtt/<int:pk>/", _subtitle_view, name="vtt"),
    path("", include("reslib.urls")),  # the site's pages (error pages link to them)
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PAYLOAD = bytes(range(256)) * 40  # 10 240 bytes, every offset distinguishable


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_X_ACCEL_PREFIX = ""
    (tmp_path / "media").mkdir()
    return tmp_path / "media"


def make_blob(content: bytes = PAYLOAD, *, mime_type="application/pdf", kind="pdf") -> Blob:
    digest = hashlib.sha256(content).hexdigest()
    name = f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    default_storage.save(name, io.BytesIO(content))
    return Blob.objects.create(sha256=digest, size=len(content), storage_name=name, mime_type=mime_type, kind=kind)


def big_blob(media_root, size: int) -> Blob:
    """A large file written straight to disk (sparse, with marks), never built in memory."""
    digest = hashlib.sha256(f"big-{size}".encode()).hexdigest()
    name = f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    full = media_root / name
    full.parent.mkdir(parents=True)
    with open(full, "wb") as fh:
        fh.truncate(size)
        for offset in (0, size // 2, size - 16):
            fh.seek(offset)
            fh.write(offset.to_bytes(16, "big"))
    return Blob.objects.create(sha256=digest, size=size, storage_name=name, mime_type="video/mp4", kind="video")


@pytest.fixture
def signed_in(client, builder):
    client.force_login(builder)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def url(blob, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/blob/{blob.pk}/" + (f"?{query}" if query else "")


# --- permission is the caller's, on every request ------------------------------------------------------------


def test_anonymous_user_is_refused_even_with_a_range(client):
    blob = make_blob()
    response = client.get(url(blob), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 403
    assert b"".join(response) != PAYLOAD[:10]


# --- full responses and validators ----------------------------------------------------------------------------


def test_full_response_headers_and_body(signed_in):
    blob = make_blob()
    response = signed_in.get(url(blob))
    assert response.status_code == 200
    assert response.streaming
    assert body(response) == PAYLOAD
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(PAYLOAD))
    assert response["ETag"] == f'"sha256-{blob.sha256[:32]}"'
    assert response["Last-Modified"] == http_date(int(blob.created_at.timestamp()))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Content-Disposition"] == 'inline; filename="file.bin"'
    assert "Content-Range" not in response


def test_if_none_match_and_if_modified_since_answer_304(signed_in):
    blob = make_blob()
    etag = delivery.blob_etag(blob)
    response = signed_in.get(url(blob), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag and response["Cache-Control"] == "private, no-cache"
    assert response.content == b""
    assert signed_in.get(url(blob), HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert signed_in.get(url(blob), HTTP_IF_NONE_MATCH='"sha256-other"').status_code == 200

    later = http_date(int(blob.created_at.timestamp()) + 60)
    earlier = http_date(int(blob.created_at.timestamp()) - 60)
    assert signed_in.get(url(blob), HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    assert signed_in.get(url(blob), HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_if_match_failure_is_412(signed_in):
    blob = make_blob()
    assert signed_in.get(url(blob), HTTP_IF_MATCH='"sha256-nope"').status_code == 412


def test_head_sends_headers_without_body():
    blob = make_blob()
    request = RequestFactory().head("/x", HTTP_RANGE="bytes=10-19")
    response = delivery.serve_blob(request, blob, filename="a.pdf", as_attachment=False)
    assert response.status_code == 206
    assert response.content == b""
    assert response["Content-Length"] == "10"
    assert response["Content-Range"] == f"bytes 10-19/{len(PAYLOAD)}"
    full = delivery.serve_blob(RequestFactory().head("/x"), blob, filename="a.pdf", as_attachment=False)
    assert (full.status_code, full.content, full["Content-Length"]) == (200, b"", str(len(PAYLOAD)))


def test_other_methods_are_not_allowed():
    blob = make_blob()
    response = delivery.serve_blob(RequestFactory().post("/x"), blob, filename="a.pdf", as_attachment=False)
    assert response.status_code == 405


# --- ranges ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(PAYLOAD) - 1),
        ("bytes=-50", len(PAYLOAD) - 50, len(PAYLOAD) - 1),
        ("bytes=5000-999999", 5000, len(PAYLOAD) - 1),  # end clipped to the file
        ("bytes=-999999", 0, len(PAYLOAD) - 1),  # suffix longer than the file: all of it
        ("bytes= 7 - 7", 7, 7),
    ],
)
def test_single_ranges_answer_206_with_exact_bytes(signed_in, header, start, end):
    blob = make_blob()
    response = signed_in.get(url(blob), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == PAYLOAD[start:end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert response["Content-Length"] == str(end - start + 1)


def test_multiple_ranges_answer_the_first_satisfiable_one(signed_in):
    blob = make_blob()
    response = signed_in.get(url(blob), HTTP_RANGE="bytes=999999-, 10-19, 30-39")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{len(PAYLOAD)}"
    assert body(response) == PAYLOAD[10:20]


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=10240-", "bytes=-0"])
def test_unsatisfiable_range_is_416(signed_in, header):
    blob = make_blob()
    response = signed_in.get(url(blob), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(PAYLOAD)}"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-9", "bytes=9-1", "bytes=", "bytes=-", "0-9"])
def test_malformed_range_is_ignored(signed_in, header):
    blob = make_blob()
    response = signed_in.get(url(blob), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == PAYLOAD


def test_if_range_with_matching_etag_or_date_applies_the_range(signed_in):
    blob = make_blob()
    etag = delivery.blob_etag(blob)
    by_tag = signed_in.get(url(blob), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert by_tag.status_code == 206 and body(by_tag) == PAYLOAD[:10]
    date = http_date(int(blob.created_at.timestamp()))
    by_date = signed_in.get(url(blob), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=date)
    assert by_date.status_code == 206 and body(by_date) == PAYLOAD[:10]


@pytest.mark.parametrize("if_range", ['"sha256-changed"', "W/{etag}", "Thu, 01 Jan 2015 00:00:00 GMT", "junk"])
def test_if_range_mismatch_sends_the_whole_file(signed_in, if_range):
    blob = make_blob()
    if_range = if_range.format(etag=delivery.blob_etag(blob))
    response = signed_in.get(url(blob), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=if_range)
    assert response.status_code == 200
    assert body(response) == PAYLOAD
    assert "Content-Range" not in response


def test_empty_file(signed_in):
    blob = make_blob(b"")
    response = signed_in.get(url(blob))
    assert (response.status_code, response["Content-Length"], body(response)) == (200, "0", b"")
    assert signed_in.get(url(blob), HTTP_RANGE="bytes=0-").status_code == 416


# --- names and content types ----------------------------------------------------------------------------------


def test_chinese_file_name_for_attachment_and_inline(signed_in):
    blob = make_blob()
    name = "数控车床 对刀(第1讲).pdf"
    response = signed_in.get(url(blob, name=name, download=1))
    encoded = "%E6%95%B0%E6%8E%A7%E8%BD%A6%E5%BA%8A%20%E5%AF%B9%E5%88%80%28%E7%AC%AC1%E8%AE%B2%29.pdf"
    assert response["Content-Disposition"] == f"attachment; filename=\"download.pdf\"; filename*=UTF-8''{encoded}"
    inline = signed_in.get(url(blob, name="讲义.pdf"))
    assert inline["Content-Disposition"].startswith('inline; filename="download.pdf"; filename*=UTF-8\'\'')
    assert "%E8%AE%B2%E4%B9%89.pdf" in inline["Content-Disposition"]


def test_file_name_cannot_break_the_header():
    assert delivery.content_disposition('a"b\r\nX-Evil: 1/../c.pdf', as_attachment=True) == (
        "attachment; filename=\"a_bX-Evil_ 1_.._c.pdf\"; filename*=UTF-8''a%22bX-Evil%3A%201_.._c.pdf"
    )


@pytest.mark.parametrize("mime", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/html; charset=utf-8"])
def test_active_content_is_never_inline(signed_in, mime):
    blob = make_blob(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", mime_type=mime)
    response = signed_in.get(url(blob, name="x.svg"))  # asked inline
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_inline_pdf_may_be_framed_by_our_pages_only(signed_in):
    blob = make_blob()
    response = signed_in.get(url(blob))
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    attachment = signed_in.get(url(blob, download=1))
    assert attachment["X-Frame-Options"] == "DENY"  # the site default stays for downloads


# --- behind nginx ---------------------------------------------------------------------------------------------


def test_x_accel_redirect_hands_the_transfer_to_nginx(signed_in, settings):
    settings.RESLIB_X_ACCEL_PREFIX = "/_protected/"
    blob = make_blob(mime_type="video/mp4", kind="video")
    response = signed_in.get(url(blob, name="微课.mp4", download=1), HTTP_RANGE="bytes=0-9")
    assert response.status_code == 200  # nginx answers the Range itself
    assert response["X-Accel-Redirect"] == f"/_protected/{blob.storage_name}"
    assert response.content == b""
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["ETag"] == delivery.blob_etag(blob)
    assert response["Cache-Control"] == "private, no-cache"
    assert "Accept-Ranges" not in response  # nginx sends its own
    # Permission is still checked first, and conditional requests still answer 304 without nginx.
    signed_in.logout()
    assert signed_in.get(url(blob)).status_code == 403


def test_x_accel_keeps_the_sandbox_for_active_content(signed_in, settings):
    settings.RESLIB_X_ACCEL_PREFIX = "/_protected"
    blob = make_blob(b"<html><script>1</script></html>", mime_type="text/html", kind="text")
    response = signed_in.get(url(blob, name="页面.html"))
    assert response["X-Accel-Redirect"] == f"/_protected/{blob.storage_name}"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("attachment;")


# --- streaming: big files never sit in memory ----------------------------------------------------------------


def test_fifty_megabytes_stream_in_blocks(signed_in, media_root):
    size = 50 * 1024 * 1024
    blob = big_blob(media_root, size)
    assert body(signed_in.get(url(blob), HTTP_RANGE="bytes=-16")) == (size - 16).to_bytes(16, "big")
    # (the test client re-wraps streaming bodies, so look at the view's own response object)
    response = delivery.serve_blob(RequestFactory().get("/x"), blob, filename="v.mp4", as_attachment=False)
    assert response.status_code == 200
    assert response.streaming and not isinstance(response.streaming_content, (bytes, bytearray))
    assert isinstance(response.file_to_stream, delivery.RangeFile)
    tracemalloc.start()
    try:
        total, largest, digest = 0, 0, hashlib.sha256()
        for chunk in response.streaming_content:
            total += len(chunk)
            largest = max(largest, len(chunk))
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert total == size
    assert largest <= delivery.BLOCK_SIZE
    assert peak < 4 * delivery.BLOCK_SIZE  # a few blocks at a time, never the file
    assert response.file_to_stream.closed


def test_ranged_stream_reads_only_its_range_and_hides_the_descriptor(signed_in, media_root):
    size = 50 * 1024 * 1024
    blob = big_blob(media_root, size)
    middle = size // 2
    response = signed_in.get(url(blob), HTTP_RANGE=f"bytes={middle}-{middle + 15}")
    assert response.status_code == 206
    assert body(response) == middle.to_bytes(16, "big")
    ranged = delivery.RangeFile(str(media_root / blob.storage_name), 10, 5, whole_file=False)
    with pytest.raises(io.UnsupportedOperation):
        ranged.fileno()
    assert ranged.read() == b"\0" * 5 and ranged.read() == b""
    ranged.close()
    whole = delivery.RangeFile(str(media_root / blob.storage_name), 0, size, whole_file=True)
    assert os.fstat(whole.fileno()).st_size == size
    whole.close()


# --- subtitles ------------------------------------------------------------------------------------------------

SRT = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:04,500\r\n大家好，<i>欢迎</i>学习数控车床对刀。\r\n\r\n"
    "2\r\n0:00:05,2 --> 0:00:08,250 X1:10 X2:20\r\n<font color=\"#ff0000\">注意</font> A & B < C\r\n第二行\r\n\r\n"
    "\r\n3\r\n00:01:00,000 --> 01:02:03,004\r\n最后 --> 一条\r\n"
)


def test_srt_to_vtt():
    assert delivery.srt_to_vtt(SRT) == (
        "WEBVTT\n\n"
        "1\n00:00:01.000 --> 00:00:04.500\n大家好，<i>欢迎</i>学习数控车床对刀。\n\n"
        "2\n00:00:05.200 --> 00:00:08.250\n注意 A &amp; B &lt; C\n第二行\n\n"
        "3\n00:01:00.000 --> 01:02:03.004\n最后 → 一条\n"
    )


def test_srt_to_vtt_edge_cases():
    assert delivery.srt_to_vtt("") == "WEBVTT\n\n"
    assert delivery.srt_to_vtt("just some text\n") == "WEBVTT\n\n"
    vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\nhi"
    assert delivery.srt_to_vtt(vtt) == vtt + "\n"
    # cue without a number
    assert delivery.srt_to_vtt("00:00:01,000 --> 00:00:02,000\n你好\n") == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n你好\n"
    )


def test_subtitle_encodings_are_decoded():
    text = "1\n00:00:01,000 --> 00:00:02,000\n数控车床\n"
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("gb18030"),
                 text.encode("utf-16")):
        assert delivery.decode_subtitle(data) == text


def test_subtitle_view_serves_webvtt(signed_in, client):
    blob = make_blob(SRT.encode("gb18030"), mime_type="application/x-subrip", kind="subtitle")
    response = signed_in.get(f"/vtt/{blob.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response.content.decode("utf-8").startswith("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500\n大家好")
    assert signed_in.get(f"/vtt/{blob.pk}/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    signed_in.logout()
    assert signed_in.get(f"/vtt/{blob.pk}/").status_code == 403


# --- viewer choice --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mime", "viewer"),
    [("video", "video/mp4", "video"), ("audio", "audio/mpeg", "audio"), ("image", "image/png", "image"),
     ("image", "image/tiff", "none"), ("pdf", "application/pdf", "pdf"), ("office", "application/msword", "office"),
     ("archive", "application/zip", "none"), ("", "", "none")],
)
def test_viewer_for(kind, mime, viewer):
    file = type("F", (), {"blob": Blob(kind=kind, mime_type=mime)})()
    assert delivery.viewer_for(file) == viewer


# --- QR code --------------------------------------------------------------------------------------------------


def _svg_modules(svg: str) -> set[tuple[int, int]]:
    """Dark modules drawn by segno's SVG path (horizontal runs: M/m moves, h lines, y at row + .5)."""
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    stroke = [p for p in root.findall("s:path", ns) if p.get("stroke")][0]
    dark, x, y = set(), 0.0, 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", stroke.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                dark.add((int(x) + i, int(y - 0.5)))
            x += float(a)
    return dark


def test_qr_svg_is_valid_svg_of_the_urls_symbol():
    link = "https://reslib.example.edu.cn/resources/42/"
    svg = qr_svg(link, title="扫码访问")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    symbol = qr_matrix(link)
    side = len(symbol.matrix) + 8  # quiet zone of 4 modules each side
    assert root.get("viewBox") == f"0 0 {side} {side}"
    assert root.get("width") is None  # scales with CSS
    assert root.find("{http://www.w3.org/2000/svg}title").text == "扫码访问"
    expected = {(c + 4, r + 4) for r, row in enumerate(symbol.matrix) for c, v in enumerate(row) if v}
    assert _svg_modules(svg) == expected
    assert link not in svg
    other = qr_svg("https://reslib.example.edu.cn/resources/43/")
    assert _svg_modules(other) != expected
