"""The tus 1.0.0 endpoint at /api/v1/uploads/: protocol answers, checksums, resume, expiry, who may touch what."""

import base64
import contextlib
import datetime
import fcntl
import hashlib
import http.client
import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client
from django.utils import timezone

from reslib.accounts import services as account_services
from reslib.core.models import AuditEntry
from reslib.resources import storage, tasks, uploads
from reslib.resources.models import Blob, DerivedFile, Upload, VersionFile

from .. import factories
from .conftest import _free_ports, _stop

pytestmark = pytest.mark.django_db

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def meta(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class Tus:
    """A thin tus client over Django's test client."""

    def __init__(self, client: Client, base: str, token: str | None = None):
        self.client = client
        self.base = base
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def _headers(self, extra):
        return {**TUS, **self.auth, **(extra or {})}

    def create(self, length, *, filename="lesson.mp4", headers=None, data=None, **extra):
        h = self._headers({"Upload-Length": str(length), "Upload-Metadata": meta(filename=filename), **(headers or {})})
        if data is not None:
            return self.client.generic("POST", self.base, data=data, content_type=OCTETS, headers=h, **extra)
        return self.client.generic("POST", self.base, headers=h, **extra)

    def head(self, url, headers=None):
        return self.client.head(url, headers=self._headers(headers))

    def patch(self, url, data, offset, *, headers=None, content_type=OCTETS, **extra):
        h = self._headers({"Upload-Offset": str(offset), **(headers or {})})
        extra.setdefault("CONTENT_TYPE", content_type)
        return self.client.generic("PATCH", url, data=data, content_type=content_type, headers=h, **extra)

    def delete(self, url, headers=None):
        return self.client.delete(url, headers=self._headers(headers))


@pytest.fixture
def tus(client, tus_urls, api_token):
    return Tus(client, tus_urls, api_token)


@pytest.fixture
def other(client, tus_urls, outsider_token):
    return Tus(Client(), tus_urls, outsider_token)


@pytest.fixture
def draft(upload_library, builder):
    """A draft resource `builder` may attach uploads to."""
    return factories.resource(upload_library, builder)


def attach(user, resource, upload_url):
    """Attach an upload to the resource's draft through the JSON API, as `user`."""
    client = Client()
    client.force_login(user)
    return client.post(f"/api/v1/resources/{resource.pk}/files", {"upload_id": upload_url, "role": "attachment"},
                       content_type="application/json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def created_url(response) -> str:
    assert response.status_code == 201, response.content
    return response["Location"]


def upload_of(url) -> Upload:
    return Upload.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])


class PartialBody(io.RawIOBase):
    """A request body whose connection drops after `data` (the client claimed more)."""

    def __init__(self, data: bytes):
        self._buf = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, size=-1):
        chunk = self._buf.read(size)
        if not chunk:
            raise OSError("connection reset by peer")
        return chunk


# --- Discovery and creation ---------------------------------------------------------------------------------------


