"""Derived files: posters, thumbnails, a browser-playable rendition, PDF previews of office documents.

`make_all(blob_id)` is the body of the `make_derived_files` task. It is idempotent and safe to retry: one
DerivedFile row per (blob, kind) records the state (pending → running → done | failed | unavailable), the number
of attempts and the error. A finished kind is skipped; a kind another worker is running is left alone (unless its
claim is stale, or this run is the task's retry after its worker died: reslib.core.services.recover_stale_tasks); a
failed kind is retried with back-off up to MAX_ATTEMPTS times when the task backend can defer. Scratch files live in
a reslib.core.workdirs directory, which the worker's cleanup removes when a killed run leaves it behind.

What is made:
* video  → poster (JPEG frame at 10 % of the duration, or 1 s), thumbnail (480 px wide) and, when the original
           does not play in browsers, an H.264/AAC MP4 web rendition (PyAV);
* image  → thumbnail (Pillow, decompression bombs refused);
* PDF    → thumbnail of the first page (pypdfium2; `pdftoppm` as a fallback);
* office → PDF preview through LibreOffice headless when installed (one profile per worker process), and a
           thumbnail of its first page; without LibreOffice both are "unavailable" (无法预览).

Files are written to the default storage under "derived/<sha256>/<kind>.<ext>".
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import shutil
import signal
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reslib.core import workdirs

from .models import Blob, DerivedFile

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS = (60, 600, 3600)  # seconds before the 2nd, 3rd ... attempt
STALE_RUNNING = datetime.timedelta(hours=2)  # a "running" claim older than this belongs to a dead worker
THUMBNAIL_WIDTH = 480
THUMBNAIL_MAX_HEIGHT = 1440
POSTER_MAX_WIDTH = 1920
WEB_MAX_SIZE = (1920, 1080)
LIBREOFFICE_TIMEOUT = 300

BROWSER_CONTAINERS = {"mp4", "webm"}
BROWSER_VIDEO_CODECS = {"h264", "vp8", "vp9", "av1"}
BROWSER_AUDIO_CODECS = {"aac", "opus", "mp3", "vorbis"}

Kind = DerivedFile.Kind
State = DerivedFile.State

EXTENSIONS = {Kind.POSTER: ("jpg", "image/jpeg"), Kind.THUMBNAIL: ("jpg", "image/jpeg"),
              Kind.WEB_VIDEO: ("mp4", "video/mp4"), Kind.PDF_PREVIEW: ("pdf", "application/pdf")}

# Why a derived file cannot be made: stored as a code in DerivedFile.error, shown translated by reason_message().
REASONS = {
    "no_libreoffice": _("Office documents cannot be previewed: LibreOffice is not installed on the server."),
    "no_pdf_renderer": _("PDF pages cannot be rendered: no PDF renderer is installed on the server."),
    "pdf_encrypted": _("The PDF is password-protected, so no preview can be made."),
    "preview_unavailable": _("There is no PDF preview to make a thumbnail from."),
    "preview_failed": _("The PDF preview could not be made, so neither can its thumbnail."),
    "vector_image": _("Vector images (SVG) are shown as they are; no thumbnail is made."),
    "image_format": _("This image format cannot be read by the server."),
    "image_too_large": _("The image is too large to process safely."),
    "no_video_stream": _("The file has no video picture."),
    "empty_pdf": _("The PDF has no pages."),
}


def reason_message(derived: DerivedFile) -> str:
    """Readable text for an unavailable or failed derived file, in the active language."""
    if derived.state == State.UNAVAILABLE:
        return str(REASONS.get(derived.error, _("No preview can be made of this file.")))
    if derived.state == State.FAILED:
        return str(_("Processing failed after %(attempts)s attempt(s).") % {"attempts": derived.attempts})
    return ""


class Unavailable(Exception):
    """This derived file cannot be made of this blob (not an error of the system); the arg is a REASONS code."""


# ---------------------------------------------------------------------------------------------------------------
# What to make
# ---------------------------------------------------------------------------------------------------------------

def browser_playable(blob: Blob) -> bool:
    probe = blob.probe or {}
    container = probe.get("container")
    if container not in BROWSER_CONTAINERS:
        return False
    if probe.get("has_video") and probe.get("video_codec") not in BROWSER_VIDEO_CODECS:
        return False
    if probe.get("has_audio") and probe.get("audio_codec") not in BROWSER_AUDIO_CODECS:
        return False
    if probe.get("has_video") and probe.get("pix_fmt") not in (None, "yuv420p", "yuvj420p"):
        return False  # e.g. 4:2:2 or 10-bit H.264 does not decode in most browsers
    return True


def planned_kinds(blob: Blob) -> list[str]:
    """The derived kinds a blob gets, in the order they are made (previews before their thumbnails)."""
    probe = blob.probe or {}
    if blob.kind == "video":
        if probe.get("error"):
            return []
        kinds = [Kind.POSTER, Kind.THUMBNAIL]
        if not browser_playable(blob):
            kinds.append(Kind.WEB_VIDEO)
        return kinds
    if blob.kind in ("image", "pdf"):
        return [Kind.THUMBNAIL]
    if blob.kind == "office":
        return [Kind.PDF_PREVIEW, Kind.THUMBNAIL]
    return []


def storage_name_for(blob: Blob, kind: str) -> str:
    return f"derived/{blob.sha256}/{kind}.{EXTENSIONS[kind][0]}"


# ---------------------------------------------------------------------------------------------------------------
# Row state (short transactions, rows locked while claimed)
# ---------------------------------------------------------------------------------------------------------------

def _ensure_rows(blob: Blob, kinds: list[str]) -> None:
    existing = set(DerivedFile.objects.filter(blob=blob, kind__in=kinds).values_list("kind", flat=True))
    for kind in kinds:
        if kind not in existing:
            try:
                with transaction.atomic():
                    DerivedFile.objects.create(blob=blob, kind=kind)
            except IntegrityError:
                pass  # made concurrently


def _claim(blob: Blob, kind: str, *, force: bool, take_over: bool) -> DerivedFile | None:
    """Mark the row running and count the attempt, or None when there is nothing to do. `take_over`: a running
    claim is the one of this task's earlier attempt, whose worker died."""
    with transaction.atomic():
        row = DerivedFile.objects.select_for_update().get(blob=blob, kind=kind)
        if row.state == State.DONE and row.storage_name and default_storage.exists(row.storage_name):
            return None
        if row.state == State.RUNNING and not take_over and row.updated_at > timezone.now() - STALE_RUNNING:
            return None
        if row.state == State.FAILED and row.attempts >= MAX_ATTEMPTS and not force:
            return None
        row.state = State.RUNNING
        row.attempts += 1
        row.error = ""
        row.save(update_fields=["state", "attempts", "error", "updated_at"])
        return row


