"""The same storage contract against a real S3 server (SeaweedFS started by the suite)."""

import hashlib
import io
import os
from pathlib import Path

import pytest

from reslib.resources import storage, uploads
from reslib.resources.models import Blob

from . import media

pytestmark = pytest.mark.django_db


def _chunks(data: bytes, size: int = 256 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _keys(s3) -> list[str]:
    listing = s3["client"].list_objects_v2(Bucket=s3["bucket"])
    return [item["Key"] for item in listing.get("Contents", [])]


def test_store_stream_puts_a_multipart_object_in_the_bucket(s3_storage, settings):
    data = os.urandom(20 * 1024 * 1024 + 7)  # above boto3's 8 MiB multipart threshold
    blob = storage.store_stream(_chunks(data), original_name="lecture.bin")

    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest
    assert _keys(s3_storage) == [f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"]
    head = s3_storage["client"].head_object(Bucket=s3_storage["bucket"], Key=blob.storage_name)
    assert head["ContentLength"] == len(data)
    assert "-" in head["ETag"]  # a multipart upload's ETag is "<md5 of part md5s>-<parts>"
    assert not (Path(settings.MEDIA_ROOT) / "blobs").exists()  # nothing landed on the local disk
    assert [p for p in Path(settings.RESLIB_UPLOAD_TEMP_DIR).rglob("*") if p.is_file()] == []


def test_store_temp_file_inspects_before_the_move_and_dedupes(s3_storage, tmp_path):
    png = media.image(tmp_path, "diagram.png", size=(40, 30))
    data = png.read_bytes()
    temp = storage.new_temp_path()
    temp.write_bytes(data)
    blob = storage.store_temp_file(temp, original_name="diagram.png")
    assert blob.mime_type == "image/png"
    assert blob.kind == "image"
    assert not temp.exists()

    again = storage.new_temp_path()
    again.write_bytes(data)
    assert storage.store_temp_file(again, original_name="copy.png").pk == blob.pk
    assert not again.exists()
    assert Blob.objects.count() == 1
    assert len(_keys(s3_storage)) == 1


def test_open_blob_streams_and_ranges_from_the_bucket(s3_storage):
    data = bytes(range(256)) * 8192  # 2 MiB
    blob = storage.store_stream(_chunks(data), original_name="bytes.bin")
    with storage.open_blob(blob) as fh:
        assert not fh.seekable()
        assert fh.read(1000) == data[:1000]
        assert fh.read() == data[1000:]
    with storage.open_blob_range(blob, 100_000, 100_099) as fh:
        assert fh.read() == data[100_000:100_100]  # only the asked bytes were fetched
    with storage.open_blob_range(blob, len(data) - 10) as fh:
        assert fh.read() == data[-10:]


def test_serve_blob_streams_ranges_from_the_bucket(s3_storage):
    """Without nginx, a ranged download is one ranged GET on the bucket, passed through."""
    from django.test import RequestFactory

    from reslib.resources import delivery

    data = os.urandom(3 * 1024 * 1024 + 5)
    blob = storage.store_stream(_chunks(data), original_name="lecture.mp4")
    request = RequestFactory().get("/x", HTTP_RANGE="bytes=1048570-2097160")
    response = delivery.serve_blob(request, blob, filename="lecture.mp4", as_attachment=False)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1048570-2097160/{len(data)}"
    assert b"".join(response.streaming_content) == data[1048570:2097161]
    whole = delivery.serve_blob(RequestFactory().get("/x"), blob, filename="lecture.mp4", as_attachment=True)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == data


def test_local_copy_streams_to_a_temporary_file_and_removes_it(s3_storage):
    data = os.urandom(3 * 1024 * 1024)
    blob = storage.store_stream(_chunks(data), original_name="clip.mp4")
    with storage.local_copy(blob, suffix=".mp4") as path:
        assert path.suffix == ".mp4"
        assert path.read_bytes() == data
    assert not path.exists()


def test_missing_object_is_healed_by_the_same_bytes(s3_storage):
    data = b"heal me" * 1000
    blob = storage.store_stream(_chunks(data), original_name="a.txt")
    s3_storage["client"].delete_object(Bucket=s3_storage["bucket"], Key=blob.storage_name)
    assert storage.store_stream(_chunks(data), original_name="a.txt").pk == blob.pk
    assert _keys(s3_storage) == [blob.storage_name]


def test_a_finished_tus_upload_lands_in_the_bucket(s3_storage, builder, upload_library):
    data = os.urandom(1_500_000)
    upload = uploads.create_upload(user=builder, length=len(data), metadata={"filename": "talk.mp3"})
    uploads.append_chunk(upload.pk, user=builder, offset=0, stream=io.BytesIO(data[:1_000_000]),
                         content_length=1_000_000)
    finished = uploads.append_chunk(upload.pk, user=builder, offset=1_000_000, stream=io.BytesIO(data[1_000_000:]),
                                    content_length=len(data) - 1_000_000)
    blob = finished.blob
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    body = s3_storage["client"].get_object(Bucket=s3_storage["bucket"], Key=blob.storage_name)["Body"].read()
    assert body == data
    assert not Path(upload.temp_path).exists()
