"""The technical specification profile and the checks of a version's files against it (spec.py)."""

import pytest
from django.utils import translation

from reslib.core.errors import ValidationFailed
from reslib.libraries.models import Library
from reslib.resources import services, spec
from reslib.resources.models import Blob, SpecProfile

from .. import factories
from . import media


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


def _blob(path, name=None):
    with open(path, "rb") as fh:
        return factories.blob(fh.read(), name=name or path.name)


def _attach(version, path, *, role="main", name=None, by):
    blob = _blob(path, name)
    services.attach_file(version, blob, role=role, original_name=name or path.name, by=by)
    return blob


def _levels(findings):
    return {f["code"]: f["level"] for f in findings}


def test_small_short_micro_lesson_breaks_the_default_rules(building, lead, tmp_path):
    resource = factories.resource(building, lead, resource_type="micro_lesson")
    version = resource.latest_version
    _attach(version, media.video(tmp_path, "对刀.mp4"), by=lead)
    findings = spec.evaluate_version(version)
    levels = _levels(findings)
    # 640×360 is below 1280×720 (error), 2 s is not 5–15 min (error), the test video's bitrate is tiny (warning),
    # there is no SRT attachment (warning), and no virus scanner is configured here (warning, 未扫描).
    assert levels == {"spec.resolution": "error", "spec.micro_lesson_duration": "error",
                      "spec.video_bitrate": "warning", "spec.subtitles_missing": "warning",
                      "file.not_scanned": "warning"}
    by_code = {f["code"]: f for f in findings}
    assert by_code["spec.resolution"]["params"] == {"width": 640, "height": 360, "min_width": 1280,
                                                   "min_height": 720}
    assert by_code["spec.micro_lesson_duration"]["params"] == {"duration": "0:02", "min": 5, "max": 15}
    assert by_code["spec.resolution"]["file"] == "对刀.mp4"
    with translation.override("en"):
        assert spec.finding_message(by_code["spec.micro_lesson_duration"]) == (
            "The micro-lesson lasts 0:02; the specification asks for 5–15 minutes.")
    # The version stores the same findings (services.refresh_findings) and they block submission.
    version.refresh_from_db()
    assert version.check_findings == findings and version.has_blocking_findings
    with pytest.raises(ValidationFailed) as exc:
        services.submit_version(version, by=lead, commitment_accepted=True)
    assert exc.value.code == "resource.blocking_findings"


def test_srt_attachment_satisfies_and_vtt_is_flagged(building, lead, tmp_path):
    version = factories.resource(building, lead, resource_type="micro_lesson").latest_version
    _attach(version, media.video(tmp_path, seconds=0.4), by=lead)
    _attach(version, media.vtt(tmp_path), role="attachment", by=lead)
    assert _levels(spec.evaluate_version(version))["spec.subtitle_format"] == "warning"
    _attach(version, media.srt(tmp_path), role="attachment", by=lead)
    codes = _levels(spec.evaluate_version(version))
    assert "spec.subtitle_format" not in codes and "spec.subtitles_missing" not in codes


def test_library_profile_relaxes_and_tightens_rules(building, lead, tmp_path):
    version = factories.resource(building, lead, resource_type="micro_lesson").latest_version
    _attach(version, media.mkv_mpeg4(tmp_path, seconds=0.4), by=lead)
    defaults = _levels(spec.evaluate_version(version))
    assert defaults["spec.video_container"] == "warning" and defaults["spec.video_codec"] == "warning"
    assert defaults["spec.video_audio_codec"] == "warning"
    SpecProfile.objects.create(library=building, rules=spec.validate_rules({
        "min_width": "640", "min_height": 360, "micro_lesson_min_minutes": 0 + 1, "micro_lesson_subtitles": "off",
        "video_containers": "mp4, mkv", "levels": {"spec.video_codec": "error", "spec.video_bitrate": "off",
                                                   "spec.micro_lesson_duration": "warning"},
    }))
    building.refresh_from_db()
    rules = spec.rules_for(building)
    assert rules["min_width"] == 640 and rules["video_codecs"] == ["h264"]  # untouched rules keep the default
    levels = _levels(spec.evaluate_version(version))
    assert "spec.resolution" not in levels and "spec.video_container" not in levels
    assert levels["spec.video_codec"] == "error" and levels["spec.micro_lesson_duration"] == "warning"
    assert "spec.video_bitrate" not in levels and "spec.subtitles_missing" not in levels


