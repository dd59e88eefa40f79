"""Platform moderation: the operator's word and negative lists, restrict / block / restore, the library's own
withdrawal (下架) and reinstatement, and the emergency action. Every state change of a resource's moderation or
withdrawal happens here and nowhere else (inside a transaction, with audit entries) — so this is the one place
that schedules what must follow such a change (search re-indexing, notifications).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reslib.accounts import roles
from reslib.core import audit
from reslib.core.errors import Conflict, FieldErrors, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from reslib.libraries.policies import team_roles
from reslib.notifications.services import notify
from reslib.resources import indexing
from reslib.resources.models import Resource
from reslib.resources.policies import EDITOR_ROLES

from . import policies, wordlist
from .moderation_models import EmergencyAction, ModerationListVersion, NegativeListEntry, SensitiveWord

M = Resource.Moderation
WORDS = "sensitive_words"
NEGATIVE = "negative_list"
MAX_IMPORT_LINES = 50_000
MAX_REASON = 2000
EMERGENCY_SAMPLE = 20
MODERATION_FIELDS = ["moderation_state", "moderation_reason_category", "moderation_reason", "moderated_at",
                     "moderated_by", "withdrawn_at", "withdrawn_reason", "withdrawn_by"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

# action: (allowed from, target, audit action, notification kind)
TRANSITIONS = {
    "restrict": ((M.NORMAL, M.BLOCKED), M.RESTRICTED),
    "block": ((M.NORMAL, M.RESTRICTED), M.BLOCKED),
    "restore": ((M.RESTRICTED, M.BLOCKED), M.NORMAL),
}
ACTION_LABELS = {"restrict": _("Restrict"), "block": _("Block"), "restore": _("Restore")}


# --- policies -----------------------------------------------------------------------------------------------------

def can_moderate(user) -> bool:
    """Restrict, block, restore, emergency action, word and negative lists: platform operators only."""
    return roles.is_operator(user)


def can_withdraw(user, resource: Resource) -> bool:
    """The library's lead and builders withdraw (下架) and reinstate its resources."""
    return bool(team_roles(user, resource.library_id) & set(EDITOR_ROLES))


def _require_operator(user) -> None:
    if not can_moderate(user):
        raise PermissionDenied(_("Only platform operators can do this."), code="moderation.denied")


# --- list versions and the per-process matcher cache ---------------------------------------------------------------

def _bump(name: str) -> None:
    """Bump a list's version inside the caller's transaction; every process rebuilds its matcher on next use."""
    ModerationListVersion.objects.get_or_create(name=name)
    ModerationListVersion.objects.filter(name=name).update(version=F("version") + 1)


def list_version(name: str) -> int:
    return ModerationListVersion.objects.filter(name=name).values_list("version", flat=True).first() or 0


@dataclass
class NegativeList:
    keywords: wordlist.Matcher = field(default_factory=lambda: wordlist.EMPTY)
    file_hashes: dict = field(default_factory=dict)
    domains: dict = field(default_factory=dict)


_cache: dict[str, tuple[int, object]] = {}
_cache_lock = threading.Lock()


def _cached(name: str, build):
    version = list_version(name)
    cached = _cache.get(name)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _cache_lock:
        cached = _cache.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        value = build()
        _cache[name] = (version, value)
        return value


def _build_matcher() -> wordlist.Matcher:
    rows = SensitiveWord.objects.filter(active=True).values_list("pk", "word", "level", "category")
    return wordlist.Matcher(wordlist.Entry(word, level, category, pk) for pk, word, level, category in rows)


def _build_negative() -> NegativeList:
    result = NegativeList()
    keywords = []
    for pk, kind, value, note in NegativeListEntry.objects.filter(active=True).values_list("pk", "kind", "value",
                                                                                          "note"):
        if kind == NegativeListEntry.Kind.FILE_HASH:
            result.file_hashes[value] = {"id": pk, "note": note}
        elif kind == NegativeListEntry.Kind.SOURCE_DOMAIN:
            result.domains[value] = {"id": pk, "note": note}
        else:
            keywords.append(wordlist.Entry(value, wordlist.BLOCK, note, pk))
    result.keywords = wordlist.Matcher(keywords)
    return result


