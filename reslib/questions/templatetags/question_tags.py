"""{% question_body version %}: the body of a question version (stem, choices; answer and analysis only for those
policies.can_see_answers allows), for the bank's pages and for the resource and review pages of a question."""

from django import template

from .. import interchange, policies, services
from ..models import QuestionContent, QuestionType

register = template.Library()
QT = QuestionType


def body(content: QuestionContent, *, show_answers: bool) -> dict:
    """What questions/_question_body.html renders. The stored order of ordering items and of the matches is the
    answer, so those who do not see answers get them in a fixed mixed order."""
    options = list(content.options or [])
    answer = content.answer
    shown, matches = services.as_shown(content, show_answers=show_answers)
    choices = []
    if content.qtype in (QT.SINGLE_CHOICE, QT.MULTIPLE_CHOICE):
        correct = {answer} if content.qtype == QT.SINGLE_CHOICE else set(answer or [])
        choices = [{"letter": chr(ord("A") + i), "text": t, "correct": show_answers and i in correct}
                   for i, t in enumerate(options)]
    return {
        "question": content,
        "qtype_label": QT(content.qtype).label,
        "show_answers": show_answers,
        "choices": choices,
        "items": shown,
        "matches": matches,
        "pairs": list(zip(options, answer or [])) if show_answers and content.qtype == QT.MATCHING else [],
        "blanks": interchange.blank_count(content.stem) if content.qtype == QT.FILL_BLANK else 0,
        "accepted": answer if show_answers and content.qtype == QT.FILL_BLANK else [],
        "true_false": answer if show_answers and content.qtype == QT.TRUE_FALSE else None,
        "reference": answer if show_answers and content.qtype == QT.SHORT_ANSWER else "",
        "analysis": content.analysis if show_answers else "",
    }


@register.inclusion_tag("questions/_question_body.html", takes_context=True)
def question_body(context, version):
    content = QuestionContent.objects.filter(version=version).first()
    if content is None:
        return {"question": None}
    request = context.get("request")
    user = getattr(request, "user", None)
    return body(content, show_answers=user is not None and policies.can_see_answers(user, content))
