"""Technical specification profile (技术规范) and the machine checks of a version's files against it.

DEFAULT_RULES is common practice for vocational resource libraries: MP4 with H.264 video and AAC audio, at least
1280×720, 24–60 fps (25 is usual), 1–2.5 Mb/s video bitrate, micro-lessons of 5–15 minutes with SRT subtitles,
images at least 800 px on the long side, audio in AAC or MP3 at 128 kb/s or more.

A library's SpecProfile.rules holds only what it changes; `rules_for(library)` merges it over the defaults. Each
rule's finding has a default level that the profile may change per code in ``rules["levels"]`` ("error" blocks
submission for review, "warning" informs, "off" silences the rule).

`evaluate_version(version)` returns findings as JSON-ready dicts with a code and params; pages render them in the
reader's language with `inspection.finding_message`.
"""

from __future__ import annotations

import copy

from django.utils.translation import gettext_lazy as _

from reslib.core.errors import FieldErrors

from .inspection import Kind, allowed_findings, finding_message, make_finding, register_messages

__all__ = ["DEFAULT_RULES", "rules_for", "evaluate_version", "validate_rules", "finding_message", "finding_rows",
           "RULE_LEVEL_CODES"]

DEFAULT_RULES: dict = {
    "video_containers": ["mp4"],
    "video_codecs": ["h264"],
    "video_audio_codecs": ["aac"],
    "min_width": 1280,
    "min_height": 720,
    "min_fps": 24,
    "max_fps": 60,
    "min_video_kbps": 1000,
    "max_video_kbps": 2500,
    "micro_lesson_min_minutes": 5,
    "micro_lesson_max_minutes": 15,
    "micro_lesson_subtitles": True,
    "subtitle_formats": ["srt"],
    "min_image_long_side": 800,
    "audio_codecs": ["aac", "mp3"],
    "min_audio_kbps": 128,
    "levels": {
        "spec.video_container": "warning",
        "spec.video_codec": "warning",
        "spec.video_audio_codec": "warning",
        "spec.resolution": "error",
        "spec.frame_rate": "warning",
        "spec.video_bitrate": "warning",
        "spec.micro_lesson_duration": "error",
        "spec.subtitles_missing": "warning",
        "spec.subtitle_format": "warning",
        "spec.image_size": "warning",
        "spec.audio_codec": "warning",
        "spec.audio_bitrate": "warning",
    },
}
RULE_LEVEL_CODES = tuple(DEFAULT_RULES["levels"])
LEVELS = ("error", "warning", "off")

KNOWN_CONTAINERS = ("mp4", "mov", "webm", "mkv", "avi", "flv", "mpegts", "mpeg", "asf", "ogg", "3gp")
KNOWN_VIDEO_CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video")
KNOWN_AUDIO_CODECS = ("aac", "mp3", "opus", "vorbis", "flac", "pcm", "ac3")
KNOWN_SUBTITLE_FORMATS = ("srt", "vtt")

# rule key → (type, allowed values or (min, max))
RULE_SCHEMA: dict[str, tuple] = {
    "video_containers": ("list", KNOWN_CONTAINERS),
    "video_codecs": ("list", KNOWN_VIDEO_CODECS),
    "video_audio_codecs": ("list", KNOWN_AUDIO_CODECS),
    "audio_codecs": ("list", KNOWN_AUDIO_CODECS),
    "subtitle_formats": ("list", KNOWN_SUBTITLE_FORMATS),
    "min_width": ("int", (1, 16384)),
    "min_height": ("int", (1, 16384)),
    "min_fps": ("int", (1, 240)),
    "max_fps": ("int", (1, 240)),
    "min_video_kbps": ("int", (1, 200_000)),
    "max_video_kbps": ("int", (1, 200_000)),
    "micro_lesson_min_minutes": ("int", (1, 600)),
    "micro_lesson_max_minutes": ("int", (1, 600)),
    "min_image_long_side": ("int", (1, 65535)),
    "min_audio_kbps": ("int", (1, 10_000)),
    "micro_lesson_subtitles": ("bool", None),
    "levels": ("levels", None),
}
# Pairs that must be ordered: (lower key, upper key)
ORDERED_PAIRS = (("min_fps", "max_fps"), ("min_video_kbps", "max_video_kbps"),
                 ("micro_lesson_min_minutes", "micro_lesson_max_minutes"))

