"""Review request lists shared by the pages, the template tags and the API: the workbench queue with its filters and
a resource's review history."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from reslib.accounts import roles
from reslib.libraries.models import Library, TeamMember
from reslib.libraries.policies import visible_libraries

from . import policies
from .forms import QueueFilterForm
from .models import DECIDABLE_STATES, OPEN_STATES, ReviewDecision, ReviewRequest

# The columns a queue row shows (keeps 100 000-row queues light: no user passwords or unused timestamps).
QUEUE_FIELDS = ("id", "title", "state", "version_id", "resource_id", "previous_id", "submitted_at", "due_at",
                "library__id", "library__name", "level__id", "level__kind", "submitted_by__id",
                "submitted_by__username", "submitted_by__real_name", "assignee__id", "assignee__username",
                "assignee__real_name")


def _queue_libraries(user):
    if roles.is_operator(user):
        return visible_libraries(user).order_by("name")
    ids = TeamMember.objects.filter(user=user, role__in=policies.REVIEWING_ROLES).values("library_id")
    return Library.objects.filter(pk__in=ids).order_by("name")


def filtered_queue(user, data) -> tuple[QueueFilterForm, QuerySet]:
    """The workbench's request list for `user` and the GET filters (shared with the API)."""
    form = QueueFilterForm(data or None, libraries=_queue_libraries(user))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    scope = filters.get("scope") or "todo"
    qs = policies.visible_requests(user) if scope == "all" else ReviewRequest.objects.filter(
        policies.reviewable_q(user))
    state = filters.get("state") or "open"
    if state == "open":
        qs = qs.filter(state__in=DECIDABLE_STATES if scope == "todo" else OPEN_STATES)
    elif state == "closed":
        qs = qs.exclude(state__in=OPEN_STATES)
    else:
        qs = qs.filter(state=state)
    if filters.get("library"):
        qs = qs.filter(library=filters["library"])
    if filters.get("level"):
        qs = qs.filter(level__kind=filters["level"])
    who = filters.get("who")
    if who == "mine":
        qs = qs.filter(assignee=user)
    elif who == "unclaimed":
        qs = qs.filter(assignee__isnull=True)
    if filters.get("overdue"):
        qs = qs.filter(state__in=DECIDABLE_STATES, due_at__lt=timezone.now())
    qs = qs.select_related("level", "library", "assignee", "submitted_by").only(*QUEUE_FIELDS).order_by("due_at", "id")
    return form, qs


def history(resource_id: int) -> QuerySet:
    """All requests of a resource, newest first, with their decisions (2 queries)."""
    return (ReviewRequest.objects.filter(resource_id=resource_id)
            .select_related("level", "version", "submitted_by", "assignee")
            .prefetch_related(Prefetch("decisions", queryset=ReviewDecision.objects.order_by("created_at", "id")))
            .order_by("-submitted_at", "-id"))
