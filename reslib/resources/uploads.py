"""Resumable uploads (the state behind the tus endpoint): create, append a chunk, complete, terminate, clean up.

Bytes go to a temporary file under RESLIB_UPLOAD_TEMP_DIR/tus/. One PATCH at a time per upload: an exclusive
flock on the temporary file guards the append (a second concurrent PATCH gets 423 Locked), and the offset is
committed in a short transaction that locks the Upload row (select_for_update) and re-checks it. The row lock is
not held while the body streams in: on SQLite a transaction is a database-wide write lock, and a slow client must
not stall every other writer for minutes.

A running sha256 of the whole file is kept per upload in this process (a chunk that continues where the cached hash
stopped just feeds it); when the next chunk lands in another worker process the hash is computed once, over the
finished file, at completion. Audit entries are written for create, complete and terminate — not per chunk.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import fcntl
import hashlib
import hmac
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import DomainError, NotFound, ValidationFailed

from . import storage
from .models import Upload

READ_CHUNK = 64 * 1024
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
MAX_METADATA_CHARS = 4096
CLEANUP_BATCH = 500


# --- Errors (the tus view maps http_status to the response status) ------------------------------------------------


class UploadNotFound(NotFound):
    code = "upload.not_found"
    default_message = _("No such upload.")


class UploadGone(DomainError):
    code = "upload.expired"
    http_status = 410
    default_message = _("This upload has expired; please start it again.")


class OffsetMismatch(DomainError):
    code = "upload.offset_mismatch"
    http_status = 409
    default_message = _("The upload offset does not match; ask the server for the current offset and resume.")


class UploadLocked(DomainError):
    code = "upload.locked"
    http_status = 423
    default_message = _("Another request is writing to this upload; try again in a moment.")


class ChecksumMismatch(DomainError):
    code = "upload.checksum_mismatch"
    http_status = 460
    default_message = _("The checksum of the data does not match; the chunk was discarded.")


# --- Running hashes per upload, for this process ------------------------------------------------------------------


class _HasherCache:
    """upload id → (offset the hash covers, sha256 object); bounded, least recently used dropped first."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[uuid.UUID, tuple[int, object]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, upload_id, offset: int):
        """The hasher covering exactly [0, offset), removed from the cache; None when there is none."""
        with self._lock:
            item = self._items.pop(upload_id, None)
        if item is not None and item[0] == offset:
            return item[1]
        return None

    def put(self, upload_id, offset: int, hasher) -> None:
        with self._lock:
            self._items[upload_id] = (offset, hasher)
            self._items.move_to_end(upload_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, upload_id) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


_hashers = _HasherCache()


# --- Helpers ------------------------------------------------------------------------------------------------------


def expiry_from(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) + datetime.timedelta(hours=settings.RESLIB_UPLOAD_EXPIRY_HOURS)


def tus_dir() -> Path:
    return storage.temp_dir("tus")


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """'sha256 <base64 digest>' → ("sha256", digest bytes); None when the header is absent."""
    if header is None or not header.strip():
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise ValidationFailed.single("Upload-Checksum", "upload.checksum_header_invalid",
                                      _("Upload-Checksum must be '<algorithm> <base64 digest>'."))
    algorithm, encoded = parts[0].lower(), parts[1]
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValidationFailed.single("Upload-Checksum", "upload.checksum_algorithm_unsupported",
                                      _("Unsupported checksum algorithm; use sha1 or sha256."))
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.single("Upload-Checksum", "upload.checksum_header_invalid",
                                      _("The checksum is not valid base64.")) from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise ValidationFailed.single("Upload-Checksum", "upload.checksum_header_invalid",
                                      _("The checksum has the wrong length for its algorithm."))
    return algorithm, digest


def get_upload(upload_id, *, user, for_update: bool = False) -> Upload:
    """The user's upload; another user's or an unknown one is 404, an expired unfinished one 410."""
    try:
        upload_id = uuid.UUID(str(upload_id))
    except ValueError:
        raise UploadNotFound() from None
    qs = Upload.objects.select_for_update() if for_update else Upload.objects.all()
    upload = qs.filter(pk=upload_id, user=user).first()
    if upload is None:
        raise UploadNotFound()
    if upload.completed_at is None and upload.expires_at <= timezone.now():
        raise UploadGone()
    return upload


