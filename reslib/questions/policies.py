"""Who may author, see and export questions of a library's bank (题库). One function per action, shared by the
pages and the API.

A question is a resource, so seeing one is seeing the resource (resources.policies.visible_resources: published
ones as their access allows, drafts for the library's team, moderation applied). The answer and analysis are more
private than the question: a paper would be pointless if learners could read them, so only the people who write
and check questions see them."""

from django.db.models import QuerySet

from reslib.accounts import roles
from reslib.libraries.models import Library, TeamMember
from reslib.libraries.policies import team_roles
from reslib.resources import policies as resource_policies
from reslib.resources.models import Resource, ResourceVersion

from .models import QuestionContent

# The library's editors (who write questions) and its reviewers (who check them before publication).
ANSWER_ROLES = frozenset({TeamMember.Role.LEAD, TeamMember.Role.BUILDER, TeamMember.Role.REVIEWER})


def _library_id(target) -> int:
    if isinstance(target, Library):
        return target.pk
    if isinstance(target, QuestionContent):
        return target.library_id
    if isinstance(target, Resource):
        return target.library_id
    raise TypeError(f"a library, question or question resource, not {type(target).__name__}")


def visible_questions(user, library: Library | None = None) -> QuerySet:
    """The questions (Resources) the user may see, of `library` or of all libraries; every page, list, count, search
    and export uses it."""
    questions = resource_policies.visible_resources(user).filter(
        latest_version__resource_type=ResourceVersion.Type.QUESTION)
    return questions if library is None else questions.filter(library=library)


def can_view_drafts(user, library: Library) -> bool:
    """Drafts and questions in review are the team's (and operators'), as for every resource."""
    return resource_policies.can_view_unpublished_in(user, library)


def can_author(user, library: Library) -> bool:
    """Writing questions is adding resources: the library's lead and builders while it is being built."""
    return resource_policies.can_create(user, library)


def can_import(user, library: Library) -> bool:
    return can_author(user, library)


def can_edit(user, resource: Resource) -> bool:
    return resource_policies.can_edit(user, resource)


def can_submit(user, resource: Resource) -> bool:
    return resource_policies.can_edit(user, resource)


def can_see_answers(user, target) -> bool:
    """Answer and analysis of the questions of a library (given as the library, a question or its resource): its
    lead, builders and reviewers, and platform operators — never learners or members of other libraries."""
    if roles.is_operator(user):
        return True
    return bool(team_roles(user, _library_id(target)) & ANSWER_ROLES)


def can_export(user, library: Library) -> bool:
    """Every export format carries the answers, so exporting is seeing the answers."""
    return can_see_answers(user, library)