register_messages({
    "spec.video_container": _("The video container is %(container)s; the specification asks for %(expected)s."),
    "spec.video_codec": _("The video is encoded as %(codec)s; the specification asks for %(expected)s."),
    "spec.video_audio_codec": _("The video's sound is encoded as %(codec)s; the specification asks for "
                                "%(expected)s."),
    "spec.resolution": _("The video is %(width)s×%(height)s; the specification asks for at least "
                         "%(min_width)s×%(min_height)s."),
    "spec.frame_rate": _("The frame rate is %(fps)s fps; the specification asks for %(min)s–%(max)s fps "
                         "(25 fps is usual)."),
    "spec.video_bitrate": _("The video bitrate is %(kbps)s kb/s; the specification asks for %(min)s–%(max)s kb/s."),
    "spec.micro_lesson_duration": _("The micro-lesson lasts %(duration)s; the specification asks for "
                                    "%(min)s–%(max)s minutes."),
    "spec.subtitles_missing": _("The micro-lesson has no subtitle file; attach subtitles as %(expected)s."),
    "spec.subtitle_format": _("The subtitles are %(format)s; the specification asks for %(expected)s."),
    "spec.image_size": _("The image is %(width)s×%(height)s; the specification asks for at least %(min)s pixels "
                         "on the long side."),
    "spec.audio_codec": _("The audio is encoded as %(codec)s; the specification asks for %(expected)s."),
    "spec.audio_bitrate": _("The audio bitrate is %(kbps)s kb/s; the specification asks for at least %(min)s kb/s."),
    "file.unreadable": _("“%(file)s” could not be read as %(detected)s; it may be damaged or truncated."),
    "file.pdf_encrypted": _("The PDF “%(file)s” is password-protected; learners may not be able to open it."),
    "file.pdf_javascript": _("The PDF “%(file)s” contains JavaScript; it will not run in the viewer."),
    "file.infected": _("The virus scanner found %(signature)s in “%(file)s”; the file must be removed."),
    "file.scan_failed": _("“%(file)s” has not been scanned for viruses: the virus scanner failed or could not be "
                          "reached; ask the site operator to check it."),
    "file.not_scanned": _("“%(file)s” has not been scanned for viruses: no virus scanner is configured on this "
                          "site."),
    "file.missing_main": _("The version has no main file."),
    "file.pending_inspection": _("“%(file)s” is still being inspected."),
})


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if key == "levels" and isinstance(value, dict):
            merged["levels"].update(value)
        elif key in RULE_SCHEMA:
            merged[key] = value
    return merged


def rules_for(library) -> dict:
    """The library's effective rules: its SpecProfile's rules over DEFAULT_RULES."""
    from .models import SpecProfile

    if library is None:
        return copy.deepcopy(DEFAULT_RULES)
    try:
        profile = library.spec_profile
    except SpecProfile.DoesNotExist:
        return copy.deepcopy(DEFAULT_RULES)
    return _merge(DEFAULT_RULES, profile.rules or {})


# ---------------------------------------------------------------------------------------------------------------
# Validation of an edited profile
# ---------------------------------------------------------------------------------------------------------------

def _as_list(value) -> list | None:
    if isinstance(value, str):
        return [v.strip().lower() for v in value.replace("，", ",").split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip().lower() for v in value if str(v).strip()]
    return None


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _as_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "off", "no", ""):
        return False
    if value in (0, 1):
        return bool(value)
    return None