def completed_upload(raw_id, *, user) -> Upload:
    """The user's finished upload named by `raw_id` — its id or its tus URL — for forms and API calls that take an
    `upload_id`; anything else is a validation error on that field."""
    upload_id = (raw_id or "").strip().rstrip("/").rsplit("/", 1)[-1]
    try:
        upload = get_upload(upload_id, user=user)
    except UploadNotFound:
        raise ValidationFailed.single("upload_id", "resource.upload_unknown",
                                      _("There is no such upload of yours.")) from None
    except UploadGone:  # expired before it was finished
        upload = None
    if upload is None or upload.completed_at is None or upload.blob_id is None:
        raise ValidationFailed.single("upload_id", "resource.upload_incomplete", _("This upload is not complete yet."))
    return upload


# --- Services -----------------------------------------------------------------------------------------------------


def create_upload(*, user, length: int, metadata: dict | None = None) -> Upload:
    metadata = dict(metadata or {})
    if length < 0:
        raise ValidationFailed.single("Upload-Length", "upload.length_invalid",
                                      _("Upload-Length must be a non-negative integer."))
    limit = storage.max_upload_bytes()
    if length > limit:
        raise storage.UploadTooLarge.over_limit(limit)
    upload_id = uuid.uuid4()
    path = tus_dir() / f"{upload_id}.part"
    path.touch(exist_ok=False)
    try:
        with transaction.atomic():
            upload = Upload.objects.create(id=upload_id, user=user, length=length, metadata=metadata,
                                           temp_path=str(path), expires_at=expiry_from())
            audit.record(actor=user, action="upload.create", target=upload,
                         after={"length": length, "filename": upload.filename})
            if length == 0:
                _complete(upload, path, hashlib.sha256(), by=user)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


@contextlib.contextmanager
def _locked_file(path: Path):
    try:
        fh = open(path, "r+b")
    except FileNotFoundError:
        raise UploadGone() from None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadLocked() from None
        yield fh
    finally:
        fh.close()  # releases the lock


def append_chunk(upload_id, *, user, offset: int, stream, content_length: int | None,
                 checksum: tuple[str, bytes] | None = None) -> Upload:
    """Append the bytes of `stream` (a file-like with read(n)) at `offset`; complete the upload when full. Returns
    the upload as it now stands.

    content_length None means "read until the stream ends" (chunked transfer encoding).
    """
    upload = get_upload(upload_id, user=user)
    if upload.completed_at is not None:
        if offset != upload.length:
            raise OffsetMismatch()
        if content_length:
            raise storage.UploadTooLarge(_("The upload is already complete."))
        return upload
    if offset != upload.offset:
        raise OffsetMismatch()
    if content_length is not None and offset + content_length > upload.length:
        raise storage.UploadTooLarge(_("The data goes past the declared Upload-Length."))

    path = Path(upload.temp_path)
    with _locked_file(path) as fh:
        # Fresh state now that no other request can write: the committed offset is the truth; bytes past it are
        # leftovers of a request that died before committing and are cut off.
        upload.refresh_from_db(fields=["offset", "completed_at", "expires_at"])
        if upload.completed_at is not None or offset != upload.offset:
            raise OffsetMismatch()
        fh.truncate(offset)
        fh.seek(offset)

        running = _hashers.take(upload.pk, offset)
        if running is None and offset == 0:
            running = hashlib.sha256()
        before = running.copy() if running is not None else None
        chunk_hasher = hashlib.new(checksum[0]) if checksum else None
        remaining = upload.length - offset
        to_read = content_length if content_length is not None else remaining + 1
        received = 0
        interrupted = False
        try:
            while received < to_read:
                try:
                    data = stream.read(min(READ_CHUNK, to_read - received))
                except OSError:
                    interrupted = True
                    break
                if not data:
                    interrupted = content_length is not None
                    break
                received += len(data)
                if received > remaining:
                    raise storage.UploadTooLarge(_("The data goes past the declared Upload-Length."))
                fh.write(data)
                if running is not None:
                    running.update(data)
                if chunk_hasher is not None:
                    chunk_hasher.update(data)
            if checksum is not None:
                if interrupted or not hmac.compare_digest(chunk_hasher.digest(), checksum[1]):
                    raise ChecksumMismatch()
        except DomainError:
            fh.truncate(offset)
            if before is not None:
                _hashers.put(upload.pk, offset, before)
            raise
        fh.flush()
        new_offset = offset + received

        with transaction.atomic():
            locked = Upload.objects.select_for_update().filter(pk=upload.pk).first()
            if locked is None:  # terminated or cleaned up meanwhile
                raise UploadNotFound()
            if locked.offset != offset or locked.completed_at is not None:
                fh.truncate(offset)
                raise OffsetMismatch()
            locked.offset = new_offset
            locked.expires_at = expiry_from()
            locked.save(update_fields=["offset", "expires_at"])
            if new_offset < locked.length and running is not None:
                _hashers.put(upload.pk, new_offset, running)
        if new_offset == locked.length:
            # Still holding the file lock, so no other request can touch it; outside any transaction, so the
            # inspection, virus scan and move of a large file do not keep the database locked. A request that dies
            # here leaves offset == length without completion: the client's next PATCH (no bytes) completes it.
            _hashers.drop(upload.pk)
            locked = _complete(locked, path, running, by=user)
        return locked


