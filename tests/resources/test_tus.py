"""The tus 1.0.0 endpoint at /api/v1/uploads/: protocol answers, checksums, resume, expiry, who may touch what."""

import base64
import datetime
import fcntl
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client
from django.utils import timezone

from reslib.core.models import AuditEntry
from reslib.resources import storage, tasks, uploads
from reslib.resources.models import Blob, Upload

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


def test_session_needs_the_csrf_header(tus_urls, builder):
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
    from django.db import connection

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
    assert result == {"uploads": 1, "files": 1}
    assert not temp.exists()
    assert tus.head(url).status_code == 404
    assert tasks.cleanup_expired_uploads.call() == {"uploads": 0, "files": 0}  # idempotent


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
