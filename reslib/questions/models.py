"""The question bank (题库) and papers (试卷).

A question is a `Resource` whose versions have the type `question`: it gets the resources' identity, rights and
attribution (著作权人 / 署名), the review workflow (every publication and every update reviewed, 审必留痕), the
operator's restrict / block, visibility and search, with no second copy of any of them. `QuestionContent` holds the
structured body of one version; the version's `difficulty` and `knowledge_points` are the question's. The version's
description is the plain text of the stem and choices (never the answer), which the machine pre-review and the
search index read.

A paper lists fixed question versions with a score each: a question edited later does not change a paper that was
already answered. Learners answer in attempts; objective types are graded on submission, short answers by a teacher.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reslib.core.models import TimeStampedModel
from reslib.libraries.models import Library
from reslib.resources.models import ResourceVersion


class QuestionType(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True or false")
    FILL_BLANK = "fill_blank", _("Fill in the blank")
    SHORT_ANSWER = "short_answer", _("Short answer")
    MATCHING = "matching", _("Matching")
    ORDERING = "ordering", _("Ordering")


# Graded by a teacher; every other type is graded on submission.
MANUAL_TYPES = frozenset({QuestionType.SHORT_ANSWER})


class QuestionContent(models.Model):
    """The body of one question version. Written with the version, never changed after it leaves draft."""

    version = models.OneToOneField(ResourceVersion, primary_key=True, on_delete=models.CASCADE,
                                   related_name="question")
    # Denormalised from the version's resource for composing papers over large banks (never changes).
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    qtype = models.CharField(_("question type"), max_length=16, choices=QuestionType.choices)
    stem = models.TextField(_("stem"))
    options = models.JSONField(_("choices"), default=list, blank=True)
    answer = models.JSONField(_("answer"), null=True, blank=True)
    analysis = models.TextField(_("analysis"), blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [models.Index(fields=["library", "qtype"], name="question_library_type")]

    def __str__(self):
        return self.stem[:40]

    @property
    def is_manual(self) -> bool:
        return self.qtype in MANUAL_TYPES


class Paper(TimeStampedModel):
    """A test paper of a library: composed by hand or by rules, opened to learners, closed."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for answering")
        CLOSED = "closed", _("Closed")

    class Mode(models.TextChoices):
        MANUAL = "manual", _("Composed by hand")
        RANDOM = "random", _("Composed by rules")

    library = models.ForeignKey(Library, verbose_name=_("library"), on_delete=models.PROTECT, related_name="papers")
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    mode = models.CharField(_("composition"), max_length=16, choices=Mode.choices, default=Mode.MANUAL)
    # Rule-based composition: [{"qtype", "knowledge_point": id | null, "difficulty": "" | ..., "count", "score"}].
    rules = models.JSONField(_("composition rules"), default=list, blank=True)
    time_limit_minutes = models.PositiveSmallIntegerField(_("time limit (minutes)"), null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=1)
    show_answers = models.BooleanField(_("show answers and analysis after submission"), default=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("paper")
        verbose_name_plural = _("papers")

    def __str__(self):
        return self.title


class PaperQuestion(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    # The published question version at composition time; PROTECT keeps answered papers intact.
    question = models.ForeignKey(QuestionContent, verbose_name=_("question"), on_delete=models.PROTECT,
                                 related_name="paper_items")
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["paper", "position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "position"], name="paper_question_unique_position"),
            models.UniqueConstraint(fields=["paper", "question"], name="paper_question_unique_question"),
            models.CheckConstraint(name="paper_question_score_positive", condition=Q(score__gt=0)),
        ]


class Attempt(models.Model):
    """One learner's answering of a paper."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Awaiting grading")
        GRADED = "graded", _("Graded")

    paper = models.ForeignKey(Paper, verbose_name=_("paper"), on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("learner"), on_delete=models.CASCADE,
                             related_name="paper_attempts")
    number = models.PositiveSmallIntegerField(_("attempt"), default=1)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.IN_PROGRESS,
                             db_index=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [
            models.UniqueConstraint(fields=["paper", "user", "number"], name="attempt_unique_number"),
            models.UniqueConstraint(fields=["paper", "user"], condition=Q(state="in_progress"),
                                    name="attempt_one_in_progress"),
        ]


class AttemptAnswer(models.Model):
    """A learner's response to one paper question; `score` is null until graded."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(PaperQuestion, on_delete=models.CASCADE, related_name="answers")
    response = models.JSONField(_("response"), null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    graded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("graded by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="attempt_answer_unique_item")]