def _complete(upload: Upload, path: Path, running, *, by) -> Upload:
    """Store the full file, then link its Blob in a short transaction."""
    sha256 = running.hexdigest() if running is not None else None  # None: store_temp_file hashes the file once
    blob = storage.store_temp_file(path, sha256=sha256, original_name=upload.filename)
    with transaction.atomic():
        locked = Upload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None:  # terminated meanwhile; the stored Blob is content-addressed and simply unreferenced
            raise UploadNotFound()
        locked.blob = blob
        locked.completed_at = timezone.now()
        locked.save(update_fields=["blob", "completed_at"])
        audit.record(actor=by, action="upload.complete", target=locked,
                     after={"length": locked.length, "sha256": blob.sha256, "blob": blob.pk,
                            "filename": locked.filename})
    return locked


def terminate_upload(upload_id, *, user) -> None:
    with transaction.atomic():
        try:
            upload = get_upload(upload_id, user=user, for_update=True)
        except UploadGone:  # an expired upload may still be terminated
            upload = Upload.objects.select_for_update().get(pk=upload_id, user=user)
        audit.record(actor=user, action="upload.terminate", target=upload,
                     before={"length": upload.length, "offset": upload.offset, "filename": upload.filename})
        path = upload.temp_path
        upload_pk = upload.pk
        upload.delete()
        transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    _hashers.drop(upload_pk)


def cleanup_expired(now: datetime.datetime | None = None) -> dict:
    """Delete abandoned uploads: rows past expires_at with their temporary files, and stray temporary files.

    Idempotent; safe to run from several places. Finished uploads are deleted too once expired (their Blob stays).
    Returns counts for the log.
    """
    now = now or timezone.now()
    removed_rows = removed_files = 0
    expired = list(Upload.objects.filter(expires_at__lte=now).values_list("pk", "temp_path")[:10_000])
    for start in range(0, len(expired), CLEANUP_BATCH):
        batch = dict(expired[start:start + CLEANUP_BATCH])
        with transaction.atomic():
            # Only rows still expired and still there: another cleaner or a resumed PATCH may have got there first.
            gone = list(Upload.objects.select_for_update().filter(pk__in=batch, expires_at__lte=now)
                        .values_list("pk", flat=True))
            Upload.objects.filter(pk__in=gone).delete()
        removed_rows += len(gone)
        for pk in gone:
            _hashers.drop(pk)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(batch[pk])
                removed_files += 1
    # Temporary files no row refers to (a crash between creating the file and committing the row, or a stream
    # upload that died) once they are older than the expiry period.
    cutoff = (now - datetime.timedelta(hours=settings.RESLIB_UPLOAD_EXPIRY_HOURS)).timestamp()
    base = Path(settings.RESLIB_UPLOAD_TEMP_DIR)
    for directory, prefixes in ((base, ("stream-", "blob-")), (base / "tus", ("",))):
        if not directory.is_dir():
            continue
        for entry in os.scandir(directory):
            if not entry.is_file(follow_symlinks=False) or not entry.name.startswith(prefixes):
                continue
            try:
                if entry.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if directory != base and entry.name.endswith(".part"):
                with contextlib.suppress(ValueError):
                    if Upload.objects.filter(pk=uuid.UUID(entry.name[:-5]), expires_at__gt=now).exists():
                        continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed_files += 1
    return {"uploads": removed_rows, "files": removed_files}
