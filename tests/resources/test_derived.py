"""Derived files: posters, thumbnails, web renditions, PDF previews; idempotent and retried (derived.py, tasks.py)."""

import datetime
import os
import sys

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from PIL import Image

from reslib.resources import derived, tasks
from reslib.resources.inspection import inspect_file
from reslib.resources.models import DerivedFile

from .. import factories
from . import media

State = DerivedFile.State


def _blob(path):
    with open(path, "rb") as fh:
        return factories.blob(fh.read(), name=path.name)


def _rows(blob):
    return {row.kind: row for row in DerivedFile.objects.filter(blob=blob)}


def _image(row):
    with default_storage.open(row.storage_name, "rb") as fh:
        img = Image.open(fh)
        img.load()
        return img


@pytest.mark.django_db
def test_h264_video_gets_poster_and_thumbnail_but_no_rendition(tmp_path, settings):
    blob = _blob(media.video(tmp_path))
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert tasks.make_derived_files.enqueue(blob.pk).return_value == {"poster": "done", "thumbnail": "done"}
    rows = _rows(blob)
    assert set(rows) == {"poster", "thumbnail"}
    poster, thumb = rows["poster"], rows["thumbnail"]
    assert poster.storage_name == f"derived/{blob.sha256}/poster.jpg" and poster.mime_type == "image/jpeg"
    assert _image(poster).size == (640, 360) and _image(poster).format == "JPEG"
    assert _image(thumb).size == (480, 270)
    assert (poster.attempts, poster.error, poster.size) == (1, "", default_storage.size(poster.storage_name))


@pytest.mark.django_db
def test_mpeg4_in_matroska_gets_a_browser_playable_rendition(tmp_path):
    blob = _blob(media.mkv_mpeg4(tmp_path, seconds=1.0))
    assert not derived.browser_playable(blob)
    states = derived.make_all(blob.pk)
    assert states == {"poster": "done", "thumbnail": "done", "web_video": "done"}
    web = _rows(blob)["web_video"]
    assert web.storage_name == f"derived/{blob.sha256}/web_video.mp4" and web.mime_type == "video/mp4"
    local = tmp_path / "web.mp4"
    with default_storage.open(web.storage_name, "rb") as src:
        local.write_bytes(src.read())
    info = inspect_file(local, "web.mp4")
    p = info["probe"]
    assert (info["mime_type"], p["video_codec"], p["audio_codec"], p["width"], p["height"]) == (
        "video/mp4", "h264", "aac", 640, 360)
    assert p["duration"] == pytest.approx(1.0, abs=0.15) and p["pix_fmt"] == "yuv420p"
    # the moov index comes before the media data, so browsers start playing before the whole file arrives
    head = local.read_bytes()[:200_000]
    assert head.find(b"moov") < head.find(b"mdat")


