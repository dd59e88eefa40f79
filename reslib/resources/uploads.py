"""Resumable uploads (the state behind the tus endpoint): create, append a chunk, complete, terminate, clean up.

Only who may create resources in some library may start one, within per-user limits on open uploads (unfinished,
or finished but not yet a version's file): RESLIB_MAX_OPEN_UPLOADS and RESLIB_MAX_OPEN_UPLOAD_BYTES.

Bytes go to a temporary file under RESLIB_UPLOAD_TEMP_DIR/tus/. One PATCH at a time per upload: an exclusive
flock on the temporary file guards the append (a second concurrent PATCH gets 423 Locked), and the offset is
committed in a short transaction that locks the Upload row (select_for_update) and re-checks it. The row lock is
not held while the body streams in: on SQLite a transaction is a database-wide write lock, and a slow client must
not stall every other writer for minutes.

A running sha256 of the whole file is kept per upload in this process (a chunk that continues where the cached hash
stopped just feeds it); when the next chunk lands in another worker process the hash is computed once, over the
finished file, at completion. Audit entries are written for create, complete and terminate — not per chunk.

Every upload expires RESLIB_UPLOAD_EXPIRY_HOURS after its last data (attaching it renews that): the cleanup then
removes it, and with a finished one its stored file too unless a version's file or another upload uses the Blob.
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
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed

from . import policies, storage
from .models import Blob, DerivedFile, Upload, VersionFile

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


class UploadDenied(PermissionDenied):
    code = "upload.denied"
    default_message = _("Only the leads and builders of a library can upload files.")


# The limits below answer 403, not 413: in tus, 413 says the upload itself is larger than Tus-Max-Size, the same
# for everybody, and a client would give the file up. These refusals are about the user's other open uploads and
# end when they are finished and attached, cancelled or expired; they are not rate limits either (429).


class TooManyOpenUploads(DomainError):
    code = "upload.too_many_open"
    http_status = 403

    @classmethod
    def at(cls, limit: int) -> TooManyOpenUploads:
        return cls(format_lazy(_("You already have {count} open uploads (unfinished, or finished but not yet added "
                                 "to a resource), the most allowed. Finish, add or cancel one of them first."),
                               count=limit))


class UploadQuotaExceeded(DomainError):
    code = "upload.quota_exceeded"
    http_status = 403

    @classmethod
    def at(cls, limit: int, used: int) -> UploadQuotaExceeded:
        return cls(format_lazy(_("Your open uploads (unfinished, or finished but not yet added to a resource) may "
                                 "take {limit} together and already take {used}. Finish, add or cancel some of "
                                 "them first."), limit=filesizeformat(limit), used=filesizeformat(used)))


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


def _own_upload(upload_id, *, user, for_update: bool = False) -> Upload:
    try:
        upload_id = uuid.UUID(str(upload_id))
    except ValueError:
        raise UploadNotFound() from None
    qs = Upload.objects.select_for_update() if for_update else Upload.objects.all()
    upload = qs.filter(pk=upload_id, user=user).first()
    if upload is None:
        raise UploadNotFound()
    return upload


def get_upload(upload_id, *, user, for_update: bool = False) -> Upload:
    """The user's upload; another user's or an unknown one is 404, an expired one 410 (finished or not: the cleanup
    may remove it and its stored file any time now)."""
    upload = _own_upload(upload_id, user=user, for_update=for_update)
    if upload.expires_at <= timezone.now():
        raise UploadGone()
    return upload


def completed_upload(raw_id, *, user) -> Upload:
    """The user's finished upload named by `raw_id` — its id or its tus URL — for forms and API calls that take an
    `upload_id`; anything else is a validation error on that field.

    An upload whose bytes all arrived but whose completion was cut short is completed here: a tus client that learns
    offset == length from HEAD considers it done and sends no further PATCH. The expiry is renewed, so that the
    cleanup cannot take the stored file away while the caller attaches it."""
    upload_id = (raw_id or "").strip().rstrip("/").rsplit("/", 1)[-1]
    try:
        upload = _own_upload(upload_id, user=user)
    except UploadNotFound:
        raise ValidationFailed.single("upload_id", "resource.upload_unknown",
                                      _("There is no such upload of yours.")) from None
    expired = upload.expires_at <= timezone.now()
    if not expired and upload.completed_at is None and upload.offset == upload.length:
        upload = _finish_interrupted(upload, by=user)
    if upload.completed_at is None or upload.blob_id is None:
        raise ValidationFailed.single("upload_id", "resource.upload_incomplete", _("This upload is not complete yet."))
    with transaction.atomic():
        renewed = Upload.objects.select_for_update().filter(pk=upload.pk, expires_at__gt=timezone.now()).first()
        if renewed is None:
            raise ValidationFailed.single("upload_id", "resource.upload_expired",
                                          _("This upload has expired; please upload the file again."))
        renewed.expires_at = expiry_from()
        renewed.save(update_fields=["expires_at"])
    return renewed


def open_uploads(user, now: datetime.datetime | None = None) -> QuerySet:
    """The user's uploads that count against the per-user limits: not expired and not a version's file yet —
    unfinished, or finished and never attached (their stored file is kept for them until they expire)."""
    attached = VersionFile.objects.filter(blob=OuterRef("blob"))
    return Upload.objects.filter(user=user, expires_at__gt=now or timezone.now()).filter(~Exists(attached))


def _check_limits(user, length: int) -> None:
    totals = open_uploads(user).aggregate(count=Count("pk"), length=Sum("length"))
    if totals["count"] >= settings.RESLIB_MAX_OPEN_UPLOADS:
        raise TooManyOpenUploads.at(settings.RESLIB_MAX_OPEN_UPLOADS)
    used = totals["length"] or 0
    if used + length > settings.RESLIB_MAX_OPEN_UPLOAD_BYTES:
        raise UploadQuotaExceeded.at(settings.RESLIB_MAX_OPEN_UPLOAD_BYTES, used)


# --- Services -----------------------------------------------------------------------------------------------------


def create_upload(*, user, length: int, metadata: dict | None = None) -> Upload:
    if not policies.can_upload(user):
        raise UploadDenied()
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
            # The user's row stays locked until the commit, so two parallel creations cannot both pass the limits.
            get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
            _check_limits(user, length)
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
    if upload.completed_at is None and offset == upload.offset == upload.length:
        # Every byte is here but the completion was cut short (the worker died while storing): finish it first.
        upload = _finish_interrupted(upload, by=user)
    if upload.completed_at is not None:
        if offset != upload.length:
            raise OffsetMismatch()
        if _has_data(stream, content_length):
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
            # here leaves offset == length without completion: the next PATCH at that offset, or attaching the
            # upload, completes it (_finish_interrupted).
            _hashers.drop(upload.pk)
            locked = _complete(locked, path, running, by=user)
        return locked


def _has_data(stream, content_length: int | None) -> bool:
    if content_length is not None:
        return content_length > 0
    try:
        return bool(stream.read(1))
    except OSError:  # the client went away: it sent nothing more
        return False


def _finish_interrupted(upload: Upload, *, by) -> Upload:
    """Complete an upload whose bytes all arrived but whose completion (inspection, scan, move, record) never
    finished. It runs from the start again, under the same file lock as a PATCH (a completion still running in
    another request answers 423)."""
    with _locked_file(Path(upload.temp_path)):
        current = Upload.objects.filter(pk=upload.pk).first()
        if current is None:
            raise UploadNotFound()
        if current.completed_at is not None:  # finished by another request before we took the lock
            return current
        if current.offset != current.length:
            raise OffsetMismatch()
        return _complete(current, Path(current.temp_path), None, by=by)


def _complete(upload: Upload, path: Path, running, *, by) -> Upload:
    """Store the full file, then link its Blob in a short transaction.

    Storing consumes the file it is given (it is moved into storage), so it gets a second name of the same bytes (a
    hard link, free on the same directory): the .part keeps every byte until the Blob is linked, and a completion cut
    short at any step is simply run again — content already stored is found by its sha256."""
    sha256 = running.hexdigest() if running is not None else None  # None: store_temp_file hashes the file once
    handoff = path.with_suffix(".store")
    handoff.unlink(missing_ok=True)  # left behind by a completion that died
    os.link(path, handoff)
    try:
        blob = storage.store_temp_file(handoff, sha256=sha256, original_name=upload.filename)
    finally:
        handoff.unlink(missing_ok=True)
    with transaction.atomic():
        locked = Upload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is not None:
            locked.blob = blob
            locked.completed_at = timezone.now()
            locked.save(update_fields=["blob", "completed_at"])
            audit.record(actor=by, action="upload.complete", target=locked,
                         after={"length": locked.length, "sha256": blob.sha256, "blob": blob.pk,
                                "filename": locked.filename})
    path.unlink(missing_ok=True)
    if locked is None:  # terminated meanwhile: the Blob just stored is nobody's unless the same bytes are used
        delete_unused_blob(blob.pk, by=by)
        raise UploadNotFound()
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
        blob_id = upload.blob_id
        upload.delete()
        transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    _hashers.drop(upload_pk)
    if blob_id is not None:  # a finished upload: its stored file goes too unless a version uses it
        delete_unused_blob(blob_id, by=user)


def delete_unused_blob(blob_id: int, *, by=None) -> bool:
    """Delete a Blob nothing uses any more — no version's file, no upload — with its stored file and derived files.
    False when it is still used (or already gone).

    The Blob row stays locked while its files are deleted, before the commit: a version or upload taking this
    Blob meanwhile waits for the lock (PostgreSQL) or cannot write at all (SQLite's write lock) and then fails its
    foreign key, so nothing ever points at deleted bytes. Should the commit fail, what remains is an unused row
    without bytes, which store_temp_file fills again when the same content is uploaded."""
    with transaction.atomic():
        blob = Blob.objects.select_for_update().filter(pk=blob_id).first()
        if blob is None or VersionFile.objects.filter(blob=blob).exists() or Upload.objects.filter(blob=blob).exists():
            return False
        names = list(DerivedFile.objects.filter(blob=blob).exclude(storage_name="")
                     .values_list("storage_name", flat=True))
        names.append(blob.storage_name)
        audit.record(actor=by, action="upload.blob_delete", target=blob,
                     before={"sha256": blob.sha256, "size": blob.size, "storage_name": blob.storage_name})
        blob.delete()
        for name in names:
            storage.delete_stored(name)
    return True


def cleanup_expired(now: datetime.datetime | None = None) -> dict:
    """Delete abandoned uploads: rows past expires_at with their temporary files, and stray temporary files.

    Idempotent; safe to run from several places. Finished uploads are deleted too once expired, and their Blob with
    its stored file when nothing else uses it (delete_unused_blob): a file that was attached to a version stays.
    Returns counts for the log.
    """
    now = now or timezone.now()
    removed_rows = removed_files = removed_blobs = 0
    blob_ids: set[int] = set()
    expired = list(Upload.objects.filter(expires_at__lte=now).values_list("pk", "temp_path")[:10_000])
    for start in range(0, len(expired), CLEANUP_BATCH):
        batch = dict(expired[start:start + CLEANUP_BATCH])
        with transaction.atomic():
            # Only rows still expired and still there: another cleaner or a resumed PATCH may have got there first.
            gone = dict(Upload.objects.select_for_update().filter(pk__in=batch, expires_at__lte=now)
                        .values_list("pk", "blob_id"))
            Upload.objects.filter(pk__in=gone).delete()
        removed_rows += len(gone)
        blob_ids.update(blob_id for blob_id in gone.values() if blob_id is not None)
        for pk in gone:
            _hashers.drop(pk)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(batch[pk])
                removed_files += 1
    for blob_id in sorted(blob_ids):
        removed_blobs += delete_unused_blob(blob_id)
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
    return {"uploads": removed_rows, "files": removed_files, "blobs": removed_blobs}