def _finish(row: DerivedFile, **fields) -> None:
    for key, value in fields.items():
        setattr(row, key, value)
    with transaction.atomic():
        DerivedFile.objects.filter(pk=row.pk).update(updated_at=timezone.now(), **fields)


def _save_output(blob: Blob, kind: str, path: Path) -> tuple[str, int]:
    name = storage_name_for(blob, kind)
    if default_storage.exists(name):
        default_storage.delete(name)
    with open(path, "rb") as fh:
        saved = default_storage.save(name, File(fh, name=Path(name).name))
    return saved, path.stat().st_size


# ---------------------------------------------------------------------------------------------------------------
# Makers: each writes one output file into `work` and returns its path, or raises Unavailable
# ---------------------------------------------------------------------------------------------------------------

def _fit_width(img, width: int, max_height: int):
    from PIL import Image

    if img.width > width:
        height = max(1, round(img.height * width / img.width))
        img = img.resize((width, height), Image.LANCZOS)
    if img.height > max_height:
        img = img.crop((0, 0, img.width, max_height))
    return img


def _to_rgb(img):
    from PIL import Image

    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, "white")
        background.paste(img, mask=img.getchannel("A"))
        return background
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def _save_jpeg(img, path: Path) -> Path:
    _to_rgb(img).save(path, "JPEG", quality=85, optimize=True, progressive=True)
    return path


