"""Content-addressed file storage: bytes in, a Blob out; a Blob in, bytes (or a local path) out.

Bytes never pass through memory whole. They are streamed to a temporary file under RESLIB_UPLOAD_TEMP_DIR (always
local: tus appends to it), hashed (sha256) while streaming, inspected there, and then moved into the default storage
under "blobs/ab/cd/<sha256>":

* local storage (FileSystemStorage): fsync, then os.replace into place — no copy when the temporary directory and
  MEDIA_ROOT share a file system;
* any other storage (S3 through django-storages): Storage.save with the open file, which S3Storage streams as a
  multipart upload.

The same bytes are stored once: a second upload with a known sha256 returns the existing Blob.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from reslib.core.errors import DomainError

from .models import Blob

COPY_CHUNK = 1024 * 1024


class UploadTooLarge(DomainError):
    code = "upload.too_large"
    http_status = 413
    default_message = _("The file is larger than the site allows.")

    @classmethod
    def over_limit(cls, limit: int) -> UploadTooLarge:
        from django.template.defaultfilters import filesizeformat
        from django.utils.text import format_lazy

        return cls(format_lazy(_("The file is larger than the site allows ({limit})."), limit=filesizeformat(limit)))


def max_upload_bytes() -> int:
    return int(settings.RESLIB_MAX_UPLOAD_BYTES)


def temp_dir(*parts: str) -> Path:
    """The local directory for unfinished files (created on demand)."""
    path = Path(settings.RESLIB_UPLOAD_TEMP_DIR).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_temp_path(prefix: str = "stream-", suffix: str = ".part") -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=temp_dir())
    os.close(fd)
    return Path(name)


def blob_storage_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def hash_file(path: Path, algorithm: str = "sha256") -> str:
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(COPY_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _storage():
    return default_storage


def _local_path(storage, name: str) -> Path | None:
    """The real path of `name` when the storage is a local directory, else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def _move_into_storage(path: Path, name: str) -> None:
    """Put the complete temporary file at `name` in the default storage; the temporary file is gone afterwards."""
    storage = _storage()
    target = _local_path(storage, name)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # same content already there (content-addressed)
            path.unlink(missing_ok=True)
            return
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
        mode = getattr(storage, "file_permissions_mode", None) or 0o644
        os.chmod(path, mode)
        try:
            os.replace(path, target)
        except OSError:
            # Different file systems: copy next to the target under a temporary name, then rename into place.
            fd, staging = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
            with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out, COPY_CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(staging, mode)
            os.replace(staging, target)
            path.unlink(missing_ok=True)
        return
    if not storage.exists(name):
        with open(path, "rb") as fh:
            saved = storage.save(name, File(fh, name=name))
        if saved != name:  # a storage that renamed instead of accepting the content-addressed name
            storage.delete(saved)
            raise RuntimeError(f"storage stored {name!r} as {saved!r}")
    path.unlink(missing_ok=True)


def store_temp_file(path: Path, *, sha256: str | None = None, original_name: str = "") -> Blob:
    """Move a complete local temporary file into storage and return its Blob (existing one for known content).

    Inspection (real type from the bytes) and the virus scan run on the local file before the move. Derived files
    (posters, previews, web renditions) are scheduled after the surrounding transaction commits.
    """
    path = Path(path)
    size = path.stat().st_size
    limit = max_upload_bytes()
    if size > limit:
        path.unlink(missing_ok=True)
        raise UploadTooLarge.over_limit(limit)
    if sha256 is None:
        sha256 = hash_file(path)
    name = blob_storage_name(sha256)

    existing = Blob.objects.filter(sha256=sha256).first()
    if existing is not None:
        storage = _storage()
        if storage.exists(existing.storage_name):
            path.unlink(missing_ok=True)
        else:  # the stored copy went missing: heal it with these identical bytes
            _move_into_storage(path, existing.storage_name)
        return existing

    from . import inspection, scanning  # imported late: inspection pulls in PyAV and friends

    info = inspection.inspect_file(path, original_name or path.name)
    scan_status, scan_detail = scanning.scan_path(path)
    _move_into_storage(path, name)
    try:
        with transaction.atomic():
            blob = Blob.objects.create(
                sha256=sha256, size=size, storage_name=name, mime_type=(info.get("mime_type") or "")[:128],
                kind=(info.get("kind") or "")[:16], probe=info.get("probe") or {}, scan_status=scan_status,
                scan_detail=(scan_detail or "")[:255],
            )
    except IntegrityError:  # the same bytes were stored concurrently
        return Blob.objects.get(sha256=sha256)

    blob_pk = blob.pk

    def _schedule():
        from . import tasks

        tasks.make_derived_files.enqueue(blob_pk)

    transaction.on_commit(_schedule)
    return blob


