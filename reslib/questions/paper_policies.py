"""Who may compose, open, close and grade papers, who may answer them and who sees which results.

Composers are the library's lead and builders (the roles that edit its resources) while the library takes
resources, and the paper's creator while they are in the library's team. Everyone who is signed in and may see the
library answers its open papers. A learner sees only their own attempts; answers and analysis reach a learner only
when the paper shows them (paper.show_answers), and only once they can no longer use them: when the paper is closed
or their last allowed attempt is submitted. Shared by the pages and the API.
"""

from django.db.models import Q, QuerySet

from reslib.libraries import policies as library_policies
from reslib.libraries.models import Library
from reslib.resources import policies as resource_policies

from .models import Attempt, Paper


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_compose(user, library: Library) -> bool:
    """Create papers in a library: its lead and builders while it takes resources (resources' can_create)."""
    return resource_policies.can_create(user, library)


def can_manage(user, paper: Paper) -> bool:
    """Edit, compose, open, close, grade and see every result of a paper: the library's composers and the paper's
    creator while in the library's team (after the build period, when nobody composes any more). Someone who left
    the team no longer sees learners' names and responses."""
    if not _signed_in(user):
        return False
    if can_compose(user, paper.library):
        return True
    return paper.created_by_id == user.pk and library_policies.is_member(user, paper.library)


def can_grade(user, paper: Paper) -> bool:
    return can_manage(user, paper)


def can_view_results(user, paper: Paper) -> bool:
    """Everybody's results and the per-question analysis."""
    return can_manage(user, paper)


def visible_papers(user, library: Library) -> QuerySet:
    """The papers of a library a user may list: all of them for its composers and their own drafts for creators;
    open and closed papers for everyone else who may see the library (closed ones keep their results readable)."""
    papers = Paper.objects.filter(library=library)
    if can_compose(user, library):
        return papers
    condition = Q(state__in=[Paper.State.OPEN, Paper.State.CLOSED])
    if _signed_in(user):
        condition |= Q(created_by=user)
    return papers.filter(condition)


def can_view_paper(user, paper: Paper) -> bool:
    return visible_papers(user, paper.library).filter(pk=paper.pk).exists()


def can_answer(user, paper: Paper) -> bool:
    """Start or continue an attempt: any signed-in user who may see the library, while the paper is open."""
    return (_signed_in(user) and paper.state == Paper.State.OPEN
            and library_policies.can_view(user, paper.library))


def can_view_attempt(user, attempt: Attempt) -> bool:
    if not _signed_in(user):
        return False
    return attempt.user_id == user.pk or can_manage(user, attempt.paper)


def can_change_attempt(user, attempt: Attempt) -> bool:
    """Save answers and submit: the learner's own attempt only."""
    return _signed_in(user) and attempt.user_id == user.pk


def shows_answers(user, attempt: Attempt) -> bool:
    """The reference answers, the analysis and per-question scores beside a learner's responses."""
    if can_manage(user, attempt.paper):
        return True
    paper = attempt.paper
    if not (attempt.user_id == getattr(user, "pk", None) and attempt.state != Attempt.State.IN_PROGRESS
            and paper.show_answers):
        return False
    # With attempts left, the answers would serve the next attempt.
    return (paper.state == Paper.State.CLOSED
            or Attempt.objects.filter(paper=paper, user_id=attempt.user_id).count() >= paper.max_attempts)