def validate_rules(data: dict) -> dict:
    """Clean a rules dict from a form or the API; raises ValidationFailed naming each bad field.

    Only the given keys are returned (a profile stores what it changes); ordering rules (min ≤ max) are checked
    against the effective values, so a profile may change one bound alone.
    """
    errors = FieldErrors()
    if not isinstance(data, dict):
        errors.add("rules", "spec.invalid", _("The rules must be an object of named values."))
        errors.raise_if_any()
    cleaned: dict = {}
    for key, value in data.items():
        schema = RULE_SCHEMA.get(key)
        if schema is None:
            errors.add(key, "spec.unknown_rule", _("This is not a rule of the technical specification."))
            continue
        kind, allowed = schema
        if kind == "list":
            items = _as_list(value)
            if items is None:
                errors.add(key, "spec.invalid_list", _("Give a comma-separated list of values."))
            elif not items:
                errors.add(key, "spec.empty_list", _("Give at least one value."))
            elif bad := [v for v in items if v not in allowed]:
                errors.add(key, "spec.unknown_value", _("Unknown value: %(values)s. Allowed: %(allowed)s.")
                           % {"values": ", ".join(bad), "allowed": ", ".join(allowed)})
            else:
                cleaned[key] = list(dict.fromkeys(items))
        elif kind == "int":
            number = _as_int(value)
            low, high = allowed
            if number is None:
                errors.add(key, "spec.not_a_number", _("Enter a whole number."))
            elif not low <= number <= high:
                errors.add(key, "spec.out_of_range", _("Enter a number from %(low)s to %(high)s.")
                           % {"low": low, "high": high})
            else:
                cleaned[key] = number
        elif kind == "bool":
            flag = _as_bool(value)
            if flag is None:
                errors.add(key, "spec.not_a_boolean", _("Choose yes or no."))
            else:
                cleaned[key] = flag
        elif kind == "levels":
            if not isinstance(value, dict):
                errors.add(key, "spec.invalid_levels", _("Give a level for each rule."))
                continue
            levels = {}
            for code, level in value.items():
                if code not in RULE_LEVEL_CODES:
                    errors.add(key, "spec.unknown_rule", _("Unknown rule: %(code)s.") % {"code": code})
                elif level not in LEVELS:
                    errors.add(key, "spec.invalid_level", _("The level must be error, warning or off."))
                else:
                    levels[code] = level
            if levels:
                cleaned[key] = levels
    effective = _merge(DEFAULT_RULES, cleaned)
    for low_key, high_key in ORDERED_PAIRS:
        if (low_key in cleaned or high_key in cleaned) and effective[low_key] > effective[high_key]:
            field = low_key if low_key in cleaned else high_key
            errors.add(field, "spec.min_above_max", _("The minimum must not be greater than the maximum."))
    errors.raise_if_any()
    return cleaned


# ---------------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------------

def _fmt_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _fmt_fps(fps: float) -> str:
    return f"{fps:.3f}".rstrip("0").rstrip(".")


def _expected(values) -> str:
    return "/".join(v.upper() if len(v) <= 4 else v for v in values)


class _Collector:
    def __init__(self, rules: dict):
        self.rules = rules
        self.findings: list[dict] = []

    def rule(self, code: str, file: str, **params) -> None:
        level = self.rules["levels"].get(code, DEFAULT_RULES["levels"].get(code, "warning"))
        if level != "off":
            self.findings.append(make_finding(level, code, file, **params))

    def add(self, level: str, code: str, file: str = "", **params) -> None:
        self.findings.append(make_finding(level, code, file, **params))


def _check_video(c: _Collector, name: str, probe: dict, resource_type: str) -> None:
    r = c.rules
    container = probe.get("container")
    if container and container not in r["video_containers"]:
        c.rule("spec.video_container", name, container=container.upper(), expected=_expected(r["video_containers"]))
    codec = probe.get("video_codec")
    if codec and codec not in r["video_codecs"]:
        c.rule("spec.video_codec", name, codec=codec.upper(), expected=_expected(r["video_codecs"]))
    acodec = probe.get("audio_codec")
    if acodec and acodec not in r["video_audio_codecs"]:
        c.rule("spec.video_audio_codec", name, codec=acodec.upper(), expected=_expected(r["video_audio_codecs"]))
    width, height = probe.get("width"), probe.get("height")
    if width and height:
        long_side, short_side = max(width, height), min(width, height)
        need_long, need_short = max(r["min_width"], r["min_height"]), min(r["min_width"], r["min_height"])
        if long_side < need_long or short_side < need_short:
            c.rule("spec.resolution", name, width=width, height=height, min_width=r["min_width"],
                   min_height=r["min_height"])
    fps = probe.get("fps")
    if fps and not r["min_fps"] <= fps <= r["max_fps"]:
        c.rule("spec.frame_rate", name, fps=_fmt_fps(fps), min=r["min_fps"], max=r["max_fps"])
    vbr = probe.get("video_bitrate")
    if vbr:
        kbps = round(vbr / 1000)
        if not r["min_video_kbps"] <= kbps <= r["max_video_kbps"]:
            c.rule("spec.video_bitrate", name, kbps=kbps, min=r["min_video_kbps"], max=r["max_video_kbps"])
    duration = probe.get("duration")
    if resource_type == "micro_lesson" and duration is not None:
        if not r["micro_lesson_min_minutes"] * 60 <= duration <= r["micro_lesson_max_minutes"] * 60:
            c.rule("spec.micro_lesson_duration", name, duration=_fmt_duration(duration),
                   min=r["micro_lesson_min_minutes"], max=r["micro_lesson_max_minutes"])