def current_matcher() -> wordlist.Matcher:
    """The active sensitive words as one automaton, built once per process and list version (one query per use)."""
    return _cached(WORDS, _build_matcher)


def current_negative_list() -> NegativeList:
    return _cached(NEGATIVE, _build_negative)


# --- sensitive words ----------------------------------------------------------------------------------------------

def _check_word(word: str, category: str, level: str, errors: FieldErrors) -> str:
    word = (word or "").strip()
    normalised = wordlist.normalise_word(word)
    if not normalised:
        errors.add("word", "moderation.word_required", _("Enter a word."))
    elif len(word) > 64 or len(normalised) > 64:
        errors.add("word", "moderation.word_too_long", _("A word may have at most 64 characters."))
    if category not in SensitiveWord.Category.values:
        errors.add("category", "moderation.category_invalid", _("Choose a category from the list."))
    if level not in SensitiveWord.Level.values:
        errors.add("level", "moderation.level_invalid", _("Choose block or flag."))
    return normalised


def add_word(*, by, word: str, category: str, level: str) -> SensitiveWord:
    _require_operator(by)
    errors = FieldErrors()
    normalised = _check_word(word, category, level, errors)
    errors.raise_if_any()
    with transaction.atomic():
        existing = SensitiveWord.objects.select_for_update().filter(normalised=normalised).first()
        if existing is not None and existing.active:
            raise ValidationFailed.single("word", "moderation.word_exists",
                                          _("This word is already on the list."))
        if existing is not None:
            before = audit.snapshot(existing, ["word", "category", "level", "active"])
            existing.word, existing.category, existing.level, existing.active = word.strip(), category, level, True
            existing.added_by = by
            existing.save()
            entry = existing
        else:
            before = None
            entry = SensitiveWord.objects.create(word=word.strip(), normalised=normalised, category=category,
                                                 level=level, added_by=by)
        _bump(WORDS)
        audit.record(actor=by, action="moderation.word_add", target=entry, before=before,
                     after=audit.snapshot(entry, ["word", "category", "level", "active"]))
    return entry


def set_word_active(word_id: int, active: bool, *, by) -> SensitiveWord:
    _require_operator(by)
    with transaction.atomic():
        entry = SensitiveWord.objects.select_for_update().filter(pk=word_id).first()
        if entry is None:
            raise NotFound(code="moderation.word_not_found")
        if entry.active != active:
            entry.active = active
            entry.save(update_fields=["active", "updated_at"])
            _bump(WORDS)
            audit.record(actor=by, action="moderation.word_activate" if active else "moderation.word_deactivate",
                         target=entry, before={"active": not active}, after={"active": active})
    return entry


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)  # [(line, word, message)]


