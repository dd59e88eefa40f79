"""Index tables shared by both backends, and the operator's segmentation dictionary.

SearchEntry holds one indexed document's filter/facet attributes and ranking words as columns; SearchPayload its original text (for
highlights and the substring path) and its display payload. The word index itself is vendor-specific and created by the
migrations: an FTS5 table ``search_fts`` (+ trigram table ``search_trigram``) on SQLite, a ``tsv`` tsvector column
with a GIN index (+ pg_trgm index on ``search_payload.short_text``) on PostgreSQL. Rows are written only by the backends.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    doc_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32, default="resource")
    access = models.CharField(max_length=16, default="public")
    library_id = models.BigIntegerField(null=True, blank=True)
    resource_type = models.CharField(max_length=32, blank=True, default="")
    major = models.CharField(max_length=16, blank=True, default="")
    licence = models.CharField(max_length=32, blank=True, default="")
    price_mode = models.CharField(max_length=16, blank=True, default="")
    created_ts = models.BigIntegerField(default=0)  # epoch microseconds: the "newest" sort key
    usage = models.BigIntegerField(default=0)
    rating = models.FloatField(default=-1.0)  # -1 = not rated yet
    generation = models.BigIntegerField(default=0)
    # Multi-valued attributes as " institution=5 audience=student ": facets are counted from the candidate rows
    # themselves, without a join per match.
    multi = models.TextField(default="")
    # Segmented words of the ranked field groups, space-padded (" 数控 加工 数控加工 "): see backends/ranking.py.
    rank_title = models.TextField(default="")
    rank_tags = models.TextField(default="")
    rank_other = models.TextField(default="")

    class Meta:
        db_table = "search_entry"
        indexes = [
            models.Index(fields=["created_ts", "id"], name="search_entry_newest"),
            models.Index(fields=["library_id", "created_ts"], name="search_entry_library"),
            models.Index(fields=["major", "created_ts"], name="search_entry_major"),
            models.Index(fields=["resource_type", "created_ts"], name="search_entry_type"),
            models.Index(fields=["usage", "created_ts"], name="search_entry_usage"),
            models.Index(fields=["rating", "created_ts"], name="search_entry_rating"),
            models.Index(fields=["generation"], name="search_entry_generation"),
        ]

    def __str__(self):
        return self.doc_id


class SearchPayload(models.Model):
    """The bulky part of an entry, read only for the hits of a page (keeps search_entry rows small and dense)."""

    entry = models.OneToOneField(SearchEntry, primary_key=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)
    short_text = models.TextField(default="")  # title, keywords, knowledge points: substring search
    fields = models.JSONField(default=dict)  # original text per field, for highlights; "terms" for suggestions
    display = models.JSONField(default=dict)

    class Meta:
        db_table = "search_payload"


class SearchAttribute(models.Model):
    """A value of a multi-valued attribute (institution, audience) of an entry, with the entry's date so browsing
    one institution's resources newest first reads this index in order."""

    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    name = models.CharField(max_length=16)
    value = models.CharField(max_length=64)
    created_ts = models.BigIntegerField(default=0)

    class Meta:
        db_table = "search_attribute"
        indexes = [
            models.Index(fields=["name", "value", "created_ts", "entry"], name="search_attribute_newest"),
            models.Index(fields=["entry", "name", "value"], name="search_attribute_entry"),
        ]


class SearchTerm(models.Model):
    """A completion / did-you-mean candidate from PUBLIC documents only (so suggestions never leak), with the number
    of public documents using it."""

    term = models.CharField(max_length=200, unique=True)
    pinyin = models.CharField(max_length=400, db_index=True)
    initials = models.CharField(max_length=200, db_index=True)
    df = models.IntegerField(default=0)

    class Meta:
        db_table = "search_term"


class DictionaryWord(models.Model):
    """A domain term the segmenter must keep whole (e.g. 工业机器人), maintained by the operator."""

    word = models.CharField(_("word"), max_length=32, unique=True)
    frequency = models.PositiveIntegerField(_("frequency"), null=True, blank=True,
                                            help_text=_("Leave empty for the default; higher keeps the word whole "
                                                        "more often."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")

    def __str__(self):
        return self.word