def video_frame(src: Path, duration: float | None):
    """A PIL image of the frame at 10 % of the duration (or 1 s; the first frame of very short videos)."""
    import av

    target = duration * 0.1 if duration else 1.0
    if duration:
        target = min(target, max(duration - 0.05, 0))
    with av.open(str(src)) as container:
        if not container.streams.video:
            raise Unavailable("no_video_stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if target > 0 and stream.time_base:
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.error.FFmpegError:
                container.seek(0)
        last = None
        for frame in container.decode(stream):
            last = frame
            if frame.time is None or frame.time >= target - 0.02:
                return frame.to_image()
        if last is None:  # seeking past the end of a damaged file: start again from the beginning
            container.seek(0)
            for frame in container.decode(stream):
                return frame.to_image()
            raise ValueError("no decodable video frame")
        return last.to_image()


def make_poster(blob: Blob, src: Path, work: Path, cache: dict) -> Path:
    if "frame" not in cache:
        cache["frame"] = video_frame(src, (blob.probe or {}).get("duration"))
    return _save_jpeg(_fit_width(cache["frame"], POSTER_MAX_WIDTH, 10_000), work / "poster.jpg")


def _open_image(src: Path):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(src)
            if Image.MAX_IMAGE_PIXELS and img.width * img.height > Image.MAX_IMAGE_PIXELS:
                raise Unavailable("image_too_large")
            if img.format == "JPEG":
                img.draft("RGB", (THUMBNAIL_WIDTH * 2, THUMBNAIL_WIDTH * 2))
            img.seek(0)
            img.load()
            return ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unavailable("image_too_large") from None
    except UnidentifiedImageError:
        raise Unavailable("image_format") from None


def render_pdf_page(pdf_path: Path, width: int):
    """The first page of a PDF as a PIL image `width` pixels wide (pypdfium2, else poppler's pdftoppm)."""
    from PIL import Image

    try:
        import pypdfium2 as pdfium
    except ImportError:
        pdfium = None
    if pdfium is not None:
        try:
            document = pdfium.PdfDocument(str(pdf_path))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise Unavailable("pdf_encrypted") from None
            raise
        try:
            if len(document) == 0:
                raise Unavailable("empty_pdf")
            page = document[0]
            scale = width / max(page.get_width(), 1)
            return page.render(scale=min(scale, 8)).to_pil()
        finally:
            document.close()
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise Unavailable("no_pdf_renderer")
    with workdirs.work_dir("pdfthumb-") as tmp:
        out = tmp / "page"
        result = subprocess.run([pdftoppm, "-f", "1", "-l", "1", "-scale-to-x", str(width), "-scale-to-y", "-1",
                                 "-png", "-singlefile", str(pdf_path), str(out)], capture_output=True, timeout=120)
        if result.returncode != 0:
            if b"password" in result.stderr.lower() or b"incorrect" in result.stderr.lower():
                raise Unavailable("pdf_encrypted")
            raise RuntimeError(f"pdftoppm failed: {result.stderr.decode(errors='replace')[:500]}")
        with Image.open(out.with_suffix(".png")) as img:
            img.load()
            return img.copy()


def make_thumbnail(blob: Blob, src: Path, work: Path, cache: dict) -> Path:
    out = work / "thumbnail.jpg"
    if blob.kind == "video":
        if "frame" not in cache:
            cache["frame"] = video_frame(src, (blob.probe or {}).get("duration"))
        img = cache["frame"]
    elif blob.kind == "image":
        if blob.mime_type == "image/svg+xml":
            raise Unavailable("vector_image")
        img = _open_image(src)
    elif blob.kind == "pdf":
        if (blob.probe or {}).get("encrypted") and not (blob.probe or {}).get("pages"):
            raise Unavailable("pdf_encrypted")
        img = render_pdf_page(src, THUMBNAIL_WIDTH)
    elif blob.kind == "office":
        preview = cache.get("pdf_preview") or _stored_preview(blob, work)
        img = render_pdf_page(preview, THUMBNAIL_WIDTH)
    else:
        raise Unavailable("image_format")
    return _save_jpeg(_fit_width(img, THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT), out)


def _stored_preview(blob: Blob, work: Path) -> Path:
    """The office document's PDF preview made by an earlier run, copied locally."""
    row = DerivedFile.objects.filter(blob=blob, kind=Kind.PDF_PREVIEW).first()
    if row is None or row.state == State.UNAVAILABLE:
        raise Unavailable(row.error if row is not None and row.error in REASONS else "preview_unavailable")
    if row.state != State.DONE or not row.storage_name:
        raise Unavailable("preview_failed")
    path = work / "preview.pdf"
    with default_storage.open(row.storage_name, "rb") as src, open(path, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return path


def libreoffice_binary() -> str | None:
    configured = getattr(settings, "RESLIB_LIBREOFFICE", "") or ""
    if not configured:
        return None
    if os.path.isabs(configured):
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which(configured)


OFFICE_SUFFIX = {"docx": ".docx", "xlsx": ".xlsx", "pptx": ".pptx", "doc": ".doc", "xls": ".xls", "ppt": ".ppt",
                 "odt": ".odt", "ods": ".ods", "odp": ".odp", "rtf": ".rtf"}


def make_pdf_preview(blob: Blob, src: Path, work: Path, cache: dict) -> Path:
    binary = libreoffice_binary()
    if binary is None:
        raise Unavailable("no_libreoffice")
    suffix = OFFICE_SUFFIX.get((blob.probe or {}).get("format", ""), "")
    source = work / f"document{suffix}"
    try:
        os.symlink(src, source)
    except OSError:
        shutil.copyfile(src, source)
    outdir = work / "lo-out"
    outdir.mkdir()
    profile = workdirs.process_dir(f"lo-profile-{os.getpid()}")  # one profile per worker process
    command = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", "pdf", "--outdir", str(outdir), str(source)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "HOME": str(profile)})
    try:
        output, _unused = process.communicate(timeout=LIBREOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"LibreOffice did not finish within {LIBREOFFICE_TIMEOUT} s") from None
    result = outdir / "document.pdf"
    if process.returncode != 0 or not result.exists():
        raise RuntimeError(f"LibreOffice conversion failed ({process.returncode}): "
                           f"{output.decode(errors='replace')[-500:]}")
    cache["pdf_preview"] = result
    return result


def _even(n: float) -> int:
    return max(2, int(n) // 2 * 2)


def transcode_web_video(src: Path, dst: Path) -> Path:
    """Re-encode to H.264 (yuv420p, ≤ 1080p) and AAC stereo in an MP4 with the index first (fast start)."""
    import av

    with av.open(str(src)) as inp:
        vin = inp.streams.video[0] if inp.streams.video else None
        ain = inp.streams.audio[0] if inp.streams.audio else None
        if vin is None:
            raise Unavailable("no_video_stream")
        vin.thread_type = "AUTO"
        width, height = vin.codec_context.width, vin.codec_context.height
        ratio = min(1.0, WEB_MAX_SIZE[0] / max(width, height), WEB_MAX_SIZE[1] / max(1, min(width, height)))
        out_w, out_h = _even(width * ratio), _even(height * ratio)
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        if rate > 60:
            rate = Fraction(30)
        rate = Fraction(rate).limit_denominator(1001)
        with av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = out_w, out_h, "yuv420p"
            vout.options = {"preset": "veryfast", "crf": "23", "profile": "high", "maxrate": "2500k",
                            "bufsize": "5000k"}
            aout = resampler = None
            if ain is not None:
                sample_rate = ain.codec_context.sample_rate if ain.codec_context.sample_rate in (44100, 48000) \
                    else 48000
                aout = out.add_stream("aac", rate=sample_rate)
                aout.layout = "stereo"
                aout.bit_rate = 128_000
                resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
            streams = [s for s in (vin, ain) if s is not None]
            v_index = a_samples = 0
            v_time_base = Fraction(1) / rate
            for packet in inp.demux(*streams):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # skip a damaged packet, as players do
                for frame in frames:
                    if packet.stream is vin:
                        frame = frame.reformat(width=out_w, height=out_h, format="yuv420p")
                        frame.pts, frame.time_base = v_index, v_time_base
                        v_index += 1
                        for pkt in vout.encode(frame):
                            out.mux(pkt)
                    else:
                        frame.pts = None
                        for rframe in resampler.resample(frame):
                            rframe.pts, rframe.time_base = a_samples, Fraction(1, aout.codec_context.sample_rate)
                            a_samples += rframe.samples
                            for pkt in aout.encode(rframe):
                                out.mux(pkt)
            for pkt in vout.encode():
                out.mux(pkt)
            if aout is not None:
                for rframe in resampler.resample(None):
                    rframe.pts, rframe.time_base = a_samples, Fraction(1, aout.codec_context.sample_rate)
                    a_samples += rframe.samples
                    for pkt in aout.encode(rframe):
                        out.mux(pkt)
                for pkt in aout.encode():
                    out.mux(pkt)
            if v_index == 0:
                raise ValueError("no decodable video frame")
    return dst


def make_web_video(blob: Blob, src: Path, work: Path, cache: dict) -> Path:
    return transcode_web_video(src, work / "web.mp4")


MAKERS = {Kind.POSTER: make_poster, Kind.THUMBNAIL: make_thumbnail, Kind.WEB_VIDEO: make_web_video,
          Kind.PDF_PREVIEW: make_pdf_preview}


# ---------------------------------------------------------------------------------------------------------------
# The task body
# ---------------------------------------------------------------------------------------------------------------

def make_all(blob_id: int, *, force: bool = False, take_over: bool = False) -> dict:
    """Make every planned derived file of a blob that is not done yet; returns {kind: state}. `take_over`: this is
    a retry of a run whose worker died, so the rows it left "running" are claimed again at once."""
    from . import storage

    blob = Blob.objects.filter(pk=blob_id).first()
    if blob is None:
        return {}
    kinds = planned_kinds(blob)
    if not kinds:
        return {}
    _ensure_rows(blob, kinds)
    cache: dict = {}
    suffix = {"video": ".video", "pdf": ".pdf"}.get(blob.kind, "")
    with contextlib.ExitStack() as opened:
        work = src = None
        for kind in kinds:
            row = _claim(blob, kind, force=force, take_over=take_over)
            if row is None:
                continue
            try:
                if src is None:  # only now: on S3 the copy is a full download, wasted if nothing was left to do
                    work = opened.enter_context(workdirs.work_dir("derived-"))
                    src = Path(opened.enter_context(storage.local_copy(blob, suffix=suffix, directory=work)))
                output = MAKERS[kind](blob, src, work, cache)
                name, size = _save_output(blob, kind, output)
            except Unavailable as exc:
                reason = exc.args[0] if exc.args else ""
                _finish(row, state=State.UNAVAILABLE, error=reason, storage_name="", size=None)
                logger.info("derived %s of blob %s unavailable: %s", kind, blob.pk, reason)
            except Exception as exc:  # noqa: BLE001 — any failure is recorded on the row and retried
                logger.exception("derived %s of blob %s failed (attempt %s)", kind, blob.pk, row.attempts)
                _finish(row, state=State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            else:
                _finish(row, state=State.DONE, storage_name=name, size=size, mime_type=EXTENSIONS[kind][1],
                        error="")
    rows = {r.kind: r for r in DerivedFile.objects.filter(blob=blob, kind__in=kinds)}
    _schedule_retry(blob, rows.values())
    return {kind: rows[kind].state for kind in kinds if kind in rows}


def _schedule_retry(blob: Blob, rows) -> None:
    retry = [r for r in rows if r.state == State.FAILED and r.attempts < MAX_ATTEMPTS]
    if not retry:
        return
    from . import tasks

    attempts = min(r.attempts for r in retry)
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    task = tasks.make_derived_files
    if not task.get_backend().supports_defer:
        return  # the immediate backend would recurse; the next explicit run retries
    blob_pk = blob.pk
    transaction.on_commit(lambda: task.using(run_after=timezone.now() + datetime.timedelta(seconds=delay))
                          .enqueue(blob_pk))


def states(blob: Blob) -> dict[str, DerivedFile]:
    """The derived files of a blob by kind (for pages: show progress, failures and 无法预览)."""
    return {row.kind: row for row in blob.derived.all()}
