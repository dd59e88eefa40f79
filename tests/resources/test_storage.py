"""Content-addressed storage on the local file system: streaming, hashing, dedupe, limits, reading back."""

import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from reslib.resources import storage
from reslib.resources.models import Blob

from . import media

pytestmark = pytest.mark.django_db


def _chunks(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _temp_files(settings) -> list[Path]:
    base = Path(settings.RESLIB_UPLOAD_TEMP_DIR)
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


def test_store_stream_hashes_and_moves_into_content_addressed_place(settings):
    data = media.png_bytes((64, 48))
    blob = storage.store_stream(_chunks(data), original_name="photo.png")

    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest
    assert blob.size == len(data)
    assert blob.storage_name == f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    stored = Path(settings.MEDIA_ROOT) / blob.storage_name
    assert stored.read_bytes() == data
    # The real type comes from the bytes.
    assert blob.mime_type == "image/png"
    assert blob.kind == "image"
    assert _temp_files(settings) == []


def test_same_bytes_are_stored_once(settings):
    data = b"same content " * 1000
    first = storage.store_stream(_chunks(data), original_name="a.txt")
    second = storage.store_stream(_chunks(data), original_name="b.txt")

    assert first.pk == second.pk
    assert Blob.objects.count() == 1
    assert _temp_files(settings) == []


def test_store_temp_file_hashes_when_not_told_and_removes_the_temp_file(tmp_path, settings):
    path = storage.new_temp_path()
    path.write_bytes(b"chapter one\n" * 100)
    blob = storage.store_temp_file(path, original_name="notes.txt")

    assert blob.sha256 == hashlib.sha256(b"chapter one\n" * 100).hexdigest()
    assert not path.exists()
    assert storage.open_blob(blob).read() == b"chapter one\n" * 100


def test_stream_over_the_limit_is_refused_and_leaves_nothing(settings):
    with pytest.raises(storage.UploadTooLarge) as info:
        storage.store_stream(_chunks(b"x" * 5000), original_name="big.bin", max_bytes=4096)
    assert info.value.http_status == 413
    assert Blob.objects.count() == 0
    assert _temp_files(settings) == []
    assert not (Path(settings.MEDIA_ROOT) / "blobs").exists()


def test_site_wide_size_limit_applies(settings):
    settings.RESLIB_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(storage.UploadTooLarge):
        storage.store_stream(_chunks(b"y" * 1001), original_name="big.bin")
    path = storage.new_temp_path()
    path.write_bytes(b"z" * 1001)
    with pytest.raises(storage.UploadTooLarge):
        storage.store_temp_file(path)
    assert not path.exists()
    assert Blob.objects.count() == 0


def test_stream_is_never_held_in_memory():
    """64 MiB streamed through store_stream allocates a small, constant amount of Python memory."""
    block = os.urandom(1024 * 1024)

    def blocks():
        for _ in range(64):
            yield block

    tracemalloc.start()
    try:
        blob = storage.store_stream(blocks(), original_name="big.bin")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == 64 * 1024 * 1024
    assert peak < 16 * 1024 * 1024, f"peak Python allocation {peak / 2**20:.1f} MiB"


def test_derived_files_are_scheduled_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        blob = storage.store_stream(_chunks(media.png_bytes((20, 20))), original_name="tiny.png")
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [blob.pk]
    assert task.task_path.endswith("make_derived_files")


def test_known_bytes_schedule_nothing_again(django_capture_on_commit_callbacks):
    data = b"known" * 100
    storage.store_stream(_chunks(data), original_name="a.txt")
    with django_capture_on_commit_callbacks() as callbacks:
        storage.store_stream(_chunks(data), original_name="a.txt")
    assert callbacks == []


def test_missing_stored_file_is_healed_by_the_same_bytes(settings):
    data = b"heal me" * 100
    blob = storage.store_stream(_chunks(data), original_name="a.txt")
    stored = Path(settings.MEDIA_ROOT) / blob.storage_name
    stored.unlink()
    again = storage.store_stream(_chunks(data), original_name="a.txt")
    assert again.pk == blob.pk
    assert stored.read_bytes() == data


def test_open_blob_is_seekable_locally_and_ranges_start_where_asked():
    data = bytes(range(256)) * 40
    blob = storage.store_stream(_chunks(data), original_name="bytes.bin")
    with storage.open_blob(blob) as fh:
        assert fh.seekable()
        fh.seek(1000)
        assert fh.read(10) == data[1000:1010]
    with storage.open_blob_range(blob, 500, 599) as fh:
        assert fh.read(100) == data[500:600]


def test_local_copy_is_the_stored_file_for_local_storage(settings):
    data = b"local" * 10
    blob = storage.store_stream(_chunks(data), original_name="a.txt")
    with storage.local_copy(blob) as path:
        assert path == Path(settings.MEDIA_ROOT) / blob.storage_name
        assert path.read_bytes() == data
    assert path.exists()  # the stored file itself, never deleted


def test_stored_files_are_readable_by_others(settings):
    blob = storage.store_stream(_chunks(b"perm" * 10), original_name="a.txt")
    mode = (Path(settings.MEDIA_ROOT) / blob.storage_name).stat().st_mode & 0o777
    assert mode & 0o444 == 0o444