def test_audio_image_pdf_rules(building, lead, tmp_path):
    audio = factories.resource(building, lead, resource_type="audio").latest_version
    _attach(audio, media.audio(tmp_path, "low.mp3", bit_rate=64_000), by=lead)
    assert _levels(spec.evaluate_version(audio))["spec.audio_bitrate"] == "warning"
    _attach(audio, media.wav(tmp_path), by=lead)
    levels = _levels(spec.evaluate_version(audio))
    assert levels["spec.audio_codec"] == "warning" and "spec.audio_bitrate" not in levels

    image = factories.resource(building, lead, resource_type="image").latest_version
    _attach(image, media.image(tmp_path, "small.png", size=(640, 480)), by=lead)
    assert _levels(spec.evaluate_version(image))["spec.image_size"] == "warning"
    _attach(image, media.image(tmp_path, "big.png", size=(1200, 300)), by=lead)
    assert "spec.image_size" not in _levels(spec.evaluate_version(image))

    text = factories.resource(building, lead, resource_type="text").latest_version
    _attach(text, media.pdf(tmp_path, "locked.pdf", encrypt=True), by=lead)
    assert _levels(spec.evaluate_version(text))["file.pdf_encrypted"] == "warning"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nbroken\n")
    _attach(text, broken, by=lead)
    assert _levels(spec.evaluate_version(text))["file.unreadable"] == "error"


def test_type_findings_and_scan_states(building, lead, tmp_path):
    version = factories.resource(building, lead, resource_type="text").latest_version
    blob = _attach(version, media.elf(tmp_path), name="report.pdf", by=lead)
    findings = spec.evaluate_version(version)
    assert [(f["level"], f["code"]) for f in findings] == [("error", "file.disguised_executable"),
                                                           ("warning", "file.not_scanned")]
    Blob.objects.filter(pk=blob.pk).update(scan_status=Blob.ScanStatus.INFECTED, scan_detail="Eicar-Test-Signature")
    assert _levels(spec.evaluate_version(version))["file.infected"] == "error"
    infected = next(f for f in spec.evaluate_version(version) if f["code"] == "file.infected")
    assert "Eicar-Test-Signature" in infected["message"]
    Blob.objects.filter(pk=blob.pk).update(scan_status=Blob.ScanStatus.ERROR)
    assert _levels(spec.evaluate_version(version))["file.scan_failed"] == "warning"
    Blob.objects.filter(pk=blob.pk).update(scan_status=Blob.ScanStatus.CLEAN)
    assert "file.scan_failed" not in _levels(spec.evaluate_version(version))


def test_missing_main_file_and_external_links(building, lead):
    version = factories.resource(building, lead, resource_type="text").latest_version
    assert _levels(spec.evaluate_version(version)) == {"file.missing_main": "error"}
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    assert spec.evaluate_version(link.latest_version) == []


def test_a_clean_conforming_video_has_no_spec_findings(building, lead, tmp_path):
    version = factories.resource(building, lead, resource_type="video").latest_version
    _attach(version, media.video(tmp_path, width=1280, height=720, seconds=1, video_bitrate=1_500_000), by=lead)
    levels = _levels(spec.evaluate_version(version))
    assert set(levels) <= {"file.not_scanned", "spec.video_bitrate"}  # tiny test clips may undershoot the bitrate


def test_validate_rules_reports_each_bad_field():
    with pytest.raises(ValidationFailed) as exc:
        spec.validate_rules({"min_width": "wide", "min_fps": 0, "video_codecs": "h264, divx", "colour": "red",
                             "micro_lesson_min_minutes": 20, "levels": {"spec.resolution": "fatal"},
                             "audio_codecs": []})
    fields = exc.value.fields
    assert {k: [e["code"] for e in v] for k, v in fields.items()} == {
        "min_width": ["spec.not_a_number"], "min_fps": ["spec.out_of_range"], "video_codecs": ["spec.unknown_value"],
        "colour": ["spec.unknown_rule"], "levels": ["spec.invalid_level"], "audio_codecs": ["spec.empty_list"],
        "micro_lesson_min_minutes": ["spec.min_above_max"],
    }
    assert "divx" in fields["video_codecs"][0]["message"]
    assert spec.validate_rules({"max_fps": "30", "subtitle_formats": ["SRT", "vtt"]}) == {
        "max_fps": 30, "subtitle_formats": ["srt", "vtt"]}
    with pytest.raises(ValidationFailed):
        spec.validate_rules(["not", "a", "dict"])