@pytest.mark.django_db
def test_image_and_pdf_thumbnails(tmp_path):
    png = _blob(media.image(tmp_path, "transparent.png", size=(1024, 768), mode="RGBA"))
    assert derived.make_all(png.pk) == {"thumbnail": "done"}
    thumb = _image(_rows(png)["thumbnail"])
    assert (thumb.size, thumb.mode) == ((480, 360), "RGB")
    assert thumb.getpixel((5, 5)) == (255, 255, 255)  # transparency flattened on white

    pdf = _blob(media.pdf(tmp_path, pages=2))
    assert derived.make_all(pdf.pk) == {"thumbnail": "done"}
    page = _image(_rows(pdf)["thumbnail"])
    assert page.size == (480, 679) or page.size == (480, 680)
    red = page.getpixel((200, 680 - 500 * 480 // 595))
    assert red[0] > 150 and red[1] < 100  # the red rectangle drawn on page 1


@pytest.mark.django_db
def test_unavailable_states_have_clear_reasons(tmp_path, settings):
    settings.RESLIB_LIBREOFFICE = str(tmp_path / "no-such-soffice")
    doc = _blob(media.docx(tmp_path))
    assert derived.make_all(doc.pk) == {"pdf_preview": "unavailable", "thumbnail": "unavailable"}
    preview = _rows(doc)["pdf_preview"]
    assert preview.error == "no_libreoffice"
    with translation.override("en"):
        assert "LibreOffice is not installed" in derived.reason_message(preview)
        assert DerivedFile.State(preview.state).label == "Preview unavailable"

    locked = _blob(media.pdf(tmp_path, "locked.pdf", encrypt=True))
    assert derived.make_all(locked.pk) == {"thumbnail": "unavailable"}
    assert _rows(locked)["thumbnail"].error == "pdf_encrypted"

    svg = _blob(media.svg(tmp_path))
    assert derived.make_all(svg.pk) == {"thumbnail": "unavailable"}
    audio = _blob(media.audio(tmp_path))
    assert derived.make_all(audio.pk) == {} and not DerivedFile.objects.filter(blob=audio).exists()


FAKE_SOFFICE = """\
#!{python}
import pathlib, shutil, sys
args = sys.argv[1:]
pathlib.Path({log!r}).write_text("\\n".join(args))
outdir = pathlib.Path(args[args.index("--outdir") + 1])
source = pathlib.Path(args[-1])
shutil.copyfile({pdf!r}, outdir / (source.stem + ".pdf"))
"""


@pytest.mark.django_db
def test_office_document_converted_by_libreoffice_with_a_profile_per_worker(tmp_path, settings):
    """A stand-in `soffice` (LibreOffice is large; CI need not install it) checks the command line we run."""
    log = tmp_path / "soffice-args.txt"
    fake = tmp_path / "soffice"
    fake.write_text(FAKE_SOFFICE.format(python=sys.executable, log=str(log),
                                        pdf=str(media.pdf(tmp_path, "converted.pdf", pages=1))))
    fake.chmod(0o755)
    settings.RESLIB_LIBREOFFICE = str(fake)
    doc = _blob(media.docx(tmp_path))
    assert derived.make_all(doc.pk) == {"pdf_preview": "done", "thumbnail": "done"}
    args = log.read_text().splitlines()
    assert args[0].startswith("-env:UserInstallation=file:///")
    assert args[0].endswith(f"lo-profile-{os.getpid()}")
    assert "--headless" in args and args[args.index("--convert-to") + 1] == "pdf"
    assert args[-1].endswith("document.docx")
    rows = _rows(doc)
    assert rows["pdf_preview"].mime_type == "application/pdf"
    assert _image(rows["thumbnail"]).size[0] == 480


@pytest.mark.django_db
def test_real_libreoffice_when_installed(tmp_path):
    binary = derived.libreoffice_binary()
    if binary is None:
        pytest.skip("LibreOffice (soffice) is not installed; the conversion is covered by the stand-in above.")
    doc = _blob(media.docx(tmp_path))
    assert derived.make_all(doc.pk)["pdf_preview"] == "done"


@pytest.mark.django_db
def test_idempotent_failures_are_recorded_and_retried(tmp_path, monkeypatch):
    blob = _blob(media.image(tmp_path))
    calls = []

    def broken(*args):
        calls.append(1)
        raise OSError("disk full")

    monkeypatch.setitem(derived.MAKERS, "thumbnail", broken)
    assert derived.make_all(blob.pk) == {"thumbnail": "failed"}
    row = _rows(blob)["thumbnail"]
    assert (row.state, row.attempts, row.error) == (State.FAILED, 1, "OSError: disk full")
    with translation.override("en"):
        assert derived.reason_message(row) == "Processing failed after 1 attempt(s)."
    for _ in range(5):
        derived.make_all(blob.pk)
    assert len(calls) == derived.MAX_ATTEMPTS and _rows(blob)["thumbnail"].attempts == derived.MAX_ATTEMPTS

    monkeypatch.undo()
    assert derived.make_all(blob.pk) == {"thumbnail": "failed"}  # given up until forced
    assert derived.make_all(blob.pk, force=True) == {"thumbnail": "done"}
    done = _rows(blob)["thumbnail"]
    assert (done.state, done.error) == (State.DONE, "")
    before = done.updated_at
    assert derived.make_all(blob.pk) == {"thumbnail": "done"}  # nothing redone
    assert _rows(blob)["thumbnail"].updated_at == before

    default_storage.delete(done.storage_name)  # a lost file is made again
    assert derived.make_all(blob.pk) == {"thumbnail": "done"}
    assert default_storage.exists(done.storage_name)


@pytest.mark.django_db
def test_running_claim_of_another_worker_is_left_alone(tmp_path, monkeypatch):
    from reslib.resources import storage

    blob = _blob(media.image(tmp_path))
    DerivedFile.objects.create(blob=blob, kind="thumbnail", state=State.RUNNING, attempts=1)
    copies = []
    real = storage.local_copy
    monkeypatch.setattr(storage, "local_copy", lambda *a, **k: copies.append(a) or real(*a, **k))
    assert derived.make_all(blob.pk) == {"thumbnail": "running"}
    assert copies == []  # nothing to do here: the file is not fetched (a full download on S3)
    assert derived.make_all(999_999) == {}  # a blob deleted meanwhile is not an error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the worker loop closes its connections
def test_the_retry_of_a_task_whose_worker_died_finishes_what_it_left_running(tmp_path):
    """kill -9 during make_derived_files leaves the task and its thumbnail row "running"; once the task is put back
    (recover_stale_tasks), the next worker's attempt takes the row over instead of waiting hours for it."""
    import signal

    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from reslib.core.services import recover_stale_tasks

    blob = _blob(media.image(tmp_path))
    DerivedFile.objects.create(blob=blob, kind="thumbnail", state=State.RUNNING, attempts=1)
    task_id = tasks.make_derived_files.enqueue(blob.pk).id
    DBTaskResult.objects.filter(pk=task_id).update(status="RUNNING", worker_ids=["killed"],
                                                   started_at=timezone.now() - datetime.timedelta(hours=1))
    assert recover_stale_tasks()["requeued"] == 1
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert DBTaskResult.objects.get(pk=task_id).status == "SUCCESSFUL"
    row = _rows(blob)["thumbnail"]
    assert (row.state, row.attempts) == (State.DONE, 2)


@pytest.mark.django_db
def test_failure_schedules_a_deferred_retry_on_the_database_queue(tmp_path, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    blob = _blob(media.image(tmp_path))
    monkeypatch.setitem(derived.MAKERS, "thumbnail", lambda *a: 1 / 0)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        derived.make_all(blob.pk)
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [blob.pk] and queued.run_after is not None


@pytest.mark.django_db
def test_derived_files_on_s3(s3_storage, tmp_path):
    blob = _blob(media.image(tmp_path, size=(960, 480)))
    assert derived.make_all(blob.pk) == {"thumbnail": "done"}
    row = _rows(blob)["thumbnail"]
    key = f"derived/{blob.sha256}/thumbnail.jpg"
    assert row.storage_name == key
    obj = s3_storage["client"].get_object(Bucket=s3_storage["bucket"], Key=key)
    assert obj["ContentLength"] == row.size


def test_browser_playable_rules():
    class B:
        def __init__(self, **probe):
            self.probe = probe

    assert derived.browser_playable(B(container="mp4", has_video=True, video_codec="h264", has_audio=True,
                                      audio_codec="aac", pix_fmt="yuv420p"))
    assert derived.browser_playable(B(container="webm", has_video=True, video_codec="vp9", has_audio=True,
                                      audio_codec="opus"))
    assert not derived.browser_playable(B(container="mov", has_video=True, video_codec="h264"))
    assert not derived.browser_playable(B(container="mp4", has_video=True, video_codec="hevc"))
    assert not derived.browser_playable(B(container="mp4", has_video=True, video_codec="h264", has_audio=True,
                                          audio_codec="pcm"))
    assert not derived.browser_playable(B(container="mp4", has_video=True, video_codec="h264",
                                          pix_fmt="yuv422p10le"))