def store_stream(chunks: Iterable[bytes], *, original_name: str, max_bytes: int | None = None) -> Blob:
    """Write `chunks` to a temporary file, hashing as they arrive, then store it (see store_temp_file)."""
    limit = min(max_bytes, max_upload_bytes()) if max_bytes is not None else max_upload_bytes()
    path = new_temp_path()
    hasher = hashlib.sha256()
    written = 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                if not chunk:
                    continue
                written += len(chunk)
                if written > limit:
                    raise UploadTooLarge.over_limit(limit)
                hasher.update(chunk)
                out.write(chunk)
        return store_temp_file(path, sha256=hasher.hexdigest(), original_name=original_name)
    finally:
        path.unlink(missing_ok=True)  # gone already after a successful store


def iter_file(fileobj, chunk_size: int = COPY_CHUNK) -> Iterator[bytes]:
    """Chunks of an uploaded file (Django UploadedFile or any binary file object)."""
    if hasattr(fileobj, "chunks"):
        yield from fileobj.chunks(chunk_size)
        return
    while chunk := fileobj.read(chunk_size):
        yield chunk


class _StreamingBody(io.RawIOBase):
    """A read-only, non-seekable file over an object-store response body (read in pieces, never whole)."""

    def __init__(self, body, size: int | None = None):
        self._body = body
        self.size = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            super().close()


def s3_object(storage, name: str):
    """The boto3 Object for `name` when the storage is django-storages' S3Storage, else None."""
    bucket = getattr(storage, "bucket", None)
    if bucket is None or not hasattr(storage, "_normalize_name"):
        return None
    from storages.utils import clean_name

    return bucket.Object(storage._normalize_name(clean_name(name)))


def open_blob(blob: Blob):
    """A binary file object of the blob's bytes: the real file (seekable) for local storage, a stream otherwise."""
    return open_blob_range(blob)


def open_blob_range(blob: Blob, start: int = 0, end: int | None = None):
    """Like open_blob, positioned at `start`; for object stores only bytes start..end (inclusive) are fetched.

    Callers still limit how much they read: a local file is not truncated at `end`.
    """
    storage = _storage()
    local = _local_path(storage, blob.storage_name)
    if local is not None:
        fh = open(local, "rb")
        if start:
            fh.seek(start)
        return fh
    obj = s3_object(storage, blob.storage_name)
    if obj is not None:
        kwargs = {}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        response = obj.get(**kwargs)
        return io.BufferedReader(_StreamingBody(response["Body"], response.get("ContentLength")), COPY_CHUNK)
    fh = storage.open(blob.storage_name, "rb")
    if start:
        fh.seek(start)
    return fh


@contextlib.contextmanager
def local_copy(blob: Blob, *, suffix: str = "", directory: Path | None = None) -> Iterator[Path]:
    """A local path holding the blob's bytes: the stored file itself when local (do not modify it!), else a
    temporary copy streamed from the object store (into `directory`, default the upload temp dir) and removed on
    exit."""
    storage = _storage()
    local = _local_path(storage, blob.storage_name)
    if local is not None:
        yield local
        return
    fd, name = tempfile.mkstemp(prefix="blob-", suffix=suffix, dir=directory or temp_dir())
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, open_blob(blob) as src:
            shutil.copyfileobj(src, out, COPY_CHUNK)
        yield path
    finally:
        path.unlink(missing_ok=True)


def delete_stored(name: str) -> None:
    """Remove a stored file if present (for cleanup of files no Blob refers to)."""
    storage = _storage()
    if storage.exists(name):
        storage.delete(name)