def _check_audio(c: _Collector, name: str, probe: dict) -> None:
    r = c.rules
    codec = probe.get("audio_codec")
    if codec and codec not in r["audio_codecs"]:
        c.rule("spec.audio_codec", name, codec=codec.upper(), expected=_expected(r["audio_codecs"]))
    abr = probe.get("audio_bitrate") or probe.get("bitrate")
    if abr and codec not in ("pcm", "flac") and round(abr / 1000) < r["min_audio_kbps"]:
        c.rule("spec.audio_bitrate", name, kbps=round(abr / 1000), min=r["min_audio_kbps"])


def _check_image(c: _Collector, name: str, probe: dict) -> None:
    width, height = probe.get("width"), probe.get("height")
    if probe.get("format") == "svg" or not width or not height:
        return  # vector images scale to any size
    if max(width, height) < c.rules["min_image_long_side"]:
        c.rule("spec.image_size", name, width=width, height=height, min=c.rules["min_image_long_side"])


def _check_scan(c: _Collector, name: str, blob) -> None:
    status = blob.scan_status
    if status == "infected":
        c.add("error", "file.infected", name, signature=blob.scan_detail or "?")
    elif status == "error":
        c.add("warning", "file.scan_failed", name)
    elif status == "not_scanned":
        c.add("warning", "file.not_scanned", name)


def evaluate_version(version) -> list[dict]:
    """Findings for every file of a version: type allowlist, specification rules, virus scan state."""
    if version.resource_type in ("external_link", "question"):  # no files: an address, a question's body
        return []
    rules = rules_for(version.resource.library)
    c = _Collector(rules)
    files = list(version.files.select_related("blob").order_by("role", "position", "id"))
    main = [f for f in files if f.role == "main"]
    if not main:
        c.add("error", "file.missing_main")
    subtitle_formats: list[str] = []
    for vf in files:
        blob, name = vf.blob, vf.original_name
        probe = blob.probe or {}
        if not blob.kind:
            c.add("warning", "file.pending_inspection", name)
            _check_scan(c, name, blob)
            continue
        type_findings = allowed_findings(blob.kind, blob.mime_type, name, version.resource_type, vf.role,
                                         probe=probe)
        c.findings.extend(type_findings)
        _check_scan(c, name, blob)
        if any(f["code"] in ("file.disguised_executable", "file.executable") for f in type_findings):
            continue
        if blob.kind == Kind.SUBTITLE:
            subtitle_formats.append(probe.get("format", ""))
        if probe.get("error") and blob.kind in (Kind.VIDEO, Kind.AUDIO, Kind.IMAGE, Kind.PDF, Kind.OFFICE,
                                                Kind.ARCHIVE):
            c.add("error", "file.unreadable", name, detected=blob.kind)
            continue
        if blob.kind == Kind.PDF:
            if probe.get("encrypted"):
                c.add("warning", "file.pdf_encrypted", name)
            if probe.get("javascript"):
                c.add("warning", "file.pdf_javascript", name)
        if vf.role != "main":
            continue
        if blob.kind == Kind.VIDEO:
            _check_video(c, name, probe, version.resource_type)
        elif blob.kind == Kind.AUDIO:
            _check_audio(c, name, probe)
        elif blob.kind == Kind.IMAGE:
            _check_image(c, name, probe)
    if version.resource_type == "micro_lesson" and rules["micro_lesson_subtitles"]:
        if not subtitle_formats:
            c.rule("spec.subtitles_missing", "", expected=_expected(rules["subtitle_formats"]))
        elif not any(fmt in rules["subtitle_formats"] for fmt in subtitle_formats):
            c.rule("spec.subtitle_format", "", format=_expected(sorted(set(subtitle_formats))),
                   expected=_expected(rules["subtitle_formats"]))
    return c.findings


def finding_rows(version) -> list[dict]:
    """The stored findings of a version as shown to the team (pages and API): level, code, file and the message in
    the reader's language; errors first, since they block submission."""
    rows = [
        {"level": finding.get("level", "warning"), "code": finding.get("code", ""), "message": finding_message(finding),
         "file": finding.get("file", "") or ""}
        for finding in version.check_findings or []
    ]
    return sorted(rows, key=lambda row: row["level"] != "error")