def test_options_announces_version_extensions_and_limits(client, tus_urls, settings):
    response = client.options(tus_urls)
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "checksum", "expiration"}
    assert response["Tus-Max-Size"] == str(settings.RESLIB_MAX_UPLOAD_BYTES)
    assert set(response["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}


def test_create_then_head_reports_offset_length_and_expiry(tus, builder):
    response = tus.create(1000, filename="第一讲.mp4")
    url = created_url(response)
    assert url.startswith("http://testserver/api/v1/uploads/")
    assert response["Tus-Resumable"] == "1.0.0"
    assert "GMT" in response["Upload-Expires"]

    upload = upload_of(url)
    assert upload.user == builder
    assert upload.length == 1000
    assert upload.filename == "第一讲.mp4"
    assert Path(upload.temp_path).exists()
    entry = AuditEntry.objects.get(action="upload.create")
    assert entry.actor == builder and entry.target_id == str(upload.pk)

    head = tus.head(url)
    assert head.status_code == 200
    assert head["Upload-Offset"] == "0"
    assert head["Upload-Length"] == "1000"
    assert head["Cache-Control"] == "no-store"
    assert head.content == b""


def test_missing_tus_resumable_is_412(tus):
    url = created_url(tus.create(10))
    no_version = {"Tus-Resumable": ""}
    assert tus.client.generic("POST", tus.base, headers={**tus.auth, "Upload-Length": "10"}).status_code == 412
    response = tus.patch(url, b"0123456789", 0, headers=no_version)
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"
    assert tus.head(url, headers={"Tus-Resumable": "0.2.2"}).status_code == 412
    assert upload_of(url).offset == 0


def test_upload_length_over_the_limit_is_413(tus, settings):
    settings.RESLIB_MAX_UPLOAD_BYTES = 1000
    response = tus.create(1001)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload.too_large"
    assert Upload.objects.count() == 0


def test_bad_length_and_metadata_are_400(tus):
    assert tus.create("abc").status_code == 400
    assert tus.client.generic("POST", tus.base, headers={**TUS, **tus.auth}).status_code == 400  # no Upload-Length
    response = tus.create(10, headers={"Upload-Metadata": "filename not*base64"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "upload.metadata_invalid"


# --- Who may upload -----------------------------------------------------------------------------------------------


def test_anonymous_is_refused_with_the_json_error_shape(client, tus_urls):
    response = client.generic("POST", tus_urls, headers={**TUS, "Upload-Length": "10"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.required"
    assert Upload.objects.count() == 0


def test_wrong_token_is_refused(client, tus_urls):
    response = client.generic("POST", tus_urls, headers={**TUS, "Upload-Length": "10",
                                                          "Authorization": "Bearer rl_nope"})
    assert response.status_code == 401
    assert Upload.objects.count() == 0


def test_session_needs_the_csrf_header(tus_urls, builder, upload_library):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(builder)
    refused = browser.generic("POST", tus_urls, headers={**TUS, "Upload-Length": "10"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "auth.csrf_failed"

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    accepted = browser.generic("POST", tus_urls, headers={**TUS, "Upload-Length": "10",
                                                          "X-CSRFToken": _mask_cipher_secret(secret)})
    assert accepted.status_code == 201
    url = accepted["Location"]
    assert browser.head(url, headers=TUS).status_code == 200  # HEAD is safe: no token needed
    patched = browser.generic("PATCH", url, data=b"0123456789", content_type=OCTETS,
                              headers={**TUS, "Upload-Offset": "0", "X-CSRFToken": _mask_cipher_secret(secret)})
    assert patched.status_code == 204


def test_a_user_without_a_library_role_may_not_create_uploads(other, settings):
    response = other.create(1000)  # a signed-in learner: lead or builder of no library
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "upload.denied"
    assert error["message"] == "只有资源库的项目负责人和建设者才能上传文件。"
    assert Upload.objects.count() == 0
    assert list(Path(settings.RESLIB_UPLOAD_TEMP_DIR).rglob("*.part")) == []


def test_open_uploads_per_user_are_capped(tus, lead, settings):
    settings.RESLIB_MAX_OPEN_UPLOADS = 2
    unfinished = created_url(tus.create(10))
    created_url(tus.create(4, data=b"abcd"))  # finished but never attached: its stored file is still held for it
    refused = tus.create(10)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "upload.too_many_open"
    assert error["message"].startswith("您已有 2 个未结束的上传")
    assert Upload.objects.count() == 2

    _token, raw = account_services.create_api_token(lead, name="lead's script")
    assert Tus(Client(), tus.base, raw).create(10).status_code == 201  # the limit is per user

    assert tus.delete(unfinished).status_code == 204
    assert tus.create(10).status_code == 201


def test_uploads_attached_to_a_version_or_expired_stop_counting(tus, builder, draft, settings):
    settings.RESLIB_MAX_OPEN_UPLOADS = 1
    finished = created_url(tus.create(4, data=b"abcd"))
    assert tus.create(10).status_code == 403
    assert attach(builder, draft, finished).status_code == 201
    unfinished = created_url(tus.create(10))
    assert tus.create(10).status_code == 403
    _expire(unfinished)
    assert tus.create(10).status_code == 201


def test_declared_bytes_of_open_uploads_are_capped(tus, settings):
    settings.RESLIB_MAX_UPLOAD_BYTES = 1000
    settings.RESLIB_MAX_OPEN_UPLOAD_BYTES = 1500
    created_url(tus.create(1000))  # no byte sent yet: the declared Upload-Length counts
    refused = tus.create(501)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "upload.quota_exceeded"
    assert error["message"].startswith("您未结束的上传")
    assert Upload.objects.count() == 1
    assert tus.create(500).status_code == 201
    assert tus.create(1001).status_code == 413  # one upload over Tus-Max-Size stays what tus makes it


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_creations_cannot_both_pass_the_limit(builder, upload_library, settings, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time (BEGIN IMMEDIATE): creations cannot overlap")
    settings.RESLIB_MAX_OPEN_UPLOADS = 1
    both_checked = threading.Barrier(2, timeout=2)
    real_check = uploads._check_limits

    def check_then_linger(user, length):
        real_check(user, length)
        # Without the lock, the other creation passes its own check meanwhile; with it, it waits until we commit.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()

    monkeypatch.setattr(uploads, "_check_limits", check_then_linger)
    results = []

    def create():
        try:
            uploads.create_upload(user=builder, length=10)
            results.append("created")
        except uploads.TooManyOpenUploads:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["created", "refused"]
    assert Upload.objects.count() == 1


def test_another_users_upload_is_not_found(tus, other):
    url = created_url(tus.create(10))
    assert other.head(url).status_code == 404
    assert other.patch(url, b"0123456789", 0).status_code == 404
    assert other.delete(url).status_code == 404
    upload = upload_of(url)
    assert upload.offset == 0
    assert Path(upload.temp_path).stat().st_size == 0
    assert tus.head(url).status_code == 200


def test_unknown_upload_is_404(tus):
    url = tus.base + "6f1c1a2e-5d55-4f57-9a4e-2d7b7a0c0b11"
    assert tus.head(url).status_code == 404
    assert tus.patch(url, b"x", 0).status_code == 404
    assert tus.delete(url).status_code == 404


# --- Appending ----------------------------------------------------------------------------------------------------


def test_chunks_complete_the_upload_into_a_blob(tus, builder, settings, django_capture_on_commit_callbacks):
    data = os.urandom(300_000)
    url = created_url(tus.create(len(data), filename="clip.bin"))
    first = tus.patch(url, data[:100_000], 0)
    assert first.status_code == 204
    assert first["Upload-Offset"] == "100000"
    assert "Upload-Expires" in first
    assert tus.patch(url, data[100_000:250_000], 100_000)["Upload-Offset"] == "250000"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        last = tus.patch(url, data[250_000:], 250_000)
    assert last.status_code == 204
    assert last["Upload-Offset"] == str(len(data))
    assert len(callbacks) == 1  # derived files scheduled for the new blob

    upload = upload_of(url)
    assert upload.completed_at is not None
    blob = upload.blob
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    with storage.open_blob(blob) as fh:
        assert fh.read() == data
    assert not Path(upload.temp_path).exists()
    assert AuditEntry.objects.filter(action="upload.complete", target_id=str(upload.pk)).count() == 1
    assert AuditEntry.objects.filter(target_id=str(upload.pk)).count() == 2  # create + complete, none per chunk
    assert uploads.completed_upload(str(upload.pk), user=builder).blob == blob

    head = tus.head(url)
    assert head["Upload-Offset"] == head["Upload-Length"] == str(len(data))


def test_patch_needs_the_offset_content_type(tus):
    url = created_url(tus.create(10))
    response = tus.patch(url, b"0123456789", 0, content_type="application/octet-stream")
    assert response.status_code == 415
    assert upload_of(url).offset == 0


def test_offset_mismatch_is_409(tus):
    url = created_url(tus.create(20))
    assert tus.patch(url, b"0123456789", 0).status_code == 204
    response = tus.patch(url, b"0123456789", 5)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "upload.offset_mismatch"
    assert tus.patch(url, b"0123456789", 0).status_code == 409  # a replayed chunk is refused too
    assert upload_of(url).offset == 10


def test_data_past_the_declared_length_is_413(tus):
    url = created_url(tus.create(10))
    assert tus.patch(url, b"0123456789AB", 0).status_code == 413
    upload = upload_of(url)
    assert upload.offset == 0
    assert Path(upload.temp_path).stat().st_size == 0
    assert tus.patch(url, b"0123456789", 0).status_code == 204


def test_checksum_sha1_and_sha256_accept_good_chunks_and_460_on_mismatch(tus):
    data = os.urandom(2000)
    url = created_url(tus.create(len(data)))
    good_sha1 = base64.b64encode(hashlib.sha1(data[:1000]).digest()).decode()
    assert tus.patch(url, data[:1000], 0, headers={"Upload-Checksum": f"sha1 {good_sha1}"}).status_code == 204

    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    response = tus.patch(url, data[1000:], 1000, headers={"Upload-Checksum": f"sha256 {wrong}"})
    assert response.status_code == 460
    assert response.json()["error"]["code"] == "upload.checksum_mismatch"
    upload = upload_of(url)
    assert upload.offset == 1000  # chunk discarded, offset unchanged
    assert Path(upload.temp_path).stat().st_size == 1000

    wrong_sha1 = base64.b64encode(hashlib.sha1(b"nope").digest()).decode()
    assert tus.patch(url, data[1000:], 1000, headers={"Upload-Checksum": f"sha1 {wrong_sha1}"}).status_code == 460
    assert upload_of(url).offset == 1000

    good = base64.b64encode(hashlib.sha256(data[1000:]).digest()).decode()
    assert tus.patch(url, data[1000:], 1000, headers={"Upload-Checksum": f"sha256 {good}"}).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()


def test_unsupported_checksum_algorithm_is_400(tus):
    url = created_url(tus.create(4))
    md5 = base64.b64encode(hashlib.md5(b"abcd").digest()).decode()
    response = tus.patch(url, b"abcd", 0, headers={"Upload-Checksum": f"md5 {md5}"})
    assert response.status_code == 400
    assert upload_of(url).offset == 0


def test_resume_after_a_dropped_connection(tus):
    data = os.urandom(50_000)
    url = created_url(tus.create(len(data)))
    # The client says 30 000 bytes follow, but the connection drops after 12 345 of them.
    response = tus.patch(url, b"", 0, CONTENT_LENGTH="30000", **{"wsgi.input": PartialBody(data[:12_345])})
    assert response.status_code == 204
    head = tus.head(url)
    assert head["Upload-Offset"] == "12345"  # the bytes that did arrive are kept

    assert tus.patch(url, data[12_345:], 12_345).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()


def test_dropped_connection_with_a_checksum_keeps_nothing(tus):
    data = os.urandom(4000)
    url = created_url(tus.create(len(data)))
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    response = tus.patch(url, b"", 0, CONTENT_LENGTH="4000", headers={"Upload-Checksum": f"sha256 {digest}"},
                         **{"wsgi.input": PartialBody(data[:1000])})
    assert response.status_code == 460
    assert tus.head(url)["Upload-Offset"] == "0"


@pytest.fixture
def file_hashings(monkeypatch):
    """How many times a whole file was hashed after the upload (the running hash should make it unnecessary)."""
    calls = []
    real = storage.hash_file
    monkeypatch.setattr(storage, "hash_file", lambda path: calls.append(path) or real(path))
    return calls


def test_chunks_in_one_process_never_rehash_the_file(tus, file_hashings):
    data = os.urandom(30_000)
    url = created_url(tus.create(len(data)))
    assert tus.patch(url, data[:10_000], 0).status_code == 204
    assert tus.patch(url, data[10_000:], 10_000).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()
    assert file_hashings == []


def test_resume_in_another_process_hashes_the_file_once_at_completion(tus, file_hashings):
    data = os.urandom(30_000)
    url = created_url(tus.create(len(data)))
    assert tus.patch(url, data[:10_000], 0).status_code == 204
    uploads._hashers.drop(upload_of(url).pk)  # as if the next chunk reached another worker process
    assert tus.patch(url, data[10_000:20_000], 10_000).status_code == 204
    assert tus.patch(url, data[20_000:], 20_000).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()
    assert len(file_hashings) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_completion_stores_the_file_outside_any_transaction(tus, monkeypatch):
    """Inspection, virus scan and the move of a large file must not hold the database (SQLite: every writer)."""
    seen = []
    real = storage.store_temp_file
    monkeypatch.setattr(storage, "store_temp_file",
                        lambda *args, **kwargs: seen.append(connection.in_atomic_block) or real(*args, **kwargs))
    data = os.urandom(5000)
    url = created_url(tus.create(len(data)))
    assert tus.patch(url, data, 0).status_code == 204
    assert seen == [False]
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()


def test_a_completion_cut_short_is_finished_by_an_empty_patch(tus, monkeypatch):
    data = os.urandom(5000)
    url = created_url(tus.create(len(data)))
    real = storage.store_temp_file

    def dies(*args, **kwargs):
        raise OSError("worker killed while storing")

    monkeypatch.setattr(storage, "store_temp_file", dies)
    with pytest.raises(OSError):
        tus.patch(url, data, 0)
    upload = upload_of(url)
    assert (upload.offset, upload.completed_at, upload.blob_id) == (len(data), None, None)
    monkeypatch.setattr(storage, "store_temp_file", real)
    assert tus.patch(url, b"", len(data)).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()


class WorkerKilled(BaseException):
    """The worker process dying in the middle of a request (no `except Exception` handles it)."""


def kill_after(monkeypatch, module, name):
    """Let the real step run, then die as if the worker were killed right after it."""
    real = getattr(module, name)

    def step(*args, **kwargs):
        real(*args, **kwargs)
        raise WorkerKilled(name)

    monkeypatch.setattr(module, name, step)


def interrupted_upload(tus, monkeypatch, data, *, after) -> str:
    """An upload whose bytes all arrived and whose completion died right after `after` (a storage function)."""
    url = created_url(tus.create(len(data)))
    with monkeypatch.context() as m:
        kill_after(m, storage, after)
        with pytest.raises(WorkerKilled):
            tus.patch(url, data, 0)
    upload = upload_of(url)
    assert (upload.offset, upload.completed_at, upload.blob_id) == (len(data), None, None)
    return url


def test_a_completion_killed_after_moving_the_file_is_finished_by_the_next_patch(tus, monkeypatch):
    data = os.urandom(5000)
    url = interrupted_upload(tus, monkeypatch, data, after="_move_into_storage")
    assert not Blob.objects.exists()  # the bytes went into storage, the Blob was never recorded
    assert tus.head(url)["Upload-Offset"] == str(len(data))

    response = tus.patch(url, b"", len(data))
    assert response.status_code == 204
    assert response["Upload-Offset"] == str(len(data))
    upload = upload_of(url)
    assert upload.completed_at is not None
    with storage.open_blob(upload.blob) as fh:
        assert fh.read() == data
    assert not Path(upload.temp_path).exists()
    assert AuditEntry.objects.filter(action="upload.complete", target_id=str(upload.pk)).count() == 1


def test_data_past_the_end_of_an_interrupted_upload_is_refused_and_the_upload_finished(tus, monkeypatch):
    data = os.urandom(5000)
    url = interrupted_upload(tus, monkeypatch, data, after="store_temp_file")
    blob = Blob.objects.get()  # recorded, but never linked to the upload

    response = tus.patch(url, b"extra bytes", len(data))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload.too_large"
    upload = upload_of(url)
    assert upload.completed_at is not None
    assert upload.blob == blob
    assert (blob.sha256, blob.size) == (sha256(data), len(data))
    assert tus.patch(url, b"", len(data)).status_code == 204


def test_attaching_an_interrupted_upload_finishes_it(tus, builder, lead, draft, monkeypatch):
    data = os.urandom(5000)
    url = interrupted_upload(tus, monkeypatch, data, after="_move_into_storage")

    refused = attach(lead, draft, url)  # the library's lead, but not the upload's owner
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "resource.upload_unknown"
    assert upload_of(url).completed_at is None

    response = attach(builder, draft, url)
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == sha256(data)
    assert upload_of(url).completed_at is not None
    with storage.open_blob(VersionFile.objects.get(version__resource=draft).blob) as fh:
        assert fh.read() == data


def test_leftover_bytes_of_a_dead_request_are_cut_off(tus):
    data = os.urandom(2000)
    url = created_url(tus.create(len(data)))
    assert tus.patch(url, data[:1000], 0).status_code == 204
    with open(upload_of(url).temp_path, "ab") as fh:  # a crashed worker wrote but never committed the offset
        fh.write(b"garbage" * 10)
    assert tus.patch(url, data[1000:], 1000).status_code == 204
    assert upload_of(url).blob.sha256 == hashlib.sha256(data).hexdigest()


def test_a_concurrent_patch_is_refused_with_423(tus):
    url = created_url(tus.create(10))
    with open(upload_of(url).temp_path, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # another request is writing
        response = tus.patch(url, b"0123456789", 0)
    assert response.status_code == 423
    assert tus.patch(url, b"0123456789", 0).status_code == 204


def test_creation_with_upload(tus):
    data = os.urandom(5000)
    response = tus.create(len(data), data=data[:3000])
    url = created_url(response)
    assert response["Upload-Offset"] == "3000"
    assert tus.patch(url, data[3000:], 3000).status_code == 204

    whole = tus.create(len(data), data=data, filename="whole.bin")
    assert whole.status_code == 201
    assert whole["Upload-Offset"] == str(len(data))
    assert "Upload-Expires" not in whole  # complete: nothing to expire
    assert upload_of(whole["Location"]).blob.sha256 == hashlib.sha256(data).hexdigest()


def test_creation_with_upload_and_a_bad_checksum_creates_the_upload_empty(tus):
    wrong = base64.b64encode(hashlib.sha1(b"x").digest()).decode()
    response = tus.create(100, data=b"a" * 50, headers={"Upload-Checksum": f"sha1 {wrong}"})
    assert response.status_code == 460
    assert tus.head(response["Location"])["Upload-Offset"] == "0"


def test_zero_length_upload_is_complete_at_once(tus):
    response = tus.create(0, filename="empty.txt")
    upload = upload_of(created_url(response))
    assert upload.completed_at is not None
    assert upload.blob.size == 0


def test_identical_uploads_share_one_blob(tus):
    data = os.urandom(1000)
    first = tus.create(len(data), data=data)
    second = tus.create(len(data), data=data)
    assert upload_of(first["Location"]).blob_id == upload_of(second["Location"]).blob_id
    assert Blob.objects.count() == 1


def test_method_override_for_clients_without_patch_and_delete(tus):
    url = created_url(tus.create(4))
    response = tus.client.post(url, data=b"abcd", content_type=OCTETS,
                               headers={**TUS, **tus.auth, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"})
    assert response.status_code == 204
    assert response["Upload-Offset"] == "4"

    other_url = created_url(tus.create(4))
    response = tus.client.generic("POST", other_url, headers={**TUS, **tus.auth, "X-HTTP-Method-Override": "DELETE"})
    assert response.status_code == 204
    assert upload_of(url).completed_at is not None
    assert tus.head(other_url).status_code == 404


# --- Chunked request bodies (Transfer-Encoding: chunked, no Content-Length) ---------------------------------------

CHUNKED = {"Transfer-Encoding": "chunked"}


def decoded(body) -> dict:
    """What a WSGI server that decodes chunked bodies (granian, gunicorn) hands the app: no CONTENT_LENGTH, the body
    up to its end as wsgi.input, and wsgi.input_terminated to say it may be read to the end."""
    return {"wsgi.input": io.BytesIO(body) if isinstance(body, bytes) else body, "wsgi.input_terminated": True}


class EndlessBody(io.RawIOBase):
    """A chunked body that never ends; counts how much of it was read."""

    def __init__(self):
        self.consumed = 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = size if size > 0 else 65536
        self.consumed += size
        return b"x" * size


def test_a_chunked_patch_stores_its_bytes(tus):
    data = os.urandom(150_000)
    url = created_url(tus.create(len(data)))
    first = tus.patch(url, b"", 0, headers=CHUNKED, **decoded(data[:100_000]))
    assert first.status_code == 204
    assert first["Upload-Offset"] == "100000"
    assert tus.head(url)["Upload-Offset"] == "100000"
    assert tus.patch(url, b"", 100_000, headers=CHUNKED, **decoded(data[100_000:])).status_code == 204
    with storage.open_blob(upload_of(url).blob) as fh:
        assert fh.read() == data


def test_creation_with_a_chunked_body(tus):
    data = os.urandom(3000)
    response = tus.create(len(data), headers=CHUNKED, CONTENT_TYPE=OCTETS, **decoded(data))
    assert response["Upload-Offset"] == str(len(data))
    assert upload_of(created_url(response)).blob.sha256 == sha256(data)


def test_a_chunked_body_past_the_length_is_413_and_read_no_further(tus):
    url = created_url(tus.create(1000))
    assert tus.patch(url, b"", 0, headers=CHUNKED, **decoded(b"y" * 400)).status_code == 204
    body = EndlessBody()
    response = tus.patch(url, b"", 400, headers=CHUNKED, **decoded(body))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload.too_large"
    assert body.consumed == 601  # what still fitted, and one byte to see that more came
    upload = upload_of(url)
    assert upload.offset == 400
    assert Path(upload.temp_path).stat().st_size == 400


def test_chunked_data_for_a_finished_upload_is_413(tus):
    url = created_url(tus.create(4, data=b"abcd"))
    response = tus.patch(url, b"", 4, headers=CHUNKED, **decoded(b"more"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload.too_large"
    assert tus.patch(url, b"", 4, headers=CHUNKED, **decoded(b"")).status_code == 204
    assert upload_of(url).blob.sha256 == sha256(b"abcd")


def test_a_chunked_body_the_server_did_not_decode_is_411(tus):
    """Django's runserver hands the body over undecoded and unterminated: refuse it rather than store nothing."""
    url = created_url(tus.create(10))
    undecoded = io.BytesIO(b"a\r\n0123456789\r\n0\r\n\r\n")
    response = tus.patch(url, b"", 0, headers=CHUNKED, **{"wsgi.input": undecoded})
    assert response.status_code == 411
    assert response.json()["error"]["code"] == "upload.length_required"
    assert upload_of(url).offset == 0
    refused = tus.create(10, headers=CHUNKED, CONTENT_TYPE=OCTETS, **{"wsgi.input": io.BytesIO(b"0\r\n\r\n")})
    assert refused.status_code == 411
    assert Upload.objects.count() == 1


# --- Termination and expiry ---------------------------------------------------------------------------------------


def test_termination_removes_the_upload_and_its_bytes(tus, builder, django_capture_on_commit_callbacks):
    url = created_url(tus.create(100))
    assert tus.patch(url, b"x" * 40, 0).status_code == 204
    temp = Path(upload_of(url).temp_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert tus.delete(url).status_code == 204
    assert not temp.exists()
    assert tus.head(url).status_code == 404
    assert tus.patch(url, b"x", 40).status_code == 404
    entry = AuditEntry.objects.get(action="upload.terminate")
    assert entry.actor == builder and entry.before["offset"] == 40


def _expire(url):
    Upload.objects.filter(pk=upload_of(url).pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def test_expired_upload_is_410_and_cleaned_up(tus):
    url = created_url(tus.create(100))
    assert tus.patch(url, b"x" * 10, 0).status_code == 204
    temp = Path(upload_of(url).temp_path)
    _expire(url)
    assert tus.head(url).status_code == 410
    assert tus.patch(url, b"x" * 10, 10).status_code == 410

    result = tasks.cleanup_expired_uploads.call()
    assert result == {"uploads": 1, "files": 1, "blobs": 0}
    assert not temp.exists()
    assert tus.head(url).status_code == 404
    assert tasks.cleanup_expired_uploads.call() == {"uploads": 0, "files": 0, "blobs": 0}  # idempotent


def stored_path(name: str) -> Path:
    return Path(default_storage.path(name))


def test_a_finished_upload_never_attached_goes_with_its_stored_file_after_expiry(tus):
    data = os.urandom(3000)
    url = created_url(tus.create(len(data), data=data))
    blob = upload_of(url).blob
    thumbnail = DerivedFile.objects.create(
        blob=blob, kind=DerivedFile.Kind.THUMBNAIL, state=DerivedFile.State.DONE,
        storage_name=default_storage.save(f"derived/{blob.sha256}/thumbnail.webp", ContentFile(b"RIFF-webp")))
    assert stored_path(blob.storage_name).exists() and stored_path(thumbnail.storage_name).exists()

    _expire(url)
    assert tus.head(url).status_code == 410
    assert tasks.cleanup_expired_uploads.call() == {"uploads": 1, "files": 0, "blobs": 1}
    assert not Upload.objects.exists()
    assert not Blob.objects.filter(pk=blob.pk).exists()
    assert not DerivedFile.objects.exists()
    assert not stored_path(blob.storage_name).exists()
    assert not stored_path(thumbnail.storage_name).exists()
    entry = AuditEntry.objects.get(action="upload.blob_delete")
    assert entry.actor is None and entry.before["sha256"] == blob.sha256


def test_cleanup_never_deletes_a_stored_file_a_version_uses(tus, builder, draft):
    data = os.urandom(3000)
    attached = created_url(tus.create(len(data), data=data, filename="a.bin"))
    assert attach(builder, draft, attached).status_code == 201
    twin = created_url(tus.create(len(data), data=data, filename="b.bin"))  # the same bytes, never attached
    blob = upload_of(twin).blob
    _expire(attached)
    _expire(twin)

    assert tasks.cleanup_expired_uploads.call() == {"uploads": 2, "files": 0, "blobs": 0}
    assert VersionFile.objects.get(version__resource=draft).blob == blob
    with storage.open_blob(blob) as fh:
        assert fh.read() == data


def test_an_expired_finished_upload_can_no_longer_be_attached(tus, builder, draft):
    url = created_url(tus.create(4, data=b"abcd"))
    _expire(url)
    response = attach(builder, draft, url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "resource.upload_expired"
    assert error["fields"]["upload_id"][0]["message"] == "此上传已过期，请重新上传文件。"
    assert not VersionFile.objects.exists()


def test_attaching_renews_the_expiry(tus, builder, draft):
    url = created_url(tus.create(4, data=b"abcd"))
    Upload.objects.filter(pk=upload_of(url).pk).update(expires_at=timezone.now() + datetime.timedelta(minutes=1))
    assert attach(builder, draft, url).status_code == 201
    assert upload_of(url).expires_at > timezone.now() + datetime.timedelta(hours=1)


def test_cancelling_a_finished_upload_removes_its_stored_file_unless_a_version_uses_it(tus, builder, draft):
    lone = created_url(tus.create(4, data=b"abcd"))
    lone_blob = upload_of(lone).blob
    assert tus.delete(lone).status_code == 204
    assert not Blob.objects.filter(pk=lone_blob.pk).exists()
    assert not stored_path(lone_blob.storage_name).exists()

    used = created_url(tus.create(4, data=b"wxyz"))
    assert attach(builder, draft, used).status_code == 201
    twin = created_url(tus.create(4, data=b"wxyz"))
    assert tus.delete(twin).status_code == 204
    with storage.open_blob(upload_of(used).blob) as fh:
        assert fh.read() == b"wxyz"


def test_patch_extends_the_expiry(tus):
    url = created_url(tus.create(100))
    Upload.objects.filter(pk=upload_of(url).pk).update(expires_at=timezone.now() + datetime.timedelta(minutes=1))
    assert tus.patch(url, b"x" * 10, 0).status_code == 204
    assert upload_of(url).expires_at > timezone.now() + datetime.timedelta(hours=1)


def test_cleanup_command_spares_live_uploads_and_removes_stray_files(tus, settings, capsys):
    live = created_url(tus.create(100))
    dead = created_url(tus.create(100))
    _expire(dead)
    stray = storage.new_temp_path()
    old = (timezone.now() - datetime.timedelta(hours=settings.RESLIB_UPLOAD_EXPIRY_HOURS + 1)).timestamp()
    os.utime(stray, (old, old))
    fresh = storage.new_temp_path()  # a stream being written right now

    call_command("cleanup_uploads")
    assert "1 expired upload" in capsys.readouterr().out
    assert Path(upload_of(live).temp_path).exists()
    assert not Upload.objects.filter(pk=dead.rsplit("/", 1)[1]).exists()
    assert not stray.exists()
    assert fresh.exists()


# --- A real tus client against a real server ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tuspy_uploads_a_multi_chunk_file_over_http(live_server, tus_urls, api_token, tmp_path):
    from tusclient import client as tus_client

    data = os.urandom(5 * 1024 * 1024 + 12_345)
    source = tmp_path / "课程视频.mp4"
    source.write_bytes(data)
    endpoint = live_server.url + tus_urls
    tc = tus_client.TusClient(endpoint, headers={"Authorization": f"Bearer {api_token}"})
    uploader = tc.uploader(file_path=str(source), chunk_size=1024 * 1024, metadata={"filename": source.name},
                           upload_checksum=True)
    uploader.upload()

    upload = upload_of(uploader.url)
    assert upload.completed_at is not None
    assert upload.filename == "课程视频.mp4"
    blob = upload.blob
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    with storage.open_blob(blob) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == blob.sha256


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tuspy_resumes_an_interrupted_upload(live_server, tus_urls, api_token, tmp_path):
    from tusclient import client as tus_client

    data = os.urandom(3 * 1024 * 1024)
    source = tmp_path / "handout.pdf"
    source.write_bytes(data)
    tc = tus_client.TusClient(live_server.url + tus_urls, headers={"Authorization": f"Bearer {api_token}"})
    first = tc.uploader(file_path=str(source), chunk_size=1024 * 1024)
    first.upload_chunk()  # one chunk, then the "page" goes away
    assert upload_of(first.url).offset == 1024 * 1024

    resumed = tc.uploader(file_path=str(source), chunk_size=1024 * 1024, url=first.url)
    assert resumed.offset == 1024 * 1024  # asked the server (HEAD) where to continue
    resumed.upload()
    assert upload_of(first.url).blob.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tuspy_with_another_users_token_cannot_resume(live_server, tus_urls, api_token, outsider_token, tmp_path):
    from tusclient import client as tus_client
    from tusclient.exceptions import TusCommunicationError

    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(2 * 1024 * 1024))
    mine = tus_client.TusClient(live_server.url + tus_urls, headers={"Authorization": f"Bearer {api_token}"})
    first = mine.uploader(file_path=str(source), chunk_size=1024 * 1024)
    first.upload_chunk()
    theirs = tus_client.TusClient(live_server.url + tus_urls, headers={"Authorization": f"Bearer {outsider_token}"})
    with pytest.raises(TusCommunicationError):
        theirs.uploader(file_path=str(source), chunk_size=1024 * 1024, url=first.url)
    assert upload_of(first.url).offset == 1024 * 1024


# --- Chunked bodies through granian, the production server ----------------------------------------------------------


@pytest.fixture
def granian(settings, tmp_path, api_token):
    """ResLib served by granian (which decodes chunked request bodies, unlike Django's live server) on a free port,
    with this test's file directories and its database, for a test marked transaction=True: the database itself on
    PostgreSQL, a copy of it on SQLite (the test database lives in this process's memory). Yields "host:port"."""
    env = {**os.environ, "RESLIB_DEBUG": "1", "RESLIB_LOG_LEVEL": "WARNING", "RESLIB_VAR_DIR": str(tmp_path / "var"),
           "RESLIB_MEDIA_ROOT": str(settings.MEDIA_ROOT),
           "RESLIB_UPLOAD_TEMP_DIR": str(settings.RESLIB_UPLOAD_TEMP_DIR)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if connection.vendor == "sqlite":
        copy = tmp_path / "server.sqlite3"
        connection.ensure_connection()
        with contextlib.closing(sqlite3.connect(copy)) as target:
            connection.connection.backup(target)
        env["RESLIB_DATABASE_URL"] = f"sqlite:///{copy}"
    else:
        db = connection.settings_dict
        credentials = urllib.parse.quote(db["USER"]) + (f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"]
                                                         else "")
        env["RESLIB_DATABASE_URL"] = f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    (port,) = _free_ports(1)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("granian")), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "1", "--log-level", "warning", "reslib.wsgi:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("OPTIONS", "/api/v1/uploads/")
                if conn.getresponse().status == 204:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            assert process.poll() is None and time.monotonic() < deadline, "granian did not start"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_chunked_patches_over_http_through_granian(granian, api_token):
    headers = {**TUS, "Authorization": f"Bearer {api_token}"}

    def request(method, path, body=None, **extra):
        conn = http.client.HTTPConnection(granian, timeout=30)
        if body is None:
            conn.request(method, path, headers={**headers, **extra})
        else:
            pieces = (body[i:i + 7000] for i in range(0, len(body), 7000))
            conn.request(method, path, body=pieces, encode_chunked=True,
                         headers={**headers, **extra, **CHUNKED, "Content-Type": OCTETS})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    data = os.urandom(250_000)
    created = request("POST", "/api/v1/uploads/", data[:50_000], **{"Upload-Length": str(len(data))})
    assert created.status == 201
    assert created.getheader("Upload-Offset") == "50000"
    path = urllib.parse.urlsplit(created.getheader("Location")).path
    patched = request("PATCH", path, data[50_000:], **{"Upload-Offset": "50000"})
    assert patched.status == 204
    assert patched.getheader("Upload-Offset") == str(len(data))
    head = request("HEAD", path)
    assert head.getheader("Upload-Offset") == head.getheader("Upload-Length") == str(len(data))
    assert head.getheader("Upload-Expires") is None  # finished
    assert stored_path(storage.blob_storage_name(sha256(data))).read_bytes() == data

    short = request("POST", "/api/v1/uploads/", **{"Upload-Length": "1000"})
    short_path = urllib.parse.urlsplit(short.getheader("Location")).path
    refused = request("PATCH", short_path, os.urandom(5000), **{"Upload-Offset": "0"})
    assert refused.status == 413
    assert request("HEAD", short_path).getheader("Upload-Offset") == "0"