def import_words(*, by, content: str, category: str = SensitiveWord.Category.OTHER,
                 level: str = SensitiveWord.Level.FLAG) -> ImportReport:
    """Words from a text or CSV file ("word" or "word,category,level" per line; category by code or Chinese
    name). Existing words are updated and re-activated. One transaction, one audit entry with the counts."""
    _require_operator(by)
    errors = FieldErrors()
    if category not in SensitiveWord.Category.values:
        errors.add("category", "moderation.category_invalid", _("Choose a category from the list."))
    if level not in SensitiveWord.Level.values:
        errors.add("level", "moderation.level_invalid", _("Choose block or flag."))
    rows = wordlist.parse_word_file(content or "", default_level=level, default_category=category)
    if not rows:
        errors.add("file", "moderation.import_empty", _("The file holds no words."))
    elif len(rows) > MAX_IMPORT_LINES:
        errors.add("file", "moderation.import_too_large",
                   _("At most %(max)d words per file.") % {"max": MAX_IMPORT_LINES})
    errors.raise_if_any()
    by_label = {str(label): value for value, label in SensitiveWord.Category.choices}
    by_label.update({"政治": "politics", "色情": "pornography", "暴恐": "terrorism", "违法": "illegal",
                     "广告": "advertising", "其他": "other"})
    report = ImportReport()
    wanted: dict[str, dict] = {}
    for row in rows:
        row_category = row["category"] if row["category"] in SensitiveWord.Category.values else by_label.get(
            row["category"])
        if row["error"] == "level":
            report.errors.append((row["line"], row["word"], _("Unknown level; use block or flag.")))
        elif row["error"] == "too_long":
            report.errors.append((row["line"], row["word"], _("A word may have at most 64 characters.")))
        elif row["error"]:
            continue
        elif row_category is None:
            report.errors.append((row["line"], row["word"], _("Unknown category.")))
        else:
            wanted[wordlist.normalise_word(row["word"])] = {"word": row["word"], "category": row_category,
                                                            "level": row["level"]}
    with transaction.atomic():
        existing = {w.normalised: w for w in SensitiveWord.objects.select_for_update().filter(
            normalised__in=list(wanted))}
        new = []
        changed = []
        for normalised, data in wanted.items():
            current = existing.get(normalised)
            if current is None:
                new.append(SensitiveWord(normalised=normalised, added_by=by, **data))
            elif (current.category, current.level, current.active) == (data["category"], data["level"], True):
                report.unchanged += 1
            else:
                current.category, current.level, current.active = data["category"], data["level"], True
                changed.append(current)
        SensitiveWord.objects.bulk_create(new, batch_size=1000)
        SensitiveWord.objects.bulk_update(changed, ["category", "level", "active"], batch_size=1000)
        report.added, report.updated = len(new), len(changed)
        if new or changed:
            _bump(WORDS)
        counter, _created = ModerationListVersion.objects.get_or_create(name=WORDS)
        audit.record(actor=by, action="moderation.word_import", target=counter,
                     after={"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                            "errors": len(report.errors)})
    return report


# --- negative list ------------------------------------------------------------------------------------------------

def normalise_negative_value(kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == NegativeListEntry.Kind.FILE_HASH:
        return value.lower()
    if kind == NegativeListEntry.Kind.SOURCE_DOMAIN:
        from .prereview import _domain_of

        return _domain_of(value.lstrip("*.")) if value else ""
    return value


def add_negative_entry(*, by, kind: str, value: str, note: str = "") -> NegativeListEntry:
    _require_operator(by)
    errors = FieldErrors()
    if kind not in NegativeListEntry.Kind.values:
        errors.add("kind", "moderation.negative_kind_invalid", _("Choose a kind from the list."))
        errors.raise_if_any()
    value = normalise_negative_value(kind, value)
    if not value:
        errors.add("value", "moderation.negative_value_required", _("Enter a value."))
    elif kind == NegativeListEntry.Kind.FILE_HASH and not _SHA256.match(value):
        errors.add("value", "moderation.hash_invalid", _("Enter a SHA-256 hash: 64 hexadecimal characters."))
    elif kind == NegativeListEntry.Kind.SOURCE_DOMAIN and not _HOST.match(value):
        errors.add("value", "moderation.domain_invalid", _("Enter a domain such as example.com."))
    elif kind == NegativeListEntry.Kind.KEYWORD and not wordlist.normalise_word(value):
        errors.add("value", "moderation.negative_value_required", _("Enter a value."))
    elif len(value) > 255:
        errors.add("value", "moderation.negative_value_too_long", _("At most 255 characters."))
    note = (note or "").strip()[:255]
    errors.raise_if_any()
    with transaction.atomic():
        entry = NegativeListEntry.objects.select_for_update().filter(kind=kind, value=value).first()
        if entry is not None and entry.active:
            raise ValidationFailed.single("value", "moderation.negative_exists",
                                          _("This entry is already on the negative list."))
        if entry is None:
            entry = NegativeListEntry.objects.create(kind=kind, value=value, note=note, added_by=by)
        else:
            entry.active, entry.note, entry.added_by = True, note, by
            entry.save(update_fields=["active", "note", "added_by"])
        _bump(NEGATIVE)
        audit.record(actor=by, action="moderation.negative_add", target=entry,
                     after={"kind": kind, "value": value, "note": note})
    return entry


def set_negative_active(entry_id: int, active: bool, *, by) -> NegativeListEntry:
    _require_operator(by)
    with transaction.atomic():
        entry = NegativeListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise NotFound(code="moderation.negative_not_found")
        if entry.active != active:
            entry.active = active
            entry.save(update_fields=["active"])
            _bump(NEGATIVE)
            audit.record(actor=by,
                         action="moderation.negative_activate" if active else "moderation.negative_deactivate",
                         target=entry, before={"active": not active}, after={"active": active})
    return entry


# --- what follows a moderation change ---------------------------------------------------------------------------

def _after_change(resource: Resource) -> None:
    """Search follows the change after commit (blocked/withdrawn leave the index, restricted is members-only)."""
    indexing.schedule_reindex(resource.pk)


def _locked(queryset):
    """Lock the resource rows only; their versions come along so that their titles (str(resource), in audit
    entries and notices) cost no query per resource."""
    return queryset.select_for_update(of=("self",)).select_related("published_version", "latest_version")


# --- restrict / block / restore -----------------------------------------------------------------------------------

def _check_reason(reason_category: str, reason: str) -> str:
    errors = FieldErrors()
    reason = (reason or "").strip()
    if reason_category not in Resource.ReasonCategory.values:
        errors.add("reason_category", "moderation.reason_category_required", _("Choose a reason category."))
    if not reason:
        errors.add("reason", "moderation.reason_required", _("Please give a reason."))
    elif len(reason) > MAX_REASON:
        errors.add("reason", "moderation.reason_too_long",
                   _("At most %(max)d characters.") % {"max": MAX_REASON})
    errors.raise_if_any()
    return reason


def _apply(resource: Resource, action: str, *, by, reason_category: str, reason: str, now, batch=None) -> None:
    """Change one locked resource and write its audit entry (inside the caller's transaction)."""
    sources, target = TRANSITIONS[action]
    if resource.moderation_state not in sources:
        raise IllegalTransition(current=M(resource.moderation_state), requested=target,
                                code="moderation.illegal_transition")
    before = audit.snapshot(resource, MODERATION_FIELDS[:5])
    resource.moderation_state = target
    resource.moderation_reason_category = reason_category
    resource.moderation_reason = reason
    resource.moderated_at = now
    resource.moderated_by = by
    resource.save(update_fields=MODERATION_FIELDS[:5] + ["updated_at"])
    after = audit.snapshot(resource, MODERATION_FIELDS[:5])
    if batch is not None:
        after["emergency_action"] = batch.pk
    audit.record(actor=by, action=f"moderation.{action}", target=resource, before=before, after=after,
                 reason=reason)
    _after_change(resource)


NOTICE_TITLES = {
    "restrict": _("Your library's resource “%(title)s” was restricted to library members"),
    "block": _("Your library's resource “%(title)s” was blocked by the platform"),
    "restore": _("Your library's resource “%(title)s” was restored"),
}
NOTICE_KINDS = {"restrict": "restricted", "block": "blocked", "restore": "restored"}


def _notice(resource: Resource, action: str, leads: list) -> None:
    """Tell the library's leads (`leads`: policies.lead_users of the resource's library)."""
    title = NOTICE_TITLES[action] % {"title": str(resource)}
    body = "%s: %s\n%s" % (_("Reason"), resource.get_moderation_reason_category_display(), resource.moderation_reason)
    notify(leads, NOTICE_KINDS[action], title, body, url=reverse("resources:detail", args=[resource.pk]))


def moderate(resource: Resource, action: str, *, by, reason_category: str, reason: str) -> Resource:
    """restrict (visible only to library members), block (only operators and the library lead; files not served)
    or restore a resource. Operators only; a reason category and a reason are required; the library lead is told."""
    _require_operator(by)
    if action not in TRANSITIONS:
        raise ValidationFailed.single("action", "moderation.unknown_action", _("Unknown action."))
    reason = _check_reason(reason_category, reason)
    with transaction.atomic():
        resource = _locked(Resource.objects).get(pk=resource.pk)
        _apply(resource, action, by=by, reason_category=reason_category, reason=reason, now=timezone.now())
        _notice(resource, action, policies.lead_users(resource.library_id))
    return resource


# --- the library's withdrawal (下架) -------------------------------------------------------------------------------

def withdraw(resource: Resource, *, by, reason: str) -> Resource:
    if not can_withdraw(by, resource):
        raise PermissionDenied(_("Only the library's lead and builders can withdraw its resources."),
                               code="moderation.withdraw_denied")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single("reason", "moderation.reason_required", _("Please give a reason."))
    if len(reason) > MAX_REASON:
        raise ValidationFailed.single("reason", "moderation.reason_too_long",
                                      _("At most %(max)d characters.") % {"max": MAX_REASON})
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.published_version_id is None:
            raise ValidationFailed.single("resource", "moderation.not_published",
                                          _("Only a published resource can be withdrawn."))
        if resource.withdrawn_at is not None:
            raise Conflict(_("This resource is already withdrawn."), code="moderation.already_withdrawn")
        resource.withdrawn_at, resource.withdrawn_reason, resource.withdrawn_by = timezone.now(), reason, by
        resource.save(update_fields=["withdrawn_at", "withdrawn_reason", "withdrawn_by", "updated_at"])
        audit.record(actor=by, action="moderation.withdraw", target=resource, before={"withdrawn": False},
                     after={"withdrawn": True, "withdrawn_at": resource.withdrawn_at.isoformat()}, reason=reason)
        _after_change(resource)
    return resource


def reinstate(resource: Resource, *, by, reason: str = "") -> Resource:
    if not can_withdraw(by, resource):
        raise PermissionDenied(_("Only the library's lead and builders can reinstate its resources."),
                               code="moderation.withdraw_denied")
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.withdrawn_at is None:
            raise Conflict(_("This resource is not withdrawn."), code="moderation.not_withdrawn")
        before = {"withdrawn": True, "withdrawn_reason": resource.withdrawn_reason}
        resource.withdrawn_at, resource.withdrawn_reason, resource.withdrawn_by = None, "", None
        resource.save(update_fields=["withdrawn_at", "withdrawn_reason", "withdrawn_by", "updated_at"])
        audit.record(actor=by, action="moderation.reinstate", target=resource, before=before,
                     after={"withdrawn": False}, reason=(reason or "").strip())
        _after_change(resource)
    return resource


# --- emergency action ---------------------------------------------------------------------------------------------

EMERGENCY_KINDS = EmergencyAction.Kind


def _criteria(kind: str, value: str) -> tuple[str, str]:
    if kind not in EmergencyAction.Kind.values:
        raise ValidationFailed.single("kind", "moderation.emergency_kind_invalid",
                                      _("Choose keyword, file hash or uploader."))
    value = (value or "").strip()
    if kind == EmergencyAction.Kind.FILE_HASH:
        value = value.lower()
        if not _SHA256.match(value):
            raise ValidationFailed.single("value", "moderation.hash_invalid",
                                          _("Enter a SHA-256 hash: 64 hexadecimal characters."))
    elif kind == EmergencyAction.Kind.KEYWORD:
        if len(wordlist.normalise_word(value)) < 2:
            raise ValidationFailed.single("value", "moderation.keyword_too_short",
                                          _("Enter a keyword of at least 2 characters."))
    elif not value:
        raise ValidationFailed.single("value", "moderation.uploader_required", _("Enter the uploader's username."))
    return kind, value


def matching_ids(kind: str, value: str) -> list[int]:
    """Ids (ascending) of the not-yet-blocked resources an emergency action with these criteria would block.

    keyword: published title, description or keywords contain it (same normalisation as the sensitive-word matcher,
    so "敏 感" evasions are caught); file_hash: any version holds a file with that SHA-256; uploader: created by
    that username (any letter case)."""
    kind, value = _criteria(kind, value)
    base = Resource.objects.exclude(moderation_state=M.BLOCKED)
    if kind == EmergencyAction.Kind.FILE_HASH:
        return list(base.filter(versions__files__blob__sha256=value).values_list("pk", flat=True)
                    .distinct().order_by("pk"))
    if kind == EmergencyAction.Kind.UPLOADER:
        return list(base.filter(created_by__username__iexact=value).values_list("pk", flat=True).order_by("pk"))
    matcher = wordlist.Matcher([wordlist.Entry(value, wordlist.BLOCK)])
    ids = []
    rows = base.filter(published_version__isnull=False).values_list(
        "pk", "published_version__title", "published_version__description", "published_version__keywords"
    ).order_by("pk")
    for pk, title, description, keywords in rows.iterator(chunk_size=2000):
        text = "\n".join([title or "", description or "", "；".join(keywords or [])])
        if matcher.find(text, limit=1):
            ids.append(pk)
    return ids


@dataclass
class EmergencyPreview:
    kind: str
    value: str
    count: int
    sample: list


def emergency_preview(*, by, kind: str, value: str) -> EmergencyPreview:
    _require_operator(by)
    ids = matching_ids(kind, value)
    sample = list(
        Resource.objects.filter(pk__in=ids[:EMERGENCY_SAMPLE])
        .select_related("library", "published_version", "latest_version", "created_by").order_by("pk")
    )
    return EmergencyPreview(kind=kind, value=(value or "").strip(), count=len(ids), sample=sample)


def emergency_block(*, by, kind: str, value: str, reason_category: str, reason: str,
                    expected_count: int | None = None) -> EmergencyAction:
    """Block every resource matching the criteria in one transaction: rows locked in id order, one audit entry
    for the batch (criteria and count) and one per resource. With `expected_count` (the previewed count), a
    changed match set is refused so the operator previews again."""
    _require_operator(by)
    reason = _check_reason(reason_category, reason)
    kind, value = _criteria(kind, value)
    with transaction.atomic():
        ids = matching_ids(kind, value)
        if expected_count is not None and expected_count != len(ids):
            raise Conflict(_("The number of matching resources changed from %(old)d to %(new)d since the preview; "
                             "please check the preview again.") % {"old": expected_count, "new": len(ids)},
                           code="moderation.emergency_changed")
        resources = list(_locked(Resource.objects.filter(pk__in=ids)).order_by("pk"))
        resources = [r for r in resources if r.moderation_state != M.BLOCKED]
        now = timezone.now()
        batch = EmergencyAction.objects.create(kind=kind, value=value, reason_category=reason_category,
                                               reason=reason, count=len(resources), created_by=by)
        audit.record(actor=by, action="moderation.emergency_block", target=batch,
                     after={"kind": kind, "value": value, "count": len(resources),
                            "resource_ids": [r.pk for r in resources][:1000]},
                     reason=reason)
        for resource in resources:
            _apply(resource, "block", by=by, reason_category=reason_category, reason=reason, now=now, batch=batch)
        leads_by_library = {}
        for resource in resources:
            if resource.library_id not in leads_by_library:
                leads_by_library[resource.library_id] = policies.lead_users(resource.library_id)
            _notice(resource, "block", leads_by_library[resource.library_id])
    return batch
